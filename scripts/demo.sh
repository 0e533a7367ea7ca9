#!/usr/bin/env bash
# Set up, then run the whole pipeline on the sample dictations: proposed codes out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/mrt process samples/ "$@"
