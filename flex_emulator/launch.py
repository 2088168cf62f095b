"""``flex-emulator up`` (and ``scripts/run``): the cloud with demo data and two HOME nodes, linked, until Ctrl-C.

For people who installed the package: everything it starts is ``python -m flex_emulator.cloud`` /
``flex_emulator.home`` of the same installation, with its state in ``--data`` (default
``./flex-emulator-data/run``, or ``run-virtual`` with ``--virtual-clock``), kept between runs.
"""

import argparse
import json
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from flex_emulator.cloud.domain.demo import DEMO_ADMIN, DEMO_OPERATOR
from flex_emulator.running import claim, forget, record
from flex_emulator.shared.startup import LOCK_NAME, StartRefused, refuse

DESCRIPTION = "The cloud with demo data and two HOME nodes (Studio A online, OB Van 3 disconnected), until Ctrl-C."
PYTHON = sys.executable
DEFAULT_DATA = Path("flex-emulator-data")
ADMIN = DEMO_ADMIN
OPERATOR = DEMO_OPERATOR


def request(method: str, url: str, body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(
        urllib.request.Request(url, data=data, headers=headers, method=method), timeout=10
    ) as answer:
        return json.loads(answer.read() or b"null")


def wait_ready(ready: Path, process: subprocess.Popen[bytes], name: str) -> str:
    """The URL ``process`` listens at, from its own ready file (never a health check of whatever holds its port)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} stopped during start-up (exit {process.returncode}); see its log above.")
        try:
            return str(json.loads(ready.read_text())["url"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    sys.exit(f"{name} did not start within 30 s.")


def link_homes(cloud: str, homes: list[str]) -> tuple[str, str]:
    """Sign in as the demo admin and link every HOME not linked yet (by its registration code)."""
    signed = request("POST", f"{cloud}/api/v1/auth/token", {"email": ADMIN[0], "password": ADMIN[1]})
    token, account = signed["token"], signed["accounts"][0]["id"]
    linked = {
        item["id"] for item in request("GET", f"{cloud}/api/v1/accounts/{account}/systems", token=token)["systems"]
    }
    for home in homes:
        system = request("GET", f"{home}/api/v1/system")
        if system["system_id"] not in linked:
            request(
                "POST",
                f"{cloud}/api/v1/accounts/{account}/systems",
                {"registration_code": system["registration_code"]},
                token,
            )
        # The inspector reads HOME's journal there; a disconnected HOME has no link to announce it on.
        request("PUT", f"{cloud}/_emulator/systems/{system['system_id']}/home-address", {"url": home})
    return token, account


def wait_online(home: str) -> None:
    """Nudge a just-linked HOME to retry at once (it backs off while not linked) and wait for Online."""
    request("PUT", f"{home}/api/v1/cloud-link", {"enabled": True})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if request("GET", f"{home}/api/v1/system")["cloud"]["state"] == "online":
            return
        time.sleep(0.1)
    sys.stderr.write(f"warning: {home} is not online yet; it keeps retrying.\n")


def check_clock_mode(data: Path, virtual: bool) -> None:
    """One state folder, one kind of clock: a virtual clock that moved ahead cannot come back, so the same state under
    the wall clock would hold terms renewed months ahead of it (and HOME's time mark ahead of its clock); the
    other way round, a fresh virtual clock starts behind what the state has seen."""
    mode = "virtual" if virtual else "wall"
    marker = data / "clock-mode"
    made = marker.read_text().strip() if marker.is_file() else None
    if made is None and (data / "cloud").is_dir():  # state from before the marker: the shared clock file tells
        made = "virtual" if (data / "clock").is_file() else "wall"
    if made not in (None, mode):
        other = "without" if virtual else "with"
        sys.exit(
            f"{data} holds state made {other} --virtual-clock; start it the same way again, "
            "or add --fresh to start over with this clock (or --data for another folder)."
        )
    marker.write_text(mode + "\n")


def add_arguments(parser: argparse.ArgumentParser, default_data: Path) -> None:
    """The options of ``flex-emulator up`` and ``scripts/run``."""
    parser.add_argument(
        "--data",
        type=Path,
        help=f"state folder, kept between runs (default {default_data}/run, or {default_data}/run-virtual with "
        "--virtual-clock)",
    )
    parser.add_argument("--fresh", action="store_true", help="delete the state folder first")
    parser.add_argument(
        "--virtual-clock",
        action="store_true",
        help="one virtual clock for all three, moved with POST /_emulator/clock on the cloud",
    )
    parser.add_argument("--cloud-port", type=int, default=8700)
    parser.add_argument("--home-ports", default="8801,8802", help="Studio A's and OB Van 3's ports")


def main(argv: list[str] | None = None, *, prog: str = "flex-emulator up", default_data: Path = DEFAULT_DATA) -> None:
    """Parse ``argv`` and ``run``."""
    parser = argparse.ArgumentParser(prog=prog, description=DESCRIPTION)
    add_arguments(parser, default_data)
    run(parser.parse_args(argv), prog=prog, default_data=default_data)


def run(args: argparse.Namespace, *, prog: str, default_data: Path) -> None:
    """Run the cloud (with demo data) and two linked HOME nodes until Ctrl-C or SIGTERM."""
    # A shell starts a background job with SIGINT ignored, and Python then never raises KeyboardInterrupt:
    # Ctrl-C, or the SIGINT a test sends, must stop the three services in any case.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.data is None:
        args.data = default_data / ("run-virtual" if args.virtual_clock else "run")
    args.data = args.data.resolve()
    studio_port, van_port = (int(port) for port in args.home_ports.split(","))
    try:  # before anything is created or deleted: nothing runs on this folder or these ports
        hold = claim(args.data, "127.0.0.1", [args.cloud_port, studio_port, van_port])
    except StartRefused as problem:
        refuse(prog, problem)
    if args.fresh:
        for entry in args.data.iterdir():
            if entry.name != LOCK_NAME:
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    check_clock_mode(args.data, args.virtual_clock)
    cloud_url = f"http://127.0.0.1:{args.cloud_port}"
    clock = ["--virtual-clock", "--clock-file", str(args.data / "clock")] if args.virtual_clock else []

    processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(name: str, command: list[str]) -> str:
        """Start one service and wait until it listens; its URL."""
        ready = args.data / f"ready-{name.lower().replace(' ', '-')}.json"
        ready.unlink(missing_ok=True)
        # Own session: Ctrl-C reaches only this launcher, which then stops each child exactly once.
        process = subprocess.Popen([PYTHON, *command, "--ready-file", str(ready)], start_new_session=True)
        processes.append((name, process))
        return wait_ready(ready, process, name)

    def stop_children() -> list[str]:
        """SIGINT each child once and wait; the names of those that did not exit cleanly."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for _name, process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        unclean = []
        for name, process in processes:
            try:
                code = process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            if code != 0:
                unclean.append(f"{name} (exit {code})")
        return unclean

    def stop(*_: object) -> None:
        unclean = stop_children()
        forget(hold)
        sys.exit(f"did not stop cleanly: {', '.join(unclean)}" if unclean else 0)

    signal.signal(signal.SIGTERM, stop)
    try:
        start(
            "cloud",
            [
                "-m",
                "flex_emulator.cloud",
                "--port",
                str(args.cloud_port),
                "--data",
                str(args.data / "cloud"),
                "--demo",
                "--emulator-api",
                *clock,
            ],
        )
        homes = []
        for label, port, extra in (("Studio A", studio_port, []), ("OB Van 3", van_port, ["--offline"])):
            folder = args.data / label.lower().replace(" ", "-")
            url = start(
                label,
                [
                    "-m",
                    "flex_emulator.home",
                    "--port",
                    str(port),
                    "--data",
                    str(folder),
                    "--cloud-url",
                    cloud_url,
                    "--label",
                    label,
                    "--emulator-api",
                    "--cloud-key",
                    str(args.data / "cloud" / "jwks.json"),
                    *clock,
                    *extra,
                ],
            )
            homes.append(url)
        link_homes(cloud_url, homes)
        wait_online(homes[0])
        record(
            hold,
            {"Licensing portal": f"{cloud_url}/", "HOME 'Studio A'": f"{homes[0]}/", "HOME 'OB Van 3'": f"{homes[1]}/"},
        )
        sys.stdout.write(
            "\nflex-emulator is running (Ctrl-C stops all three):\n"
            f"  Licensing portal   {cloud_url}/   sign in as {ADMIN[0]} / {ADMIN[1]}"
            f"  (operator: {OPERATOR[0]} / {OPERATOR[1]})\n"
            f"  HOME 'Studio A'    http://127.0.0.1:{studio_port}/   online\n"
            f"  HOME 'OB Van 3'    http://127.0.0.1:{van_port}/   disconnected (cloud link off)\n"
            f"  Inspector          {cloud_url}/_emulator/inspector   what crosses between them"
            " (flex-emulator demo: a tour)\n"
            f"  State              {args.data}   ({prog} --fresh starts over)\n"
            + ("  Virtual clock      POST /_emulator/clock on the cloud moves all three\n" if clock else "")
        )
        sys.stdout.flush()
        while all(process.poll() is None for _name, process in processes):
            time.sleep(0.5)
        failed = [name for name, process in processes if process.poll() is not None]
        sys.stderr.write(f"{', '.join(failed)} stopped; stopping the rest.\n")
        stop()
    except KeyboardInterrupt:
        stop()
    except BaseException:  # a start-up failure: leave nothing running behind
        stop_children()
        forget(hold)
        raise
