// cli.test.mjs — the command line: configuration errors and usage, and `klimaspejl migrate` against fresh databases.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { createDatabase, freePort, psql, ROOT, runCli } from './harness.mjs';

describe('configuration and usage', () => {
    test('a bad KLIMA_THREADS ("abc") stops `serve` with a message naming KLIMA_THREADS', async () => {
        const port = await freePort();
        const r = runCli(['serve'], { env: { KLIMA_THREADS: 'abc', KLIMA_LISTEN: `127.0.0.1:${port}` }, timeout: 20_000 });
        assert.notEqual(r.status, 0, 'non-zero exit');
        assert.match(r.stderr, /KLIMA_THREADS/);
    });

    test('a bad KLIMA_LISTEN stops `serve` with a message naming KLIMA_LISTEN', () => {
        const r = runCli(['serve'], { env: { KLIMA_LISTEN: 'not-an-address' }, timeout: 20_000 });
        assert.notEqual(r.status, 0, 'non-zero exit');
        assert.match(r.stderr, /KLIMA_LISTEN/);
    });

    test('an unknown flag: exit 2 with the usage', () => {
        const r = runCli(['serve', '--no-such-flag'], { timeout: 20_000 });
        assert.equal(r.status, 2, r.stderr);
        assert.match(r.stderr, /no-such-flag/);
        assert.match(r.stderr, /usage/i);
    });

    test('`serve --help` lists the settings, KLIMA_LISTEN among them; exit 0', () => {
        const r = runCli(['serve', '--help'], { timeout: 20_000 });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout + r.stderr, /KLIMA_LISTEN/);
        assert.match(r.stdout + r.stderr, /KLIMA_THREADS/);
        assert.match(r.stdout + r.stderr, /KLIMA_DB_URL/);
    });

    test('an unknown subcommand: exit 2 with the usage', () => {
        const r = runCli(['no-such-command']);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /no-such-command/);
        assert.match(r.stderr, /usage/i);
    });

    test('no subcommand: exit 2 with the usage', () => {
        const r = runCli([]);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /usage/i);
    });

    test('`version` prints the version; exit 0', () => {
        const r = runCli(['version']);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /\d+\.\d+\.\d+/);
    });
});

describe('migrate', () => {
    const MIGRATIONS = path.join(ROOT, 'sql/migrations');
    const files = () => fs.readdirSync(MIGRATIONS).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
    const cleanup = [];
    after(() => {
        for (const fn of cleanup.reverse()) {
            try {
                fn();
            } catch {
                // best effort; tests/run drops the databases anyway
            }
        }
    });
    const freshDb = (suffix) => {
        const db = createDatabase(suffix);
        cleanup.push(() => db.drop());
        return db;
    };
    const copyMigrations = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klima-migrations-'));
        cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
        for (const f of files()) fs.copyFileSync(path.join(MIGRATIONS, f), path.join(dir, f));
        return dir;
    };
    const migrate = (db, dir) =>
        runCli(dir ? ['migrate', '--dir', dir] : ['migrate'], {
            env: { KLIMA_DB_ADMIN_URL: db.adminUrl, KLIMA_DB_URL: db.adminUrl },
            timeout: 300_000,
        });
    const applied = (db) => psql(db.adminUrl, 'SELECT t::text FROM meta.schema_migrations t ORDER BY 1');

    test('sql/migrations holds numbered migrations', () => {
        assert.ok(files().length > 0, 'at least one sql/migrations/NNNN_name.sql');
    });

    test('applying twice: the second run is a no-op', () => {
        const db = freshDb('mig_twice');
        const r1 = migrate(db);
        assert.equal(r1.status, 0, r1.stderr);
        const first = applied(db);
        assert.equal(first.split('\n').filter(Boolean).length, files().length, 'one row per migration file');
        const r2 = migrate(db);
        assert.equal(r2.status, 0, r2.stderr);
        assert.equal(applied(db), first, 'meta.schema_migrations unchanged by the second run');
    });

    test('a modified, already-applied migration is refused with a clear error', () => {
        const db = freshDb('mig_changed');
        const dir = copyMigrations();
        const r1 = migrate(db, dir);
        assert.equal(r1.status, 0, r1.stderr);
        const before = applied(db);
        const victim = files().at(-1);
        fs.appendFileSync(path.join(dir, victim), '\n-- edited after it was applied\nSELECT 1;\n');
        const r2 = migrate(db, dir);
        assert.notEqual(r2.status, 0, 'migrate must fail');
        assert.ok(r2.stderr.includes(victim), `the error names ${victim}: ${r2.stderr}`);
        assert.match(r2.stderr, /checksum|changed|modified/i);
        assert.equal(applied(db), before, 'nothing recorded');
    });

    test('a failing migration leaves nothing half-applied and stops the run', () => {
        const db = freshDb('mig_fail');
        const dir = copyMigrations();
        const r1 = migrate(db, dir);
        assert.equal(r1.status, 0, r1.stderr);
        const before = applied(db);
        fs.writeFileSync(
            path.join(dir, '9998_broken.sql'),
            'CREATE TABLE public.klima_half_applied_probe (x int);\n' +
                'INSERT INTO public.klima_half_applied_probe VALUES (1);\n' +
                'DO $$ BEGIN RAISE NOTICE $q$half way$q$; END $$;\n' +
                'SELECT 1 / 0;\n',
        );
        fs.writeFileSync(path.join(dir, '9999_after_broken.sql'), 'CREATE TABLE public.klima_after_broken_probe (x int);\n');
        const r2 = migrate(db, dir);
        assert.notEqual(r2.status, 0, 'migrate must fail');
        assert.ok(r2.stderr.includes('9998_broken.sql'), `the error names the file: ${r2.stderr}`);
        assert.match(r2.stderr, /division by zero/, 'the error carries PostgreSQL\'s message');
        assert.equal(psql(db.adminUrl, "SELECT to_regclass('public.klima_half_applied_probe') IS NULL"), 't', 'the failed file left nothing');
        assert.equal(psql(db.adminUrl, "SELECT to_regclass('public.klima_after_broken_probe') IS NULL"), 't', 'later files were not applied');
        assert.equal(applied(db), before, 'nothing recorded');
    });
});
