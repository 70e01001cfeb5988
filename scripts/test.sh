#!/usr/bin/env bash
# Set up with the test extras, then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ACCENTDS_EXTRAS=test bash scripts/setup.sh
.venv/bin/ruff check accentds tests bench scripts
.venv/bin/ruff format --check accentds tests bench scripts
.venv/bin/python -m pytest tests "$@"
