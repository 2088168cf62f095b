"""An outsider's first use: build the package, pip-install it (not editable) into a new virtualenv,
copy the README's example into a new project that has packages of its own named ``shared``, ``cloud``
and ``home``, and run it green, in-process and as subprocesses, with the project's packages untouched.

The new virtualenv borrows this one's third-party packages through a ``.pth`` path line (so no
download is needed beyond the build backend); the package itself comes only from the built wheel."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("## Use it in your tests", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's 'Use it in your tests' section has no python example"
    return match.group(1)


def run(args: list[str], cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "PYTHON"))}
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow  # builds and installs a wheel
def test_readme_example_runs_green_from_a_wheel_in_a_new_virtualenv(tmp_path: Path) -> None:
    source = tmp_path / "source"
    files = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], ROOT).split()
    for name in files:
        if (ROOT / name).is_symlink():  # flex_emulator/cloud -> ../cloud, ...
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).symlink_to(os.readlink(ROOT / name))
        elif (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
        tmp_path,
    )
    [wheel] = (tmp_path / "dist").glob("flex_emulator-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path).strip())
    (site / "borrowed.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )  # path line only: its .pth files stay unread
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        tmp_path,
    )

    with zipfile.ZipFile(wheel) as archive:
        roots = {
            name.split("/", 1)[0] for name in archive.namelist() if not name.split("/", 1)[0].endswith(".dist-info")
        }
    assert roots == {"flex_emulator"}, roots
    with zipfile.ZipFile(wheel) as archive:
        inspector = {"cloud/emulator/static/inspector.js", "cloud/emulator/static/inspector.css"}
        inspector |= {"cloud/templates/inspector.html"}
        assert {f"flex_emulator/{name}" for name in inspector} <= set(archive.namelist())
    assert "demo" in run([str(env_dir / "bin" / "flex-emulator"), "--help"], tmp_path)

    project = tmp_path / "project"
    for package in ("shared", "cloud", "home"):  # very common names: the user's own packages
        (project / package).mkdir(parents=True)
        (project / package / "__init__.py").write_text(f"OWNER = 'the user project: {package}'\n")
    (project / "test_from_readme.py").write_text(readme_example())
    (project / "test_own_packages.py").write_text(USER_TESTS)
    where = run([str(python), "-c", "import flex_emulator; print(flex_emulator.__file__)"], project)
    assert where.startswith(str(site)), where
    output = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert "4 passed" in output, output


USER_TESTS = """
import pytest

import cloud
import home
import shared


def test_a_world_in_process_leaves_the_projects_packages_alone(flex_world):
    account = flex_world.create_account(subscriptions=[4])
    studio = flex_world.start_home("Studio A", account=account)
    account.assign(studio, 2)
    studio.settle()
    assert studio.credits()["total"] == 2
    import shared as again
    assert again is shared and shared.OWNER == "the user project: shared"


@pytest.mark.flex_world(mode="subprocess")
def test_a_world_of_subprocesses_leaves_the_projects_packages_alone(flex_world):
    account = flex_world.create_account(subscriptions=[4])
    van = flex_world.start_home("OB Van 3", account=account, online=False)
    account.assign(van, 1)
    assert van.upload(account.download(van))["result"] == "applied"
    assert (cloud.OWNER, home.OWNER) == ("the user project: cloud", "the user project: home")


def test_the_projects_own_packages_are_its_own():
    assert shared.OWNER == "the user project: shared"
    assert "site-packages" not in shared.__file__
"""


def test_readme_example_is_the_quickstart_example_the_suite_runs() -> None:
    assert readme_example() in (ROOT / "docs" / "examples" / "test_quickstart.py").read_text()
