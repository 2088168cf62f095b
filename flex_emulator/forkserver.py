"""A fork server for service processes: ``python -m flex_emulator.forkserver``.

It imports the cloud and HOME once, then forks one process per request read from stdin
(``{"module", "argv", "log"}`` as a JSON line) and answers with the child's pid. Each child runs
the service's own ``main(argv)``, exactly as ``python -m flex_emulator.cloud|home ARGV`` would, without paying
Python's and aiohttp's import time again. It stops when its stdin closes.
"""

import contextlib
import ctypes
import json
import os
import signal
import sys
import traceback

from flex_emulator.cloud import __main__ as cloud_main
from flex_emulator.home import __main__ as home_main

PR_SET_PDEATHSIG = 1
MAINS = {"flex_emulator.cloud": cloud_main.main, "flex_emulator.home": home_main.main}


def end_with_parent() -> None:
    """Linux: a service stops (SIGTERM) when the fork server ends, which it does when the test run
    that started it ends, even one killed outright; so no service outlives its test run."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def child(module: str, argv: list[str], log_path: str) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    end_with_parent()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    code = 0
    try:
        MAINS[module](argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children: no zombies
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request["module"], request["argv"], request["log"])
        sys.stdout.write(f"{pid}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
