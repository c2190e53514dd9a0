#!/usr/bin/env bash
# Installs node_modules/ beside this script from the committed package-lock.json:
# @privacyresearch/libsignal-protocol-typescript 0.0.16 exactly (GPL-3.0, so it is
# installed at test time and never committed; node_modules/ is git-ignored) and its
# dependencies at the locked versions. Idempotent: `npm ci` runs only when
# node_modules does not match the lock. Needs Node 20+ (npm) and the npm registry.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
# The lock's package entries (without the root) against what npm last installed.
entries() { node -e 'const l=require(process.argv[1]);const p=Object.assign({},l.packages);delete p[""];console.log(JSON.stringify(p))' "$1"; }
if ! [ -f node_modules/.package-lock.json ] || ! cmp -s <(entries ./package-lock.json) <(entries ./node_modules/.package-lock.json); then
  npm ci --no-audit --no-fund --loglevel=error
fi
node -e 'const v=(p)=>require(p+"/package.json").version;console.log("node", process.version, "@privacyresearch/libsignal-protocol-typescript", v("@privacyresearch/libsignal-protocol-typescript"), "curve25519-typescript", v("@privacyresearch/curve25519-typescript"), "libsignal-protocol-protobuf-ts", v("@privacyresearch/libsignal-protocol-protobuf-ts"), "protobufjs", v("protobufjs"))'
