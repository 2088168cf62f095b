"""``flex-emulator``: the project's command for a person at a terminal, one subcommand per task.

flex-emulator up [--fresh] [--virtual-clock] [--data DIR] [--cloud-port N] [--home-ports N,M]
flex-emulator demo [--cloud URL] [--studio URL] [--van URL] [--pause SECONDS] [--fast]
"""

import argparse
import sys
from collections.abc import Callable

from flex_emulator._sync.client import CloudClient, HomeClient
from flex_emulator.transport import ApiError


def demo(args: argparse.Namespace) -> int:
    """The narrated tour of online and disconnected transfer, against running services (scripts/run)."""
    from flex_emulator.tour import Tour, TourError

    tour = Tour(
        CloudClient(args.cloud),
        HomeClient(args.studio),
        HomeClient(args.van),
        pause=0.0 if args.fast else args.pause,
    )
    try:
        tour.run()
    except (TourError, ApiError) as exc:
        sys.stderr.write(f"flex-emulator demo: {exc}\n")
        return 1
    return 0


def up(args: argparse.Namespace) -> int:
    """The cloud with demo data and two linked HOME nodes, until Ctrl-C: what scripts/run does in a checkout."""
    from flex_emulator import launch

    launch.run(args, prog="flex-emulator up", default_data=launch.DEFAULT_DATA)
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line: one subparser per subcommand."""
    main = argparse.ArgumentParser(prog="flex-emulator", description="flex-emulator: a licensing cloud and HOME nodes.")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from flex_emulator import launch

    running = commands.add_parser(
        "up",
        help="the cloud with demo data and two HOME nodes, linked, until Ctrl-C (state in ./flex-emulator-data/)",
        description=launch.DESCRIPTION,
    )
    launch.add_arguments(running, launch.DEFAULT_DATA)
    running.set_defaults(run=up)
    tour = commands.add_parser(
        "demo",
        help="a narrated tour of online and disconnected transfer (start flex-emulator up or scripts/run first)",
        description="Walks the demo account of a running scripts/run through an online and a disconnected "
        "transfer, one step at a time, saying what to look at in the inspector (/_emulator/inspector).",
    )
    tour.add_argument("--cloud", default="http://127.0.0.1:8700", help="the cloud (default: scripts/run's)")
    tour.add_argument("--studio", default="http://127.0.0.1:8801", help='HOME "Studio A" (online)')
    tour.add_argument("--van", default="http://127.0.0.1:8802", help='HOME "OB Van 3" (disconnected)')
    tour.add_argument("--pause", type=float, default=3.0, help="seconds to look at each step (default 3)")
    tour.add_argument("--fast", action="store_true", help="no pauses (for tests)")
    tour.set_defaults(run=demo)
    return main


def main(argv: list[str] | None = None) -> None:
    """Run one subcommand; its exit status is the process's."""
    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    sys.exit(run(args))


if __name__ == "__main__":
    main()
