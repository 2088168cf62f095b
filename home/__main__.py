"""``python -m home`` / ``flex-home``: run one HOME node."""

import argparse
from pathlib import Path

from flex_emulator.home.app import create_app, make_clock
from flex_emulator.home.appkeys import LINK
from flex_emulator.home.config import Config
from flex_emulator.home.domain.trust import TrustError, read_key_file
from flex_emulator.shared.journal import DEFAULT_KEEP
from flex_emulator.shared.logging import configure_logging
from flex_emulator.shared.serve import run
from flex_emulator.shared.startup import StartRefused, bind_port, hold_folder, refuse


def parse_args(argv: list[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(prog="flex-home", description="Run an emulated HOME node.")
    parser.add_argument("--port", type=int, default=8801, help="0 picks a free port (see --ready-file)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", type=Path, required=True, help="folder for the database and the HOME key")
    parser.add_argument("--cloud-url", default="http://127.0.0.1:8700", help="the licensing cloud's address")
    parser.add_argument("--label", help='this system\'s label (default "HOME"; kept after the first start)')
    parser.add_argument("--offline", action="store_true", help="start with the cloud link switched off")
    parser.add_argument("--emulator-api", action="store_true", help="enable the /_emulator/ control routes")
    parser.add_argument("--virtual-clock", action="store_true", help="make time settable via /_emulator/clock")
    parser.add_argument("--cloud-key", type=Path, help="a JWK Set file with the cloud keys to trust")
    parser.add_argument("--clock-file", type=Path, help="share a virtual clock through this file")
    parser.add_argument("--ready-file", type=Path, help='once listening, write {"url", "pid"} to this file')
    parser.add_argument(
        "--journal-keep",
        type=int,
        default=DEFAULT_KEEP,
        metavar="N",
        help=f"the event journal keeps the newest N events (default {DEFAULT_KEEP:,}; 0 keeps all)",
    )
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.cloud_key is not None:
        try:
            read_key_file(args.cloud_key)
        except TrustError as exc:
            parser.error(str(exc))
    return Config(
        host=args.host,
        port=args.port,
        data_dir=args.data,
        cloud_url=args.cloud_url,
        label=args.label,
        offline=args.offline,
        emulator_api=args.emulator_api,
        virtual_clock=args.virtual_clock or args.clock_file is not None,
        cloud_key_file=args.cloud_key,
        clock_file=args.clock_file,
        log_level=args.log_level,
        ready_file=args.ready_file,
        journal_keep=args.journal_keep,
    )


def main(argv: list[str] | None = None) -> None:
    config = parse_args(argv)
    try:
        sock = bind_port(config.host, config.port)
        hold_folder(config.data_dir)
    except StartRefused as problem:
        refuse("flex-home", problem)
    configure_logging(config.log_level)
    app = create_app(config, make_clock(config))
    run(app, config.host, config.port, config.ready_file, on_listening=app[LINK].announce, sock=sock)


if __name__ == "__main__":
    main()
