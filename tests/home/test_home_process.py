"""``python -m home`` parses the contract's command line and serves /healthz once ready."""

import asyncio
import json
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flex_emulator.home.__main__ import parse_args
from flex_emulator.shared.keys import jwks


def test_command_line_builds_the_config(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_text(json.dumps(jwks([Ed25519PrivateKey.generate().public_key()])))
    config = parse_args(
        [
            "--port",
            "8802",
            "--data",
            str(tmp_path),
            "--cloud-url",
            "http://127.0.0.1:8700",
            "--label",
            "Studio A",
            "--offline",
            "--emulator-api",
            "--virtual-clock",
            "--cloud-key",
            str(tmp_path / "k.json"),
        ]
    )
    assert (config.port, config.data_dir, config.label, config.offline) == (8802, tmp_path, "Studio A", True)
    assert config.emulator_api and config.virtual_clock
    assert config.cloud_key_file == tmp_path / "k.json"
    bare = parse_args(["--data", str(tmp_path), "--clock-file", str(tmp_path / "clock")])
    assert bare.port == 8801 and bare.label is None and bare.virtual_clock and not bare.offline


def test_an_unreadable_cloud_key_file_is_a_clear_start_up_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(SystemExit):
        parse_args(["--data", str(tmp_path), "--cloud-key", str(tmp_path / "bad.json")])
    assert "not a readable JWK Set" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow  # a real HOME process
async def test_home_process_starts_and_answers_healthz(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "flex_emulator.home",
        "--port",
        str(port),
        "--data",
        str(tmp_path / "data"),
        "--offline",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(15):
                while True:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                            assert await response.json() == {"status": "ok"}
                            break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
            async with session.get(f"http://127.0.0.1:{port}/api/v1/system") as response:
                assert (await response.json())["cloud"]["state"] == "disabled"
    finally:
        process.terminate()
        await process.wait()
    assert (tmp_path / "data" / "home_key.pem").exists()
