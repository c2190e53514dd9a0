#!/usr/bin/env bash
# Installs node_modules/ beside this script from the committed package-lock.json:
# @signalapp/libsignal-client 0.103.0 exactly (AGPL-3.0-only; installed at test time,
# never vendored — its native module ships inside the npm package as a prebuild),
# protobufjs 7.4.0 (the shim's decoder of the library's SessionRecord), and, for
# findings.js and selftest.js only, crystals-kyber-js 2.7.0 (KEM decapsulation to
# check the library's key schedule; the shim itself never uses it).
# Idempotent: re-running reinstalls only when the lock and node_modules differ.
# Needs Node 20 or newer (npm) and access to the npm registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if ! [ -f node_modules/.package-lock.json ] || ! cmp -s <(node -e 'const l=require("./package-lock.json");for(const k in l.packages){if(k==="")delete l.packages[k]}console.log(JSON.stringify(l.packages))') \
      <(node -e 'const l=require("./node_modules/.package-lock.json");console.log(JSON.stringify(l.packages))'); then
  npm ci --no-audit --no-fund --loglevel=error
fi
node -e 'console.log("node", process.version, "@signalapp/libsignal-client", require("@signalapp/libsignal-client/package.json").version, "protobufjs", require("protobufjs/package.json").version, "crystals-kyber-js", require("crystals-kyber-js/package.json").version)'
