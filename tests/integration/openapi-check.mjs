// openapi-check.mjs — checks real responses against api-spec/openapi.yaml: the status is one the operation documents,
// the media type is one it lists, and a JSON body validates against the documented schema (OpenAPI 3.1 schemas are
// JSON Schema 2020-12: Ajv's 2020 dialect + ajv-formats, $refs resolved inside the spec). Used by spec.test.mjs and
// api.test.mjs.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { ROOT } from './harness.mjs';

export const SPEC_PATH = path.join(ROOT, 'api-spec/openapi.yaml');

// The spec as JSON, converted by Debian's python3-yaml (the same converter the build uses to embed it).
export function loadSpec() {
    const r = spawnSync(
        '/usr/bin/python3',
        ['-c', 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1], encoding="utf-8")), sys.stdout)', SPEC_PATH],
        { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`cannot read ${SPEC_PATH}: ${r.stderr}`);
    return JSON.parse(r.stdout);
}

const escapePointer = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

// Follows a local "$ref" ("#/a/b") in the spec; returns [object, pointer].
function deref(spec, obj, pointer) {
    let o = obj;
    let p = pointer;
    while (o && typeof o.$ref === 'string') {
        p = o.$ref.slice(1);
        o = p
            .split('/')
            .slice(1)
            .reduce((acc, k) => acc?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
    }
    return [o, p];
}

export class SpecChecker {
    constructor(spec = loadSpec()) {
        this.spec = spec;
        this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
        addFormats(this.ajv);
        this.ajv.addSchema({ ...spec, $id: 'urn:klimaspejl:openapi' });
        this.compiled = new Map();
        this.seen = []; // [{ method, template, status, mediaType }] of every response checked
    }

    // The spec path template that matches a concrete path ("/v1/datasets/x/records" -> "/v1/datasets/{id}/records").
    templateOf(p) {
        const pathname = p.split('?')[0];
        for (const t of Object.keys(this.spec.paths)) {
            const re = new RegExp(`^${t.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
            if (re.test(pathname)) return t;
        }
        return null;
    }

    // Returns a list of problems (empty when the response matches the spec). res: { status, headers, body (string) }.
    problems(method, p, res) {
        const out = [];
        const template = this.templateOf(p);
        if (template === null) return [`${method} ${p}: no path in the spec matches`];
        const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
        const op = this.spec.paths[template][m];
        if (!op) return [`${method} ${template}: no such operation in the spec`];
        const status = String(res.status);
        let [response, pointer] = [op.responses?.[status], `/paths/${escapePointer(template)}/${m}/responses/${status}`];
        // Errors every operation can give without listing them (RFC 9457 problem documents, described in info).
        const generic = ['404', '405', '414', '431', '429', '503'].includes(status) && response === undefined;
        if (response === undefined && !generic) return [`${method} ${p}: status ${status} is not documented for ${template}`];
        const ctype = String(res.headers['content-type'] || '').split(';')[0].trim();
        const mediaType = ctype || null;
        this.seen.push({ method: m, template, status, mediaType });
        if (generic) {
            if (ctype !== 'application/problem+json') out.push(`${method} ${p}: undocumented ${status} is not a problem document`);
            return out.concat(this.validate('#/components/schemas/Problem', res.body, `${method} ${p}`));
        }
        [response, pointer] = deref(this.spec, response, pointer);
        if (!response.content) {
            return out; // 304 and the like: no body
        }
        if (method.toUpperCase() === 'HEAD') return out;
        const media = response.content[ctype];
        if (!media) return [`${method} ${p}: content type "${ctype}" is not documented for ${status}`];
        if (ctype.endsWith('json') && !ctype.endsWith('ndjson') && media.schema) {
            out.push(...this.validate(`#${pointer}/content/${escapePointer(ctype)}/schema`, res.body, `${method} ${p}`));
        }
        return out;
    }

    validate(pointer, body, what) {
        let v = this.compiled.get(pointer);
        if (!v) {
            v = this.ajv.compile({ $ref: `urn:klimaspejl:openapi${pointer}` });
            this.compiled.set(pointer, v);
        }
        let data;
        try {
            data = JSON.parse(body);
        } catch (e) {
            return [`${what}: body is not JSON: ${e.message}`];
        }
        if (v(data)) return [];
        return [`${what}: body does not match ${pointer}: ${this.ajv.errorsText(v.errors, { separator: '; ' })}`];
    }
}

// Asserts that res matches the spec (node:assert).
export function assertMatchesSpec(assert, checker, method, p, res) {
    const problems = checker.problems(method, p, res);
    assert.deepEqual(problems, [], problems.join('\n'));
}
