"""``python -m home.fleet``: run many HOME nodes in one process, optionally linking them all to an account."""

import argparse
import os
import sys
from pathlib import Path

from flex_emulator.home.fleet.api import create_fleet_app
from flex_emulator.home.fleet.config import FleetConfig
from flex_emulator.home.fleet.linking import LinkingError
from flex_emulator.shared.clock import Clock, VirtualClock, WallClock
from flex_emulator.shared.journal import DEFAULT_KEEP
from flex_emulator.shared.logging import configure_logging
from flex_emulator.shared.serve import run
from flex_emulator.shared.startup import StartRefused, bind_port, hold_folder, refuse


def parse_args(argv: list[str] | None = None) -> tuple[FleetConfig, Path | None]:
    parser = argparse.ArgumentParser(
        prog="python -m flex_emulator.home.fleet", description="Run many emulated HOME nodes in one process."
    )
    parser.add_argument(
        "--count", type=int, required=True, help="how many HOME nodes (each keeps its folder DATA/node-NNNNN)"
    )
    parser.add_argument("--data", type=Path, required=True, help="the fleet's folder")
    parser.add_argument("--cloud-url", default="http://127.0.0.1:8700")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900, help="the fleet's one HTTP server (0: a free port)")
    parser.add_argument("--label-prefix", default="Fleet", help='labels are "PREFIX 00001", ...')
    parser.add_argument("--offline", action="store_true", help="start every node with its cloud link switched off")
    parser.add_argument("--virtual-clock", action="store_true")
    parser.add_argument("--clock-file", type=Path, help="share a virtual clock through this file (as scripts/run does)")
    parser.add_argument(
        "--cloud-key", type=Path, help="a JWK Set file with the cloud keys to trust (default: fetched once)"
    )
    parser.add_argument("--link-email", help="link every node to this admin's account on start")
    parser.add_argument("--link-password", help="the admin's password (or set FLEX_FLEET_PASSWORD)")
    parser.add_argument("--link-token", help="link with this bearer token instead (or set FLEX_FLEET_TOKEN)")
    parser.add_argument("--account", help="the account to link to (default: the admin's first)")
    parser.add_argument("--connect-concurrency", type=int, default=64, help="links in their handshake at once")
    parser.add_argument("--ready-file", type=Path, help='once ready, write {"url", "pid"} here')
    parser.add_argument(
        "--journal-keep",
        type=int,
        default=DEFAULT_KEEP,
        metavar="N",
        help=f"each node's event journal keeps the newest N events (default {DEFAULT_KEEP:,}; 0 keeps all)",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    password = args.link_password or os.environ.get("FLEX_FLEET_PASSWORD")
    if args.link_email and not password:
        parser.error("--link-email needs --link-password (or FLEX_FLEET_PASSWORD)")
    config = FleetConfig(
        data_dir=args.data,
        count=args.count,
        cloud_url=args.cloud_url,
        host=args.host,
        port=args.port,
        label_prefix=args.label_prefix,
        offline=args.offline,
        virtual_clock=args.virtual_clock or args.clock_file is not None,
        clock_file=args.clock_file,
        cloud_key_file=args.cloud_key,
        connect_concurrency=max(1, args.connect_concurrency),
        log_level=args.log_level,
        link_token=args.link_token or os.environ.get("FLEX_FLEET_TOKEN"),
        link_email=args.link_email,
        link_password=password,
        link_account=args.account,
        journal_keep=args.journal_keep,
    )
    return config, args.ready_file


def make_clock(config: FleetConfig) -> Clock:
    return VirtualClock(path=config.clock_file) if config.virtual_clock else WallClock()


def main(argv: list[str] | None = None) -> None:
    config, ready_file = parse_args(argv)
    try:
        sock = bind_port(config.host, config.port)
        hold_folder(config.data_dir)
    except StartRefused as problem:
        refuse("flex fleet", problem)
    configure_logging(config.log_level)
    try:
        run(create_fleet_app(config, make_clock(config)), config.host, config.port, ready_file, sock=sock)
    except LinkingError as exc:
        sys.exit(f"flex fleet: {exc}")


if __name__ == "__main__":
    main()
