#!/usr/bin/env bash
# Creates .venv/ beside this script with the pinned versions of
# requirements.txt. Idempotent: re-running only checks the pins.
# Needs python3 (3.11 or newer) and pip access to PyPI.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --require-virtualenv -r "$here/requirements.txt"
"$here/.venv/bin/python" -c 'import doubleratchet, x3dh, xeddsa, cryptography; print("doubleratchet", doubleratchet.__version__, "x3dh", x3dh.__version__, "xeddsa", xeddsa.__version__, "cryptography", cryptography.__version__)'
