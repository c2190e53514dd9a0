#!/usr/bin/env bash
# Creates .venv/ beside this script with the pinned version of requirements.txt.
# Idempotent: re-running only checks the pin. Needs python3.11 and pip access to
# PyPI. `--only-binary` insists on the cp311 wheel (the sdist needs a Rust toolchain).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3.11}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --require-virtualenv --only-binary vodozemac -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import importlib.metadata as m, vodozemac; print("vodozemac", m.version("vodozemac"))'
