// A client for shim.js over its JSON line protocol (docs/SHIM.md), shared by
// selftest.js and findings_evidence.js.
'use strict';

const { spawn } = require('child_process');
const readline = require('readline');
const path = require('path');

const SHIM = path.join(__dirname, 'shim.js');

let checks = 0;
function check(cond, what) {
    if (!cond) {
        throw new Error(`check failed: ${what}`);
    }
    checks++;
}
const checked = () => checks;

class Shim {
    // Without a command: this directory's shim.js; with one: `sh -c COMMAND`, as the runner starts shims.
    constructor(command) {
        this.proc = command
            ? spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] })
            : spawn(process.execPath, [SHIM], { stdio: ['pipe', 'pipe', 'pipe'] });
        this.stderr = '';
        this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-8192); });
        this.pending = [];
        this.nextId = 1;
        readline.createInterface({ input: this.proc.stdout }).on('line', (line) => {
            const p = this.pending.shift();
            if (!p) {
                console.error(`unexpected output from the shim: ${line}`);
                process.exit(1);
            }
            let resp;
            try {
                resp = JSON.parse(line);
            } catch (e) {
                p.reject(new Error(`not JSON: ${line}`));
                return;
            }
            if (resp.id !== p.id) {
                p.reject(new Error(`response id ${resp.id} for request ${p.id}`));
                return;
            }
            p.resolve(resp);
        });
        this.proc.on('exit', (code) => {
            for (const p of this.pending) {
                p.reject(new Error(`the shim exited (${code}); stderr:\n${this.stderr}`));
            }
            this.pending = [];
        });
    }

    raw(op, fields) {
        const id = this.nextId++;
        return new Promise((resolve, reject) => {
            this.pending.push({ id, resolve, reject });
            this.proc.stdin.write(JSON.stringify(Object.assign({ id, op }, fields)) + '\n');
        });
    }

    async ok(op, fields) {
        const r = await this.raw(op, fields);
        if (r.error) {
            throw new Error(`${op}: unexpected error ${JSON.stringify(r.error)}`);
        }
        return r.result;
    }

    // Expects a refusal; `cls` is the class the contract maps the cause to.
    async refuse(op, fields, cls, what) {
        const r = await this.raw(op, fields);
        check(r.error !== undefined, `${what}: refused (got ${JSON.stringify(r.result)})`);
        check(r.error.class === cls, `${what}: class ${cls} (got ${r.error.class}: ${r.error.message})`);
        return r.error;
    }

    close() {
        this.proc.stdin.end();
        return new Promise((resolve) => this.proc.on('exit', resolve));
    }
}

module.exports = { Shim, check, checked };
