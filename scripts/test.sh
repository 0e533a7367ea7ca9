#!/usr/bin/env bash
# Set up, then run the test suite (real models, real databases, real media).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
