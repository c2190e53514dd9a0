#!/usr/bin/env node
// Per-flag table for the README from two `ratchetproof run --format json` reports:
//
//   node flag_table.js default.json strict.json
//
// A case counts under each of its flags. Cases skipped for another suite
// ("suite ... not supported") are left out of the table and counted apart.
'use strict';

const fs = require('fs');

function load(file) {
    const text = fs.readFileSync(file, 'utf8');
    return JSON.parse(text.slice(text.indexOf('{')));
}

const otherSuite = (c) => c.status === 'skipped' && /suite/.test(c.reason || '');

function count(report) {
    const flags = new Map();
    const totals = { passed: 0, failed: 0, skipped: 0, errored: 0, otherSuite: 0 };
    for (const c of report.cases) {
        if (otherSuite(c)) {
            totals.otherSuite++;
            continue;
        }
        totals[c.status]++;
        for (const f of c.flags) {
            if (!flags.has(f)) flags.set(f, { passed: 0, failed: 0, skipped: 0, errored: 0 });
            flags.get(f)[c.status]++;
        }
    }
    return { flags, totals };
}

const [defFile, strictFile] = process.argv.slice(2);
const def = count(load(defFile));
const strict = strictFile ? count(load(strictFile)) : null;
const t = (x) => `${x.passed} passed, ${x.failed} failed, ${x.skipped} skipped, ${x.errored} errored`;
console.log(`default: ${t(def.totals)} (+ ${def.totals.otherSuite} cases of other suites skipped)`);
if (strict) console.log(`strict:  ${t(strict.totals)} (+ ${strict.totals.otherSuite} cases of other suites skipped)`);
console.log('');
console.log('| flag | passed | failed | skipped | errored |' + (strict ? ' strict: passed / failed |' : ''));
console.log('| --- | ---: | ---: | ---: | ---: |' + (strict ? ' ---: |' : ''));
for (const f of [...def.flags.keys()].sort()) {
    const d = def.flags.get(f);
    let row = `| ${f} | ${d.passed} | ${d.failed} | ${d.skipped} | ${d.errored} |`;
    if (strict) {
        const s = strict.flags.get(f) || { passed: 0, failed: 0 };
        row += ` ${s.passed} / ${s.failed} |`;
    }
    console.log(row);
}
