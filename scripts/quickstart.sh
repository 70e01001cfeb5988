#!/usr/bin/env bash
# Set up, pull the bundled sample video into this workspace, cut it, and show the corpus minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/accentds pull samples/sample.mp4 --licence CC0-1.0
.venv/bin/accentds status
