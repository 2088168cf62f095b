"""Write flex_emulator's blocking API from its async one: flex_emulator/_async/*.py -> flex_emulator/_sync/*.py.

The async modules are the source; never edit the _sync ones by hand. ``--check`` exits 1 when they are stale
(a test runs it). The same idea as the ``unasync`` tool httpcore uses: one code path, two faces."""

import argparse
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "flex_emulator"
HEADER = "# Generated from flex_emulator/_async/{name} by scripts/unasync.py: edit that file, then run the script.\n"
REPLACEMENTS = (
    ("flex_emulator._async.", "flex_emulator._sync."),
    ("AsyncCloudClient", "CloudClient"),
    ("AsyncHomeClient", "HomeClient"),
    ("_AsyncBase", "_Base"),
    ("_AsyncService", "_Service"),
    ("AsyncTransport", "Transport"),
    ("AsyncServers", "Servers"),
    ("make_async_servers", "make_servers"),
    ("AsyncAccount", "Account"),
    ("AsyncHome", "Home"),
    ("AsyncWorld", "World"),
    ("AsyncIterator", "Iterator"),
    ("asynccontextmanager", "contextmanager"),
    ("asyncio.get_running_loop().time()", "time.monotonic()"),
    ("asyncio.sleep", "time.sleep"),
    ("import asyncio\n", "import time\n"),
    ("async def ", "def "),
    ("async with ", "with "),
    ("async for ", "for "),
    ("await ", ""),
)


def unasync(source: str) -> str:
    for old, new in REPLACEMENTS:
        source = source.replace(old, new)
    return "".join(_once_each(line) for line in source.splitlines(keepends=True))


def _once_each(line: str) -> str:
    """A one-line ``from ... import`` naming a name twice (``AsyncIterator, Iterator`` become ``Iterator,
    Iterator``) names it once."""
    head, found, names = line.partition(" import ")
    if not found or not head.startswith("from ") or "(" in names:
        return line
    listed = [name.strip() for name in names.split(",")]
    return f"{head} import {', '.join(dict.fromkeys(listed))}\n" if len(set(listed)) < len(listed) else line


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/unasync.py", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only check that the _sync modules are up to date")
    args = parser.parse_args()
    stale = []
    (PACKAGE / "_sync").mkdir(exist_ok=True)
    for source in sorted((PACKAGE / "_async").glob("*.py")):
        target = PACKAGE / "_sync" / source.name
        text = source.read_text()
        wanted = text if source.name == "__init__.py" else HEADER.format(name=source.name) + unasync(text)
        if not target.exists() or target.read_text() != wanted:
            stale.append(target)
            if not args.check:
                target.write_text(wanted)
    if args.check and stale:
        print("stale (run scripts/unasync.py): " + ", ".join(str(path) for path in stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
