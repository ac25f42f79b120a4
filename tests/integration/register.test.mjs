// register.test.mjs — dynamic client registration (RFC 7591, POST /oauth/register; issue 17) against a real server:
// open-data apps are active at once, apps asking for personal scopes wait (unknown to /oauth/authorize) until
// `klimaspejl client approve`; metadata is checked field by field (400 naming it, RFC 7591 error codes); the endpoint
// has its own rate limit (429 with Retry-After) and answers in the spec's shape.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, psql, request, runCli, startServer, waitReady } from './harness.mjs';
import { assertMatchesSpec, loadSpec, SpecChecker } from './openapi-check.mjs';

const env = { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL };
const checker = new SpecChecker(loadSpec());

function register(port, body, headers = { 'content-type': 'application/json' }) {
    return request(port, { method: 'POST', path: '/oauth/register', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

function authorize(port, clientId, redirect, scope) {
    const q = new URLSearchParams({
        response_type: 'code', client_id: clientId, redirect_uri: redirect, state: 's', scope,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', lang: 'en',
    });
    return request(port, { path: `/oauth/authorize?${q}` });
}

describe('POST /oauth/register', () => {
    let srv;
    let keys;
    const made = [];

    before(async () => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        assert.equal(runCli(['keygen'], { env: { ...env, KLIMA_KEYS_DIR: keys } }).status, 0);
        srv = await startServer({ env: { KLIMA_KEYS_DIR: keys, KLIMA_DEV_LOGIN: '1', KLIMA_RATE_REGISTER: '0' } });
        await waitReady(srv.port);
    });
    after(async () => {
        if (srv) assertCleanExit(assert, await srv.stop());
        for (const id of made) runCli(['client', 'remove', id], { env });
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test('an open-data app is active at once; a confidential one gets its secret once, stored as a hash', async () => {
        let r = await register(srv.port, { client_name: 'Open data app', redirect_uris: ['https://open.example/cb'], token_endpoint_auth_method: 'none' });
        assert.equal(r.status, 201, r.body);
        assertMatchesSpec(assert, checker, 'POST', '/oauth/register', r);
        const open = JSON.parse(r.body);
        made.push(open.client_id);
        assert.equal(open.status, 'active');
        assert.equal(open.client_secret, undefined, 'a public app has no secret');
        assert.equal(open.token_endpoint_auth_method, 'none');
        assert.match(String(r.headers['cache-control']), /no-store/);
        r = await register(srv.port, { client_name: 'Server app', redirect_uris: ['https://srv.example/cb'] });
        assert.equal(r.status, 201, r.body);
        const conf = JSON.parse(r.body);
        made.push(conf.client_id);
        assert.equal(conf.token_endpoint_auth_method, 'client_secret_basic');
        assert.ok(conf.client_secret.length >= 40);
        assert.equal(conf.client_secret_expires_at, 0);
        const row = psql(DB_ADMIN_URL, `SELECT status, public, encode(secret_hash, 'hex') = encode(sha256('${conf.client_secret}'::bytea), 'hex'), registered FROM meta.clients WHERE client_id = '${conf.client_id}'`);
        assert.equal(row, 'active|f|t|t');
        const meta = JSON.parse((await request(srv.port, { path: '/.well-known/oauth-authorization-server' })).body);
        assert.equal(meta.registration_endpoint, `${process.env.KLIMA_ISSUER}/oauth/register`);
    });

    test('personal scopes: pending and unknown to /oauth/authorize until an operator approves them', async () => {
        const redirect = 'http://127.0.0.1:9/app-cb';
        let r = await register(srv.port, {
            client_name: 'Personal app', redirect_uris: [redirect], token_endpoint_auth_method: 'none',
            scope: 'summary:read energy:read', contacts: ['dev@personal.example'],
        });
        assert.equal(r.status, 201, r.body);
        const app = JSON.parse(r.body);
        made.push(app.client_id);
        assert.equal(app.status, 'pending');
        assert.equal(app.scope, 'summary:read energy:read');
        r = await authorize(srv.port, app.client_id, redirect, 'summary:read');
        assert.equal(r.status, 400, 'a pending app is not known to the authorization endpoint');
        const pending = runCli(['client', 'list', '--pending'], { env });
        assert.equal(pending.status, 0, pending.stderr);
        const line = pending.stdout.split('\n').find((l) => l.startsWith(app.client_id));
        assert.ok(line, pending.stdout);
        assert.match(line, /Personal app.*summary:read energy:read.*dev@personal\.example/);
        const ok = runCli(['client', 'approve', app.client_id], { env });
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /approved/);
        assert.equal(runCli(['client', 'approve', app.client_id], { env }).status, 1, 'approving twice: nothing pending');
        assert.doesNotMatch(runCli(['client', 'list', '--pending'], { env }).stdout, new RegExp(app.client_id));
        r = await authorize(srv.port, app.client_id, redirect, 'summary:read');
        assert.equal(r.status, 200, r.body);
        assert.match(r.body, /name="household"/, 'approved: the citizen is asked to log in');
    });

    test('bad metadata: 400 naming the field with the RFC 7591 error; 415 and 413', async () => {
        const cases = [
            [{ client_name: 'x' }, 'redirect_uris', 'invalid_redirect_uri'],
            [{ client_name: 'x', redirect_uris: [] }, 'redirect_uris', 'invalid_redirect_uri'],
            [{ client_name: 'x', redirect_uris: ['http://evil.example/cb'] }, 'redirect_uris', 'invalid_redirect_uri'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb#frag'] }, 'redirect_uris', 'invalid_redirect_uri'],
            [{ client_name: 'x', redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris', 'invalid_redirect_uri'],
            [{ client_name: 'x', redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) }, 'redirect_uris', 'invalid_redirect_uri'],
            [{ redirect_uris: ['https://a.example/cb'] }, 'client_name', 'invalid_client_metadata'],
            [{ client_name: '', redirect_uris: ['https://a.example/cb'] }, 'client_name', 'invalid_client_metadata'],
            [{ client_name: 'a\nb', redirect_uris: ['https://a.example/cb'] }, 'client_name', 'invalid_client_metadata'],
            [{ client_name: 'x'.repeat(101), redirect_uris: ['https://a.example/cb'] }, 'client_name', 'invalid_client_metadata'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'private_key_jwt' }, 'token_endpoint_auth_method', 'invalid_client_metadata'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb'], grant_types: ['implicit'] }, 'grant_types', 'invalid_client_metadata'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb'], response_types: ['token'] }, 'response_types', 'invalid_client_metadata'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb'], scope: 'consents:manage' }, 'scope', 'invalid_client_metadata'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb'], scope: 'everything:read' }, 'scope', 'invalid_client_metadata'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb'], scope: 'summary:read summary:read' }, 'scope', 'invalid_client_metadata'],
            [{ client_name: 'x', redirect_uris: ['https://a.example/cb'], contacts: ['not an address'] }, 'contacts', 'invalid_client_metadata'],
        ];
        const before = psql(DB_ADMIN_URL, 'SELECT count(*) FROM meta.clients');
        for (const [body, parameter, error] of cases) {
            const r = await register(srv.port, body);
            assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.body}`);
            assertMatchesSpec(assert, checker, 'POST', '/oauth/register', r);
            const p = JSON.parse(r.body);
            assert.equal(p.parameter, parameter, r.body);
            assert.equal(p.error, error, r.body);
            assert.equal(typeof p.error_description, 'string');
        }
        assert.equal((await register(srv.port, '[1]')).status, 400);
        assert.equal((await register(srv.port, '{"client_name":')).status, 400);
        assert.equal((await register(srv.port, { client_name: 'x', redirect_uris: ['https://a.example/cb'] }, { 'content-type': 'text/plain' })).status, 415);
        assert.equal((await register(srv.port, { client_name: 'x', redirect_uris: ['https://a.example/cb'], pad: 'x'.repeat(17000) })).status, 413);
        assert.equal(psql(DB_ADMIN_URL, 'SELECT count(*) FROM meta.clients'), before, 'nothing stored for refused metadata');
    });
});

describe('POST /oauth/register: its own rate limit', () => {
    test('the fourth registration within the window gets 429 with Retry-After (KLIMA_RATE_REGISTER=3/3600, one thread)', async () => {
        const srv = await startServer({ env: { KLIMA_RATE_REGISTER: '3/3600' }, threads: '1' });
        const made = [];
        try {
            await waitReady(srv.port);
            for (let i = 0; i < 3; ++i) {
                const r = await register(srv.port, { client_name: `Rate ${i}`, redirect_uris: ['https://rate.example/cb'], token_endpoint_auth_method: 'none' });
                assert.equal(r.status, 201, r.body);
                made.push(JSON.parse(r.body).client_id);
                assert.match(String(r.headers['ratelimit-policy']), /"register";q=3;w=3600/);
            }
            const r = await register(srv.port, { client_name: 'Rate 4', redirect_uris: ['https://rate.example/cb'], token_endpoint_auth_method: 'none' });
            assert.equal(r.status, 429, r.body);
            assert.ok(Number(r.headers['retry-after']) > 0);
        } finally {
            for (const id of made) runCli(['client', 'remove', id], { env });
            assertCleanExit(assert, await srv.stop());
        }
    });
});
