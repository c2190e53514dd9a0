#!/usr/bin/env python3
"""Per-flag table for README.md from two `ratchetproof run --format json` reports.

Usage: python3 flag_table.py default.json strict.json   (signal-v3 cases only)
"""
import collections
import json
import sys


def load(path):
    cases = [c for c in json.load(open(path))["cases"] if "/signal-v3/" in c["file"]]
    return cases, collections.Counter(c["status"] for c in cases)


(default, totals), (strict, strict_totals) = load(sys.argv[1]), load(sys.argv[2])
for name, t in (("default", totals), ("strict", strict_totals)):
    print(f"{name}: {t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped, {t['errored']} errored")
rows = collections.defaultdict(lambda: collections.Counter())
for cases, prefix in ((default, ""), (strict, "strict-")):
    for c in cases:
        for flag in c["flags"]:
            rows[flag][prefix + c["status"]] += 1
print()
print("| flag | passed | failed | skipped | errored | strict: passed / failed |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for flag in sorted(rows):
    r = rows[flag]
    print(f"| {flag} | {r['passed']} | {r['failed']} | {r['skipped']} | {r['errored']} "
          f"| {r['strict-passed']} / {r['strict-failed']} |")
