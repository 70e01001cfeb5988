#!/usr/bin/env bash
# Create .venv and install accentds into it (with the extras named in $ACCENTDS_EXTRAS).
# Quick when nothing changed: the install is skipped while pyproject.toml is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${ACCENTDS_EXTRAS:-}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$python" -m venv .venv
fi
stamp=".venv/.accentds-installed"
want="$(sha256sum pyproject.toml | cut -c1-16) [$extras]"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  echo "setup: installing accentds${extras:+[$extras]} into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$want" >> "$stamp"
fi
