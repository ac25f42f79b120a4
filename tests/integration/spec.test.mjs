// spec.test.mjs — api-spec/openapi.yaml against the running server: every operation in the spec answers (not 404/405)
// and answers as documented (status, media type, JSON body valid against its schema), the served /openapi.json is the
// same document, and Redocly CLI lints the spec clean.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { SPEC_PATH, SpecChecker, assertMatchesSpec, loadSpec } from './openapi-check.mjs';
import { ROOT, h2request, request, startServer } from './harness.mjs';

// A concrete request for each path template: the path parameters filled with a real dataset.
const SAMPLE_ID = 'emission-factors';
const concrete = (template) => template.replace('{id}', SAMPLE_ID);

describe('OpenAPI spec', () => {
    let srv;
    let port;
    let spec;
    let checker;
    before(async () => {
        spec = loadSpec();
        checker = new SpecChecker(spec);
        srv = await startServer();
        port = srv.port;
    });
    after(async () => {
        if (srv && srv.exited() === null) await srv.stop();
    });

    test('the served /openapi.json is api-spec/openapi.yaml', async () => {
        const r = await request(port, { path: '/openapi.json' });
        assert.equal(r.status, 200);
        assert.deepEqual(JSON.parse(r.body), spec);
    });

    test('every operation in the spec answers (not 404/405) and as documented, over HTTP/1.1 and h2c', async () => {
        const ops = [];
        for (const [template, item] of Object.entries(spec.paths)) {
            for (const method of Object.keys(item)) {
                if (['get', 'put', 'post', 'delete', 'patch'].includes(method)) ops.push([method.toUpperCase(), template]);
            }
        }
        assert.ok(ops.length >= 11, `the spec lists ${ops.length} operations`);
        for (const [method, template] of ops) {
            const p = concrete(template);
            for (const send of [request, h2request]) {
                const r = await send(port, { method, path: p });
                assert.ok(![404, 405].includes(r.status), `${method} ${p} answered ${r.status}: ${r.body.slice(0, 300)}`);
                assert.ok(r.status < 500 || r.status === 503, `${method} ${p} answered ${r.status}: ${r.body.slice(0, 300)}`);
                assertMatchesSpec(assert, checker, method, p, r);
            }
        }
    });

    test('documented query parameters, formats and errors answer as documented', async () => {
        const cases = [
            '/v1/datasets?lang=da',
            `/v1/datasets/${SAMPLE_ID}?lang=en`,
            `/v1/datasets/${SAMPLE_ID}/records?limit=3`,
            `/v1/datasets/${SAMPLE_ID}/records?format=csv&delimiter=%3B&bom=1`,
            `/v1/datasets/${SAMPLE_ID}/records?format=ndjson`,
            '/v1/datasets/energy-district-daily/records?format=geojson&limit=5',
            '/v1/datasets/energy-district-daily/records?group_by=district_id&measures=sum:electricity_kwh,count',
            `/v1/datasets/${SAMPLE_ID}/records?nosuchcolumn=1`,
            `/v1/datasets/${SAMPLE_ID}/records?cursor=notacursor`,
            '/v1/datasets/no-such-dataset/records',
            '/v1/datasets/no-such-dataset/datapackage.json',
            `/v1/datasets/${SAMPLE_ID}/download?format=ndjson`,
            `/v1/datasets/${SAMPLE_ID}/download?limit=5`,
            '/v1/emission-factors?lang=da',
            '/v1/usage?from=2025-01-01&to=2025-01-31',
            '/v1/usage?from=notadate',
        ];
        for (const p of cases) {
            const r = await request(port, { path: p });
            assert.ok(r.status < 500 || r.status === 503, `${p} answered ${r.status}: ${r.body.slice(0, 300)}`);
            assertMatchesSpec(assert, checker, 'GET', p, r);
        }
    });

    test('every documented JSON response schema compiles', () => {
        let n = 0;
        for (const [template, item] of Object.entries(spec.paths)) {
            for (const [method, op] of Object.entries(item)) {
                for (const [status, resp] of Object.entries(op.responses || {})) {
                    const body = resp.$ref ? { status } : resp;
                    for (const media of Object.keys(body.content || {})) {
                        if (media.endsWith('json') && !media.endsWith('ndjson')) {
                            const ptr = `#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/${media.replace(/\//g, '~1')}/schema`;
                            assert.doesNotThrow(() => checker.ajv.compile({ $ref: `urn:klimaspejl:openapi${ptr}` }), ptr);
                            n += 1;
                        }
                    }
                }
            }
        }
        assert.ok(n > 5);
    });

    test('npx @redocly/cli lint passes', () => {
        const bin = path.join(ROOT, 'tests/node_modules/.bin/redocly');
        const r = spawnSync(bin, ['lint', '--config', path.join(ROOT, 'api-spec/redocly.yaml'), SPEC_PATH], {
            encoding: 'utf8',
            timeout: 120_000,
            env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
        });
        assert.equal(r.status, 0, `redocly lint failed:\n${r.stdout}\n${r.stderr}`);
    });
});
