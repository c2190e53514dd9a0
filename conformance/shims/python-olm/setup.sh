#!/usr/bin/env bash
# Creates .venv/ beside this script with the pinned versions of
# requirements.txt, then runs the known-answer self-test (selftest.py).
# Idempotent: re-running only checks the pins and the self-test.
# Needs python3.11 and pip access to PyPI. `--only-binary` insists on the
# cp311 manylinux wheel, which bundles libolm: if pip ever fell back to the
# sdist it would need cmake and a C++ compiler, and would build another libolm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3.11}"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --require-virtualenv --only-binary python-olm -r "$here/requirements.txt"
"$here/.venv/bin/python" - <<'PY'
import importlib.metadata as m
from _libolm import ffi, lib
v = [ffi.new("uint8_t *") for _ in range(3)]
lib.olm_get_library_version(*v)
print("python-olm", m.version("python-olm"), "libolm", ".".join(str(x[0]) for x in v))
PY
"$here/.venv/bin/python" "$here/selftest.py"
