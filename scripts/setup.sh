#!/usr/bin/env bash
# Create .venv (Python 3.11) and install the package with its test extras. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
  echo "Python 3.11 or 3.12 is needed (found $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
# espeak-ng: the other voices of the transcription development set (mrt_eval/transcribe/devset.py)
if ! command -v espeak-ng >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  $SUDO apt-get install -y -q espeak-ng >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q espeak-ng >/dev/null 2>&1; } \
    || echo "espeak-ng could not be installed: the transcription development set (mrt bench transcribe --split) needs it" >&2
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.mrt-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip wheel setuptools
  # torch first: the CPU build (on this project's machines a local wheel; elsewhere add
  # --index-url https://download.pytorch.org/whl/cpu, see README)
  # --no-compile: Python compiles what it imports on first use; compiling every installed file up
  # front (compileall of the installed packages: 55 s on a slow 2-core VM) is not needed to run
  .venv/bin/python -m pip install --quiet --no-compile "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  .venv/bin/python -m pip install --quiet --no-compile -e ".[test]"
  touch "$stamp"
fi
# axe-core for the accessibility browser test (tests/test_review_a11y.py), from the npm registry, pinned
if command -v npm >/dev/null 2>&1 && [ ! -f tests/a11y/node_modules/axe-core/axe.min.js ]; then
  npm install --prefix tests/a11y --no-audit --no-fund --silent || echo "npm install of axe-core failed: the accessibility test will skip" >&2
fi
