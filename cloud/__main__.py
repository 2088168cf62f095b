"""``python -m cloud``: run the licensing cloud emulator."""

import argparse
from pathlib import Path

import structlog

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.shared.journal import DEFAULT_KEEP
from flex_emulator.shared.logging import configure_logging
from flex_emulator.shared.serve import run
from flex_emulator.shared.startup import StartRefused, bind_port, hold_folder, refuse


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(prog="flex-cloud", description="Lawo Flex style licensing cloud emulator.")
    parser.add_argument("--port", type=int, default=8700, help="0 picks a free port (see --ready-file)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--data", type=Path, required=True, help="folder for the database and keys (created when missing)"
    )
    parser.add_argument("--demo", action="store_true", help="seed a demo account into a new database")
    parser.add_argument("--emulator-api", action="store_true", help="enable the /_emulator/ control routes")
    parser.add_argument("--virtual-clock", action="store_true", help="time moves only through /_emulator/clock")
    parser.add_argument("--clock-file", type=Path, help="keep the virtual clock in this file, shared with HOME nodes")
    parser.add_argument("--ready-file", type=Path, help='once listening, write {"url", "pid"} to this file')
    parser.add_argument(
        "--cheap-passwords",
        action="store_true",
        help="users made through /_emulator/ get a cheap password hash (fast test worlds; never for real passwords)",
    )
    parser.add_argument(
        "--inspector-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a host other than this machine's loopback where the inspector may read HOME journals (repeatable)",
    )
    parser.add_argument(
        "--journal-keep",
        type=int,
        default=DEFAULT_KEEP,
        metavar="N",
        help=f"the event journal keeps the newest N events (default {DEFAULT_KEEP:,}; 0 keeps all)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    return Config(
        data_dir=args.data,
        host=args.host,
        port=args.port,
        demo=args.demo,
        emulator_api=args.emulator_api,
        virtual_clock=args.virtual_clock,
        clock_file=args.clock_file,
        ready_file=args.ready_file,
        cheap_passwords=args.cheap_passwords,
        inspector_hosts=tuple(args.inspector_host),
        journal_keep=args.journal_keep,
    )


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    try:
        sock = bind_port(config.host, config.port)
        hold_folder(config.data_dir)
    except StartRefused as problem:
        refuse("flex-cloud", problem)
    structlog.get_logger().info("cloud_starting", host=config.host, port=config.port, data=str(config.data_dir))
    run(create_app(config), config.host, config.port, config.ready_file, shutdown_timeout=5, sock=sock)


if __name__ == "__main__":
    main()
