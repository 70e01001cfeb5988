#!/usr/bin/env bash
# Set up, then pull and cut the bundled sample video into a demo workspace (demo/, kept out
# of git) and show its minutes. The repository's own corpus (manifests/) is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/accentds init demo --name demo >/dev/null
.venv/bin/accentds --workspace demo pull samples/sample.mp4 --licence CC0-1.0
.venv/bin/accentds --workspace demo status
