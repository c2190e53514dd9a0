#!/usr/bin/env bash
# Installs node_modules/ beside this script from the committed package-lock.json
# (libsignal 6.0.0 exactly, and its dependencies at the locked versions).
# Idempotent: re-running reinstalls only when the lock and node_modules differ.
# Needs Node 20 or newer (npm) and access to the npm registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if ! [ -f node_modules/.package-lock.json ] || ! cmp -s <(node -e 'const l=require("./package-lock.json");delete l.name;delete l.version;for(const k in l.packages){if(k==="")delete l.packages[k]}console.log(JSON.stringify(l.packages))') \
      <(node -e 'const l=require("./node_modules/.package-lock.json");console.log(JSON.stringify(l.packages))'); then
  npm ci --no-audit --no-fund --loglevel=error
fi
node -e 'console.log("node", process.version, "libsignal", require("libsignal/package.json").version, "protobufjs", require("protobufjs/package.json").version, "curve25519-js", require("curve25519-js/package.json").version)'
