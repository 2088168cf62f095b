"""``flex-emulator demo`` (and ``scripts/demo``): a narrated tour of online and disconnected transfer.

It drives the services ``scripts/run`` started (the demo account, "Studio A" online, "OB Van 3"
disconnected) through their public HTTP APIs, one step at a time at a pace a person can follow,
and prints one sentence per step saying what happened and what to look at in the inspector.
"""

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TextIO

from flex_emulator import answers
from flex_emulator._sync.client import CloudClient, HomeClient
from flex_emulator.cloud.domain.demo import DEMO_ADMIN
from flex_emulator.transport import ApiError

ONLINE_WAIT_SECONDS = 15.0
AUTO_REVOKE_AFTER = timedelta(hours=1)


class TourError(Exception):
    """The tour cannot go on; the message says why, in a sentence."""


def when(text: str | None) -> str:
    if not text:
        return "later"
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    return moment.strftime("%d %b %Y %H:%M UTC")


@dataclass
class Tour:
    cloud: CloudClient
    studio: HomeClient
    van: HomeClient
    pause: float = 3.0
    out: TextIO = sys.stdout
    sleep: Callable[[float], None] = time.sleep
    step_number: int = 0

    # --- saying it ---------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def step(self, text: str) -> None:
        """One step done: say it, then give the person time to look."""
        self.step_number += 1
        self.say(f"{self.step_number:>2}. {text}")
        self.sleep(self.pause)

    def inspector(self, system_id: str) -> str:
        return f"{self.cloud.url}/_emulator/inspector?system={system_id}"

    # --- the tour ------------------------------------------------------------------------------------

    def run(self) -> None:
        account, monthly, studio_id, van_id = self.prepare()
        self.say("A tour of online and disconnected credit transfer. Watch it in the inspector, one tab per system:")
        self.say(f"  Studio A (online):        {self.inspector(studio_id)}")
        self.say(f"  OB Van 3 (disconnected):  {self.inspector(van_id)}")
        self.sleep(self.pause * 2)
        self.online(account, monthly, studio_id)
        self.disconnected(account, monthly, van_id)
        self.time(account, monthly, van_id)
        self.say()
        self.say(
            "That is the difference: online, HOME's signed proof came back over the link by itself, so the revoke "
            "was instant; disconnected, a person carried the file to HOME and HOME's revoke key back to the portal."
        )

    def prepare(self) -> tuple[str, answers.Subscription, str, str]:
        """Sign in as the demo admin, find the two systems, and put each link the way the tour needs it."""
        try:
            signed = self.cloud.sign_in(*DEMO_ADMIN)
        except (OSError, ApiError) as exc:
            raise TourError(
                f"Cannot sign in to the cloud at {self.cloud.url} as the demo admin ({exc}): start scripts/run first."
            ) from None
        self.cloud = self.cloud.with_token(signed["token"])
        account = signed["accounts"][0]["id"]
        systems = {item["label"]: item["id"] for item in self.cloud.systems(account)}
        if "Studio A" not in systems or "OB Van 3" not in systems:
            raise TourError("The demo account has no Studio A and OB Van 3: start them with scripts/run.")
        monthly = next(
            (sub for sub in self.cloud.subscriptions(account) if sub["selectable"] and sub["credits_available"] >= 3),
            None,
        )
        if monthly is None:
            raise TourError(
                "No subscription of the demo account has 3 credits left: start over with scripts/run --fresh."
            )
        for label, home in (("Studio A", self.studio), ("OB Van 3", self.van)):
            try:
                told = home.system()
            except (OSError, ApiError) as exc:
                raise TourError(f"HOME {label} does not answer at {home.url} ({exc}).") from None
            if told["system_id"] != systems[label]:
                raise TourError(f"The HOME at {home.url} is not {label}: give its address with --studio or --van.")
            # The inspector reads each HOME's journal at its address (a HOME with its link off cannot announce it).
            self.cloud.call("PUT", f"/_emulator/systems/{told['system_id']}/home-address", json={"url": home.url})
        self.van.set_cloud_link(False)
        self.studio.set_cloud_link(True)
        deadline = time.monotonic() + ONLINE_WAIT_SECONDS
        while self.studio.system()["cloud"]["state"] != "online":
            if time.monotonic() > deadline:
                raise TourError("Studio A does not come online: is the cloud's link to it cut? (see its inspector)")
            self.sleep(0.1)
        self.cloud.settled(systems["Studio A"])
        return account, monthly, systems["Studio A"], systems["OB Van 3"]

    def online(self, account: str, monthly: answers.Subscription, studio: str) -> None:
        self.say()
        self.say("Online: Studio A's link to the cloud is up (its inspector tab).")
        order = monthly["order_id"]
        item = self.cloud.assign(account, studio, monthly["id"], 2)
        seq = self.cloud.settled(studio)["acked_seq"]
        self.step(
            f"Assigned 2 credits from {order} to Studio A: the cloud signed credits file {seq} and pushed it over the "
            f"link, and Studio A applied it and sent receipt {seq} back, all within milliseconds."
        )
        self.step(
            f'Open "Pushed credits file {seq}" and "Sent receipt {seq}": the cloud\'s signed snapshot and HOME\'s '
            "signed receipt, each marked verified with the key that made it."
        )
        self.cloud.revoke(account, studio, item["id"])
        seq = self.cloud.settled(studio)["acked_seq"]
        available = self.cloud.subscription(account, monthly["id"])["credits_available"]
        self.step(
            f"Revoked them: the cloud pushed credits file {seq} without them, Studio A's receipt {seq} proves it "
            f"dropped them, and they were back in {order} at once ({available:g} credits available)."
        )

    def disconnected(self, account: str, monthly: answers.Subscription, van: str) -> None:
        self.say()
        self.say("Disconnected: OB Van 3's link is off, so a person carries everything (its inspector tab).")
        item = self.cloud.assign(account, van, monthly["id"], 1.5)
        self.step("Assigned 1.5 credits to OB Van 3: only the cloud's lane moves; nothing can cross by itself.")
        first = self.cloud.download(account, van)
        seq = self.cloud.system(account, van)["system"].get("seq", 0)
        self.step(f'Downloaded credits file {seq} for OB Van 3: "Credits file {seq} downloaded" crosses by hand.')
        self.van.upload(first)
        self.step(
            f"Uploaded it on OB Van 3: HOME checked the cloud's signature, applied file {seq} "
            f"and now shows revoke key {seq}."
        )
        pending = self.cloud.revoke(account, van, item["id"])
        latest = when(pending["returns_at"])
        self.step(
            "Revoked the 1.5 credits: they stay counted, because the cloud cannot know whether OB Van 3 dropped "
            f"them, until HOME proves it or every copy it may hold has ended (at the latest {latest})."
        )
        self.van.upload(self.cloud.download(account, van))
        key = self.van.credits()["revoke_key"] or ""
        seq = self.cloud.system(account, van)["system"].get("seq", 0)
        self.step(
            f"Downloaded credits file {seq} (without them) and uploaded it on OB Van 3: it shows revoke key {seq}, "
            "its signed proof of what it holds now."
        )
        returned = self.cloud.enter_revoke_key(account, van, key)
        self.step(
            f"Entered revoke key {seq} in the portal: the cloud verified OB Van 3's signature and returned "
            f"{returned['credits_returned']:g} credits to {monthly['order_id']}."
        )
        again = self.cloud.enter_revoke_key(account, van, key)
        gave = "nothing" if not again["returned"] else f"{again['credits_returned']:g} credits"
        self.step(f"Entered the same key again: it returned {gave}, as each proof returns credits once.")

    def time(self, account: str, monthly: answers.Subscription, van: str) -> None:
        self.say()
        clock = self.cloud.clock()
        if not clock.get("virtual"):
            self.say(
                "The clock is the wall clock, so the tour leaves out Auto Revoke: start scripts/run --virtual-clock "
                "to see each side end credits by its own clock."
            )
            return
        self.say("Time: one virtual clock for all three (scripts/run --virtual-clock), each side acting by it alone.")
        now = datetime.fromisoformat(str(clock["now"]).replace("Z", "+00:00"))
        ends = (now + AUTO_REVOKE_AFTER).strftime("%Y-%m-%dT%H:%M:%SZ")
        item = self.cloud.assign(account, van, monthly["id"], 1, auto_revoke_at=ends)
        self.van.upload(self.cloud.download(account, van))
        self.step(f"Assigned 1 credit to OB Van 3 with an Auto Revoke at {when(ends)} and carried its file over.")
        moved = self.cloud.call(
            "POST", f"/_emulator/systems/{van}/clock", json={"advance_seconds": (AUTO_REVOKE_AFTER * 1.2).seconds}
        )
        ended = next(a for a in self.cloud.system(account, van)["assignments"] if a["id"] == item["id"])
        returned = (
            f"the cloud returned it at {when(ended['ended_at'])}, 5 minutes later (the clock skew HOME is allowed)"
            if ended["ended_at"]
            else "the cloud has not returned it yet"
        )
        self.step(
            f"Moved the clock to {when(moved['cloud']['now'])}: OB Van 3 dropped the credit at its Auto Revoke by "
            f"its own clock, and {returned}; nothing crossed."
        )
