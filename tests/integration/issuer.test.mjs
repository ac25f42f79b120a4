// issuer.test.mjs — the URLs a server advertises are its own. Without KLIMA_ISSUER the issuer follows the first listen
// address (KLIMA_LISTEN=127.0.0.1:PORT -> http://127.0.0.1:PORT): the OAuth metadata's issuer, endpoints and jwks_uri
// all start with it and answer on this server, the catalog's URLs name the same host, and a token minted by
// `klimaspejl token` with the same KLIMA_LISTEN verifies. With KLIMA_ISSUER set, everything uses it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertCleanExit, DB_ADMIN_URL, psql, request, runCli, startServer, waitReady } from './harness.mjs';

const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'jwks_uri'];

describe('issuer and advertised URLs', () => {
    let keys;
    let client;
    const servers = [];

    before(() => {
        keys = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-keys-'));
        assert.equal(runCli(['keygen'], { env: { KLIMA_KEYS_DIR: keys } }).status, 0);
        const c = runCli(['client', 'add', '--name', 'Issuer test', '--redirect-uri', 'http://127.0.0.1:9/cb'], {
            env: { KLIMA_DB_ADMIN_URL: DB_ADMIN_URL },
        });
        assert.equal(c.status, 0, c.stderr);
        client = /client_id\s+(\S+)/.exec(c.stdout)[1];
    });
    after(async () => {
        for (const s of servers) assertCleanExit(assert, await s.stop());
        fs.rmSync(keys, { recursive: true, force: true });
    });

    test('without KLIMA_ISSUER, the issuer, endpoints and jwks_uri are http://<first listen address> and answer here', async () => {
        // KLIMA_ISSUER '' = unset (the harness sets a shared test issuer otherwise)
        const srv = await startServer({ env: { KLIMA_KEYS_DIR: keys, KLIMA_ISSUER: '' } });
        servers.push(srv);
        await waitReady(srv.port);
        const base = `http://127.0.0.1:${srv.port}`;
        const r = await request(srv.port, { path: '/.well-known/oauth-authorization-server' });
        assert.equal(r.status, 200, r.body);
        const meta = JSON.parse(r.body);
        assert.equal(meta.issuer, base);
        for (const k of ENDPOINTS) {
            assert.ok(meta[k]?.startsWith(`${base}/`), `${k} = ${meta[k]} starts with ${base}/`);
        }
        const jwks = await request(srv.port, { path: new URL(meta.jwks_uri).pathname });
        assert.equal(jwks.status, 200, 'jwks_uri answers on this server');
        assert.ok(JSON.parse(jwks.body).keys.length >= 1);
        // the catalog names the same place (it follows the Host the client used, here the listen address)
        const cat = await request(srv.port, { path: '/v1/catalog.jsonld' });
        assert.equal(cat.status, 200);
        assert.ok(cat.body.includes(`${base}/v1/`), 'catalog URLs use the listen address');
        assert.ok(!cat.body.includes('localhost:8080') && !r.body.includes('localhost:8080'), 'no stale default anywhere');

        // `klimaspejl token` derives the same issuer from the same KLIMA_LISTEN, so its token verifies here
        const household = psql(DB_ADMIN_URL, 'SELECT household_id FROM core.households ORDER BY household_id LIMIT 1');
        const t = runCli(['token', '--household', household, '--scope', 'summary:read', '--client', client], {
            env: { KLIMA_KEYS_DIR: keys, KLIMA_DB_ADMIN_URL: DB_ADMIN_URL, KLIMA_ISSUER: '', KLIMA_LISTEN: `127.0.0.1:${srv.port}` },
        });
        assert.equal(t.status, 0, t.stderr);
        const token = t.stdout.trim().split('\n').at(-1);
        const iss = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).iss;
        assert.equal(iss, base);
        const me = await request(srv.port, { path: '/v1/me/consents', headers: { authorization: `Bearer ${token}` } });
        assert.notEqual(me.status, 401, `the token is accepted (not 401): ${me.body}`);
    });

    test('with KLIMA_ISSUER set, the metadata uses it everywhere', async () => {
        const issuer = 'https://klimaspejl.example.org';
        const srv = await startServer({ env: { KLIMA_KEYS_DIR: keys, KLIMA_ISSUER: issuer } });
        servers.push(srv);
        await waitReady(srv.port);
        const meta = JSON.parse((await request(srv.port, { path: '/.well-known/oauth-authorization-server' })).body);
        assert.equal(meta.issuer, issuer);
        for (const k of ENDPOINTS) assert.ok(meta[k]?.startsWith(`${issuer}/`), `${k} = ${meta[k]}`);
    });
});
