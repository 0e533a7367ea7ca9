#!/usr/bin/env bash
# Set up, then run the test suite (real models, real databases, real media).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The browser tests drive Debian's Chromium (Playwright cannot download browsers here); the
# accessibility test reads axe-core from the npm registry (Debian's npm where it is missing).
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
for pkg in chromium npm; do
  if ! command -v "$pkg" >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get install -y -q "$pkg" >/dev/null 2>&1 || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q "$pkg" >/dev/null 2>&1; } \
      || echo "setup: could not install $pkg; its tests will be skipped" >&2
  fi
done
if [ ! -d tests/a11y/node_modules/axe-core ] && command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/a11y --no-audit --no-fund --silent || echo "setup: npm ci failed; the accessibility test will be skipped" >&2
fi
exec .venv/bin/python -m pytest "$@"
