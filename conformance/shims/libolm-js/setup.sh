#!/usr/bin/env bash
# Installs node_modules/ beside this script from the committed package-lock.json:
# @matrix-org/olm 3.2.15 exactly (libolm 3.2.15 compiled to WebAssembly; it has no
# dependencies). node_modules/ is git-ignored. Idempotent: `npm ci` runs only when
# node_modules does not match the lock, then the self-test (selftest.js) runs.
# Needs Node 20+ (npm) and the npm registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# The lock's package entries (without the root) against what npm last installed.
entries() { node -e 'const l=require(process.argv[1]);const p=Object.assign({},l.packages);delete p[""];console.log(JSON.stringify(p))' "$1"; }
if ! [ -f node_modules/.package-lock.json ] || ! cmp -s <(entries ./package-lock.json) <(entries ./node_modules/.package-lock.json); then
  npm ci --no-audit --no-fund --loglevel=error
fi
node -e 'const Olm=require("@matrix-org/olm");Olm.init().then(()=>console.log("node", process.version, "@matrix-org/olm", require("@matrix-org/olm/package.json").version, "libolm", Olm.get_library_version().join(".")))'
node "$here/selftest.js"
