"""The credits bar graph on Licenses → Credits: plain geometry for an inline SVG, no JavaScript."""

from dataclasses import dataclass

from flex_emulator.home.domain.holdings import Day, renewal_words
from flex_emulator.home.domain.wording import credits_of
from flex_emulator.shared.quarters import format_credits

WIDTH = 760
HEIGHT = 220
LEFT = 44  # room for the credit axis labels
BOTTOM = 28  # room for the day/month labels
TOP = 10
RIGHT = 8


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    valid_y: float
    valid_height: float
    renewable_y: float
    renewable_height: float
    label: str  # day and month as the pages write dates, e.g. 28 Nov
    show_label: bool
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Graph:
    width: int
    height: int
    left: int
    top: int
    base_y: float
    plot_width: float
    bars: list[Bar]
    ticks: list[Tick]
    summary: str
    empty: bool  # no day has credits: the page says so instead of drawing an empty axis
    continues: str  # what the second colour means: renewed at check-in (online) or by a newer file


def _nice_ceiling(quarters: int) -> int:
    """A round top for the credit axis, in quarters (at least one credit)."""
    credits = max(1.0, quarters / 4)
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if credits <= step:
            return step * 4
    return int(credits + 1) * 4


def bar_graph(days: list[Day], online: bool) -> Graph:
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    base_y = TOP + plot_height
    top = _nice_ceiling(max((day.valid + day.renewable for day in days), default=0))
    slot = plot_width / max(1, len(days))
    continues = renewal_words(online)
    later = continues.removeprefix("Continues ")
    bars = []
    for index, day in enumerate(days):
        valid_height = plot_height * day.valid / top
        renewable_height = plot_height * day.renewable / top
        label = f"{day.date:%d %b}"
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.15, 2),
                width=round(slot * 0.7, 2),
                valid_y=round(base_y - valid_height, 2),
                valid_height=round(valid_height, 2),
                renewable_y=round(base_y - valid_height - renewable_height, 2),
                renewable_height=round(renewable_height, 2),
                label=label,
                show_label=index % 7 == 0 or (index == len(days) - 1 and index % 7 > 3),
                title=(
                    f"{day.date.strftime('%a %d %b')}: {credits_of(day.valid)} valid"
                    + (f", {format_credits(day.renewable)} more {later}" if day.renewable else "")
                ),
            )
        )
    ticks = [Tick(round(base_y - plot_height * n / 4, 2), format_credits(top * n // 4)) for n in range(5)]
    first, last = (days[0], days[-1]) if days else (None, None)
    summary = (
        f"Credits valid per day from {first.date:%d %b} to {last.date:%d %b %Y}; "
        f"today {format_credits(first.valid)} valid."
        if first and last
        else "No days to show."
    )
    empty = not any(day.valid or day.renewable for day in days)
    return Graph(WIDTH, HEIGHT, LEFT, TOP, base_y, plot_width, bars, ticks, summary, empty, continues)
