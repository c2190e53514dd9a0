#!/usr/bin/env bash
# Creates .venv/ beside this script with the pinned versions of
# requirements.txt. Idempotent: re-running only checks the pins.
# Needs python3 (3.11 or newer), a C compiler with the Python headers
# (python-axolotl-curve25519 is built from source) and pip access to PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --require-virtualenv -r "$here/requirements.txt"
PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python "$here/.venv/bin/python" -c '
from importlib.metadata import version
import axolotl.sessioncipher  # the protobuf modules load
print(*(f"{p} {version(p)}" for p in ("python-axolotl", "python-axolotl-curve25519", "protobuf", "cryptography")), sep=", ")'
