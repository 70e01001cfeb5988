#!/usr/bin/env bash
# Set up with the test extras (and Debian's Chromium for the review page tests), then lint
# and run the whole test suite, one worker per core.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "setup: installing Debian's chromium for the browser tests" >&2
  $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends chromium >/dev/null \
    || echo "setup: could not install chromium; the browser tests will be skipped" >&2
fi
ACCENTDS_EXTRAS=test bash scripts/setup.sh
.venv/bin/ruff check accentds tests bench scripts
.venv/bin/ruff format --check accentds tests bench scripts
.venv/bin/python -m pytest tests -n logical --dist worksteal "$@"
