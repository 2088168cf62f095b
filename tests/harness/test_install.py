"""An outsider's first use: build the package, pip-install it (not editable) into a new virtualenv,
copy the README's example into a new project and run it green.

The new virtualenv borrows this one's third-party packages through a ``.pth`` path line (so no
download is needed beyond the build backend); the package itself comes only from the built wheel."""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

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


def test_readme_example_runs_green_from_a_wheel_in_a_new_virtualenv(tmp_path: Path) -> None:
    source = tmp_path / "source"
    files = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], ROOT).split()
    for name in files:
        if (ROOT / name).is_file():
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

    project = tmp_path / "project"
    project.mkdir()
    (project / "test_from_readme.py").write_text(readme_example())
    where = run(
        [
            str(python),
            "-c",
            "import flex_emulator, cloud, home; print(flex_emulator.__file__, cloud.__file__, home.__file__)",
        ],
        project,
    )
    assert all(path.startswith(str(site)) for path in where.split()), where
    output = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_from_readme.py"], project)
    assert "1 passed" in output, output


def test_readme_example_is_the_quickstart_example_the_suite_runs() -> None:
    assert readme_example() in (ROOT / "docs" / "examples" / "test_quickstart.py").read_text()
