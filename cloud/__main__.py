"""``python -m cloud``: run the licensing cloud emulator."""

import argparse
import sys
from pathlib import Path

import structlog

from flex_emulator.cloud.app import create_app
from flex_emulator.cloud.config import Config
from flex_emulator.shared.journal import DEFAULT_KEEP
from flex_emulator.shared.logging import configure_logging
from flex_emulator.shared.serve import run
from flex_emulator.shared.startup import StartRefused, bind_port, hold_folder, refuse


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="flex-cloud", description="Lawo Flex style licensing cloud emulator.")
    parser.add_argument("--port", type=int, default=8700, help="0 picks a free port (see --ready-file)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--data", type=Path, required=True, help="folder for the database and keys (created when missing)"
    )
    parser.add_argument(
        "--database",
        help="postgresql://USER@HOST:PORT/DB: keep the cloud there (needs flex-emulator[postgres]); every cloud "
        "process given the same database is one cloud. Default: cloud.sqlite3 in --data",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="start this many cloud processes on one port (SO_REUSEPORT); needs --database",
    )
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # set for each worker
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
    if args.database is not None and not args.database.startswith(("postgresql://", "postgres://")):
        parser.error("--database must be a postgresql:// URL")
    if args.workers < 1 or (args.workers > 1 and args.database is None):
        parser.error("--workers N (N > 1) needs --database: several processes share a PostgreSQL database")
    configure_logging(args.log_level)
    return Config(
        data_dir=args.data,
        database=args.database,
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
    ), args


def main(argv: list[str] | None = None) -> None:
    config, args = parse_args(argv)
    if args.workers > 1:
        from flex_emulator.cloud.workers import run_workers

        try:
            hold_folder(config.data_dir)
        except StartRefused as problem:
            refuse("flex-cloud", problem)
        raw = list(sys.argv[1:] if argv is None else argv)
        sys.exit(run_workers(args.workers, raw, config.host, config.port, config.data_dir, config.ready_file))
    try:
        sock = bind_port(config.host, config.port, reuse_port=args.reuse_port)
        hold_folder(config.data_dir)
    except StartRefused as problem:
        refuse("flex-cloud", problem)
    structlog.get_logger().info("cloud_starting", host=config.host, port=config.port, data=str(config.data_dir))
    run(create_app(config), config.host, config.port, config.ready_file, shutdown_timeout=5, sock=sock)


if __name__ == "__main__":
    main()
