# Sourced by scripts/*: make sure .venv exists and matches pyproject.toml (needs only Python 3.11+).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "flex-emulator needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2
  exit 1
fi
STAMP=.venv/.installed-from
if [ ! -x .venv/bin/python ] || [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  echo "Setting up .venv (first run, or pyproject.toml changed)..." >&2
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e '.[test]' >&2
  cp pyproject.toml "$STAMP"
fi
