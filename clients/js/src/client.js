// client.js — KlimaspejlClient: one object per API origin (and, for personal data, per consent token).
//
// Plain JavaScript on top of the platform's fetch (Node >= 18, browsers); the types in ../index.d.ts and
// ./schema.d.ts (generated from api-spec/openapi.yaml by openapi-typescript) describe every method.
//
// Behaviour shared by every call:
//   * 429 and 503 answers are retried up to `maxRetries` times, after the Retry-After the server sent (seconds or an
//     HTTP date; exponential 1, 2, 4 ... s when there is none), each wait capped at `maxRetryDelay` seconds.
//   * GET answers that carry an ETag are remembered (in memory, per client, least recently used dropped first); the
//     next identical GET sends If-None-Match and a 304 returns the remembered body without transferring it again.
//   * Anything else that is not 2xx throws a KlimaspejlError with the server's RFC 9457 problem fields.

import { KlimaspejlError, errorFromResponse, parseRetryAfter } from './errors.js';

/** @typedef {import('./schema.js').components['schemas']} Schemas */
/** @typedef {'da'|'en'} Lang */
/** @typedef {{ signal?: AbortSignal }} CallOptions */
/** @typedef {CallOptions & { lang?: Lang }} LangOptions */
/** @typedef {Record<string, string | number | boolean | readonly (string | number | boolean)[]>} Filters */
/**
 * @typedef {object} RecordsQuery
 * @property {Filters} [filters] `{ column: 'op:value' }`; an array filters a column more than once
 * @property {string | readonly string[]} [groupBy]
 * @property {string | readonly string[]} [measures]
 * @property {string | readonly string[]} [order]
 * @property {number} [limit]
 * @property {string | null} [cursor]
 * @property {'hour'|'day'|'week'|'month'|'year'} [bucket]
 * @property {string} [tz]
 * @property {'json'|'csv'|'ndjson'|'geojson'} [format]
 * @property {','|';'|'tab'} [delimiter]
 * @property {boolean | '0' | '1' | 'true' | 'false'} [bom]
 * @property {Lang} [lang]
 */
/**
 * @typedef {object} DownloadQuery
 * @property {'csv'|'ndjson'} [format]
 * @property {Filters} [filters]
 * @property {string | readonly string[]} [order]
 * @property {','|';'|'tab'} [delimiter]
 * @property {boolean | '0' | '1' | 'true' | 'false'} [bom]
 */
/**
 * @typedef {object} SeriesQuery
 * @property {string} from
 * @property {string} to
 * @property {'hour'|'day'|'month'} [resolution]
 * @property {string} [tz]
 * @property {'json'|'csv'} [format]
 * @property {AbortSignal} [signal]
 */

export const VERSION = '0.1.0';

const RECORDS_KEYS = new Set(['filters', 'groupBy', 'measures', 'order', 'limit', 'cursor', 'bucket', 'tz', 'format', 'delimiter', 'bom', 'lang']);
const DOWNLOAD_KEYS = new Set(['filters', 'order', 'format', 'delimiter', 'bom']);
const SERIES_KEYS = new Set(['from', 'to', 'resolution', 'tz', 'format']);

/**
 * Waits `ms` milliseconds; rejects with the signal's reason when it is aborted first.
 * @param {number} ms
 * @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) {
            reject(signal.reason);
            return;
        }
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal?.reason);
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }, ms);
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}

/** @param {unknown} v */
const joinList = (v) => (Array.isArray(v) ? v.join(',') : String(v));

/** @param {unknown} v */
const boolParam = (v) => (v === true ? '1' : v === false ? '0' : String(v));

/**
 * Rejects option names a method does not know (a typo would otherwise be silently ignored).
 * @param {string} method
 * @param {Record<string, unknown>} opts
 * @param {Set<string>} known
 */
function checkKeys(method, opts, known) {
    for (const k of Object.keys(opts)) {
        if (!known.has(k)) throw new TypeError(`${method}: unknown option '${k}' (known: ${[...known].join(', ')})`);
    }
}

/**
 * Appends `col=op:value` filters: a value may be a string (`'eq:Nørrebro'`, `'gte:2025-01-01'`, or a bare value for
 * `eq`), a number or boolean, or an array of those to filter one column more than once.
 * @param {URLSearchParams} p
 * @param {Record<string, unknown> | undefined} filters
 */
function appendFilters(p, filters) {
    if (filters == null) return;
    if (typeof filters !== 'object') throw new TypeError('filters must be an object { column: "op:value" | [..] }');
    for (const [col, v] of Object.entries(filters)) {
        for (const one of Array.isArray(v) ? v : [v]) {
            if (one === undefined || one === null) continue;
            p.append(col, String(one));
        }
    }
}

/**
 * The query string of /records from the camelCase options.
 * @param {Record<string, any>} q
 * @returns {URLSearchParams}
 */
export function recordsSearchParams(q = {}) {
    checkKeys('records', q, RECORDS_KEYS);
    const p = new URLSearchParams();
    appendFilters(p, q.filters);
    if (q.groupBy != null) p.set('group_by', joinList(q.groupBy));
    if (q.measures != null) p.set('measures', joinList(q.measures));
    if (q.order != null) p.set('order', joinList(q.order));
    if (q.bucket != null) p.set('bucket', String(q.bucket));
    if (q.tz != null) p.set('tz', String(q.tz));
    if (q.limit != null) p.set('limit', String(q.limit));
    if (q.format != null) p.set('format', String(q.format));
    if (q.delimiter != null) p.set('delimiter', String(q.delimiter));
    if (q.bom != null) p.set('bom', boolParam(q.bom));
    if (q.lang != null) p.set('lang', String(q.lang));
    if (q.cursor != null) p.set('cursor', String(q.cursor));
    return p;
}

/**
 * Splits a byte stream into parsed NDJSON objects (one JSON value per `\n`-terminated line; blank lines skipped).
 * @template T
 * @param {ReadableStream<Uint8Array>} stream
 * @returns {AsyncGenerator<T, void, undefined>}
 */
export async function* readNdjson(stream) {
    const reader = stream.getReader();
    const dec = new TextDecoder('utf-8');
    let buf = '';
    try {
        for (;;) {
            const { value, done } = await reader.read();
            buf += done ? dec.decode() : dec.decode(value, { stream: true });
            let nl;
            while ((nl = buf.indexOf('\n')) !== -1) {
                const line = buf.slice(0, nl).trim();
                buf = buf.slice(nl + 1);
                if (line !== '') yield JSON.parse(line);
            }
            if (done) break;
        }
        if (buf.trim() !== '') yield JSON.parse(buf);
    } finally {
        // stop the transfer when the consumer leaves the loop early
        await reader.cancel().catch(() => {});
        reader.releaseLock();
    }
}

/** The Node version, or undefined in a browser. */
const NODE_VERSION = /** @type {any} */ (globalThis).process?.versions?.node;

/**
 * True in a browser page (or worker) calling another origin, where non-safelisted headers would need a CORS preflight.
 * @param {string} url
 */
function crossOriginBrowser(url) {
    const origin = /** @type {any} */ (globalThis).location?.origin;
    if (typeof origin !== 'string' || origin === 'null' || NODE_VERSION) return false;
    try {
        return new URL(url).origin !== origin;
    } catch {
        return false;
    }
}

const clone = typeof structuredClone === 'function' ? structuredClone : (/** @type {any} */ v) => JSON.parse(JSON.stringify(v));

export class KlimaspejlClient {
    /**
     * @param {object} [options]
     * @param {string} [options.baseUrl] the API origin (and path prefix, if any); default http://localhost:8080
     * @param {string | (() => string | undefined | Promise<string | undefined>)} [options.token] a consent token (JWT) for /v1/me/*
     * @param {typeof fetch} [options.fetch] fetch implementation (default globalThis.fetch)
     * @param {string} [options.userAgent] User-Agent sent from Node (browsers set their own)
     * @param {number} [options.maxRetries] retries after 429/503 (default 3; 0 disables)
     * @param {number} [options.maxRetryDelay] longest single wait in seconds (default 60)
     * @param {boolean} [options.etagCache] remember ETag'd GET answers and revalidate them (default true)
     * @param {number} [options.etagCacheSize] how many answers to remember (default 256)
     * @param {'da'|'en'} [options.lang] default language for the metadata routes
     * @param {Record<string, string>} [options.headers] extra headers on every request
     * @param {(info: { attempt: number, status: number, waitSeconds: number, method: string, url: string }) => void} [options.onRetry]
     */
    constructor(options = {}) {
        const baseUrl = options.baseUrl ?? 'http://localhost:8080';
        if (typeof baseUrl !== 'string' || !/^https?:\/\//i.test(baseUrl)) throw new TypeError('baseUrl must be an http(s) URL');
        const f = options.fetch ?? globalThis.fetch;
        if (typeof f !== 'function') throw new TypeError('no fetch: pass options.fetch (Node >= 18 and browsers have one)');
        /** @readonly */
        this.baseUrl = baseUrl.replace(/\/+$/, '');
        this._fetch = options.fetch ? options.fetch : (/** @type {Parameters<typeof fetch>} */ ...a) => globalThis.fetch(...a);
        this._token = options.token;
        this.maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 3));
        this.maxRetryDelay = Math.max(0, options.maxRetryDelay ?? 60);
        this.lang = options.lang;
        this._headers = { ...(options.headers || {}) };
        this._onRetry = options.onRetry;
        this._userAgent = options.userAgent ?? (NODE_VERSION ? `klimaspejl-js/${VERSION} node/${NODE_VERSION}` : undefined);
        this._etagEnabled = options.etagCache ?? true;
        this._etagMax = Math.max(1, options.etagCacheSize ?? 256);
        /** @type {Map<string, { etag: string, value: unknown }>} */
        this._etags = new Map();
    }

    /**
     * Replaces the consent token (for example after a refresh). `undefined` removes it.
     * @param {string | (() => string | undefined | Promise<string | undefined>) | undefined} token
     */
    setToken(token) {
        this._token = token;
    }

    /** Forgets every remembered ETag'd answer. */
    clearCache() {
        this._etags.clear();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Transport

    /** @returns {Promise<string|undefined>} */
    async _resolveToken() {
        const t = typeof this._token === 'function' ? await this._token() : this._token;
        return t || undefined;
    }

    /**
     * Sends one request, retrying after 429/503 as the server asks.
     * @param {string} method
     * @param {string} url
     * @param {Record<string, string>} headers
     * @param {string | undefined} body
     * @param {AbortSignal | undefined} signal
     * @returns {Promise<Response>}
     */
    async _send(method, url, headers, body, signal) {
        for (let attempt = 0; ; ++attempt) {
            const res = await this._fetch(url, { method, headers, body, signal });
            if ((res.status === 429 || res.status === 503) && attempt < this.maxRetries) {
                const ra = parseRetryAfter(res.headers.get('retry-after'));
                const waitSeconds = Math.min(ra ?? 2 ** attempt, this.maxRetryDelay);
                await res.arrayBuffer().catch(() => undefined);
                this._onRetry?.({ attempt: attempt + 1, status: res.status, waitSeconds, method, url });
                await sleep(waitSeconds * 1000, signal);
                continue;
            }
            return res;
        }
    }

    /**
     * One API call.
     * @param {string} method
     * @param {string} path starting with '/'
     * @param {object} [o]
     * @param {URLSearchParams} [o.query]
     * @param {'json'|'text'|'stream'|'none'} [o.expect]
     * @param {unknown} [o.json] a JSON request body
     * @param {URLSearchParams} [o.form] an application/x-www-form-urlencoded request body
     * @param {boolean} [o.auth] send the consent token (default true)
     * @param {boolean} [o.etag] use the ETag cache (GET only; default true)
     * @param {string} [o.lang] Accept-Language
     * @param {AbortSignal} [o.signal]
     * @returns {Promise<any>}
     */
    async _call(method, path, o = {}) {
        const expect = o.expect ?? 'json';
        const qs = o.query ? o.query.toString() : '';
        const url = `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
        const cors = crossOriginBrowser(url);
        /** @type {Record<string, string>} */
        const headers = { ...this._headers };
        if (expect === 'json') headers.accept = 'application/json, application/problem+json';
        if (this._userAgent && !cors) headers['user-agent'] = this._userAgent;
        if (o.lang) headers['accept-language'] = o.lang;
        const token = o.auth === false ? undefined : await this._resolveToken();
        if (token) headers.authorization = `Bearer ${token}`;
        let body;
        if (o.json !== undefined) {
            headers['content-type'] = 'application/json';
            body = JSON.stringify(o.json);
        } else if (o.form) {
            headers['content-type'] = 'application/x-www-form-urlencoded';
            body = o.form.toString();
        }

        const cacheable = method === 'GET' && this._etagEnabled && o.etag !== false && (expect === 'json' || expect === 'text') && !cors;
        const key = cacheable ? `${expect}\n${url}\n${headers.authorization || ''}\n${headers['accept-language'] || ''}` : '';
        const entry = cacheable ? this._etags.get(key) : undefined;
        if (entry) headers['if-none-match'] = entry.etag;

        const res = await this._send(method, url, headers, body, o.signal);
        if (res.status === 304 && entry) {
            await res.arrayBuffer().catch(() => undefined);
            // most recently used goes last
            this._etags.delete(key);
            this._etags.set(key, entry);
            return clone(entry.value);
        }
        if (!res.ok) throw await errorFromResponse(res, method, url);

        let value;
        switch (expect) {
            case 'stream':
                if (!res.body) throw new KlimaspejlError({ status: res.status, title: 'Empty body', url, method, headers: res.headers });
                return res.body;
            case 'none':
                await res.arrayBuffer().catch(() => undefined);
                return undefined;
            case 'text':
                value = await res.text();
                break;
            default:
                value = res.status === 204 ? undefined : await res.json();
        }
        const etag = res.headers.get('etag');
        if (cacheable && etag && value !== undefined) {
            this._etags.delete(key);
            this._etags.set(key, { etag, value: clone(value) });
            for (const old of this._etags.keys()) {
                if (this._etags.size <= this._etagMax) break;
                this._etags.delete(old);
            }
        }
        return value;
    }

    /** @param {{ lang?: string }} [o] */
    _langQuery(o = {}) {
        const p = new URLSearchParams();
        const lang = o.lang ?? this.lang;
        if (lang) p.set('lang', lang);
        return p;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Service

    /**
     * GET /healthz — liveness.
     * @param {CallOptions} [o]
     * @returns {Promise<Schemas['Health']>}
     */
    health(o = {}) {
        return this._call('GET', '/healthz', { auth: false, signal: o.signal });
    }

    /**
     * GET /readyz — readiness (the database answers).
     * @param {CallOptions} [o]
     * @returns {Promise<Schemas['Readiness']>}
     */
    ready(o = {}) {
        return this._call('GET', '/readyz', { auth: false, signal: o.signal });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Open data

    /**
     * GET /v1/datasets — the catalog.
     * @param {LangOptions} [o]
     * @returns {Promise<Schemas['DatasetList']>}
     */
    listDatasets(o = {}) {
        return this._call('GET', '/v1/datasets', { query: this._langQuery(o), auth: false, signal: o.signal });
    }

    /**
     * GET /v1/datasets/{id} — one dataset's metadata and Table Schema.
     * @param {string} id
     * @param {LangOptions} [o]
     * @returns {Promise<Schemas['Dataset']>}
     */
    getDataset(id, o = {}) {
        return this._call('GET', `/v1/datasets/${encodeURIComponent(id)}`, { query: this._langQuery(o), auth: false, signal: o.signal });
    }

    /**
     * GET /v1/datasets/{id}/datapackage.json — the Frictionless Data Package.
     * @param {string} id
     * @param {LangOptions} [o]
     * @returns {Promise<Schemas['DataPackage']>}
     */
    dataPackage(id, o = {}) {
        return this._call('GET', `/v1/datasets/${encodeURIComponent(id)}/datapackage.json`, {
            query: this._langQuery(o),
            auth: false,
            signal: o.signal,
        });
    }

    /**
     * GET /v1/catalog.jsonld — DCAT-AP JSON-LD.
     * @param {CallOptions} [o]
     * @returns {Promise<Schemas['CatalogJsonLd']>}
     */
    catalog(o = {}) {
        return this._call('GET', '/v1/catalog.jsonld', { auth: false, signal: o.signal });
    }

    /**
     * GET /v1/datasets/{id}/records — one page: JSON and GeoJSON parsed, CSV and NDJSON as text.
     * @param {string} id
     * @param {RecordsQuery} [query]
     * @param {CallOptions} [o]
     * @returns {Promise<any>} a RecordsPage (see index.d.ts for the overloads by format)
     */
    records(id, query = {}, o = {}) {
        const p = recordsSearchParams(query);
        const fmt = query.format ?? 'json';
        return this._call('GET', `/v1/datasets/${encodeURIComponent(id)}/records`, {
            query: p,
            expect: fmt === 'json' || fmt === 'geojson' ? 'json' : 'text',
            auth: false,
            signal: o.signal,
        });
    }

    /**
     * Every page of a query, following `next_cursor` to the end (JSON only).
     * @param {string} id
     * @param {RecordsQuery} [query]
     * @param {CallOptions} [o]
     * @returns {AsyncGenerator<Schemas['RecordsPage'], void, undefined>}
     */
    async *recordsPages(id, query = {}, o = {}) {
        if (query.format != null && query.format !== 'json') {
            throw new TypeError('recordsPages/recordsAll page through JSON only; use download() for files');
        }
        let cursor = query.cursor;
        for (;;) {
            /** @type {Schemas['RecordsPage']} */
            const page = await this.records(id, { ...query, cursor }, o);
            yield page;
            if (page.next_cursor == null) return;
            cursor = page.next_cursor;
        }
    }

    /**
     * Every row of a query, one at a time, following cursors to the end (async iterator).
     * @param {string} id
     * @param {RecordsQuery} [query]
     * @param {CallOptions} [o]
     * @returns {AsyncGenerator<Schemas['Row'], void, undefined>}
     */
    async *recordsAll(id, query = {}, o = {}) {
        for await (const page of this.recordsPages(id, query, o)) yield* page.data;
    }

    /**
     * GET /v1/datasets/{id}/download — the streamed file body (CSV by default, or NDJSON).
     * @param {string} id
     * @param {DownloadQuery} [opts]
     * @param {CallOptions} [o]
     * @returns {Promise<ReadableStream<Uint8Array>>}
     */
    download(id, opts = {}, o = {}) {
        checkKeys('download', opts, DOWNLOAD_KEYS);
        const p = new URLSearchParams();
        appendFilters(p, opts.filters);
        if (opts.format != null) p.set('format', opts.format);
        if (opts.order != null) p.set('order', joinList(opts.order));
        if (opts.delimiter != null) p.set('delimiter', opts.delimiter);
        if (opts.bom != null) p.set('bom', boolParam(opts.bom));
        return this._call('GET', `/v1/datasets/${encodeURIComponent(id)}/download`, { query: p, expect: 'stream', auth: false, signal: o.signal });
    }

    /**
     * Every row matching the filters, streamed from /download as NDJSON (constant memory; no paging).
     * @param {string} id
     * @param {{ filters?: Filters, order?: string | readonly string[] }} [opts]
     * @param {CallOptions} [o]
     * @returns {AsyncGenerator<Schemas['Row'], void, undefined>}
     */
    async *downloadRows(id, opts = {}, o = {}) {
        yield* readNdjson(await this.download(id, { ...opts, format: 'ndjson' }, o));
    }

    /**
     * GET /v1/emission-factors
     * @param {LangOptions} [o]
     * @returns {Promise<Schemas['EmissionFactors']>}
     */
    emissionFactors(o = {}) {
        return this._call('GET', '/v1/emission-factors', { query: this._langQuery(o), auth: false, signal: o.signal });
    }

    /**
     * GET /v1/usage — downloads and queries per day, dataset, format and country.
     * @param {CallOptions & { from?: string, to?: string, dataset?: string }} [o]
     * @returns {Promise<Schemas['UsageRow'][]>}
     */
    usage(o = {}) {
        const p = new URLSearchParams();
        if (o.from != null) p.set('from', o.from);
        if (o.to != null) p.set('to', o.to);
        if (o.dataset != null) p.set('dataset', o.dataset);
        return this._call('GET', '/v1/usage', { query: p, auth: false, signal: o.signal });
    }

    /**
     * POST /v1/feedback — anonymous feedback (a message, a rating, or both).
     * @param {Schemas['FeedbackInput']} input
     * @param {CallOptions} [o]
     * @returns {Promise<Schemas['FeedbackReceipt']>}
     */
    feedback(input, o = {}) {
        return this._call('POST', '/v1/feedback', { json: input, auth: false, signal: o.signal });
    }

    /**
     * GET /v1/feedback/stats
     * @param {CallOptions} [o]
     * @returns {Promise<Schemas['FeedbackStats']>}
     */
    feedbackStats(o = {}) {
        return this._call('GET', '/v1/feedback/stats', { auth: false, signal: o.signal });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The household's own data (consent token)

    /**
     * GET /v1/me/summary — the monthly climate summary (scope summary:read).
     * @param {CallOptions & { month?: string, lang?: Lang }} [o]
     * @returns {Promise<Schemas['MySummary']>}
     */
    summary(o = {}) {
        const p = new URLSearchParams();
        if (o.month != null) p.set('month', o.month);
        const lang = o.lang ?? this.lang;
        if (lang) p.set('lang', lang);
        return this._call('GET', '/v1/me/summary', { query: p, signal: o.signal });
    }

    /**
     * GET /v1/me/history — the household's months (at most 24) with the comparison group's median (scope summary:read).
     * @param {CallOptions & { from?: string, to?: string }} [o] months YYYY-MM; default the 12 up to the last whole month
     * @returns {Promise<Schemas['MyHistory']>}
     */
    history(o = {}) {
        const p = new URLSearchParams();
        if (o.from != null) p.set('from', o.from);
        if (o.to != null) p.set('to', o.to);
        return this._call('GET', '/v1/me/history', { query: p, signal: o.signal });
    }

    /**
     * @param {'energy'|'waste'|'mobility'} kind
     * @param {SeriesQuery} q
     * @param {CallOptions} o
     * @returns {Promise<any>}
     */
    _series(kind, q, o) {
        const { signal, ...rest } = q ?? /** @type {SeriesQuery} */ ({});
        checkKeys(kind, rest, SERIES_KEYS);
        const p = new URLSearchParams();
        if (rest.from != null) p.set('from', rest.from);
        if (rest.to != null) p.set('to', rest.to);
        if (rest.resolution != null) p.set('resolution', rest.resolution);
        if (rest.tz != null) p.set('tz', rest.tz);
        if (rest.format != null) p.set('format', rest.format);
        return this._call('GET', `/v1/me/${kind}`, { query: p, expect: rest.format === 'csv' ? 'text' : 'json', signal: signal ?? o.signal });
    }

    /**
     * GET /v1/me/energy — `from`, `to` (dates or instants), `resolution` hour|day|month, `tz`, `format` json|csv.
     * @param {SeriesQuery} q
     * @param {CallOptions} [o]
     * @returns {Promise<any>} MySeries (JSON) or CSV text
     */
    energy(q, o = {}) {
        return this._series('energy', q, o);
    }

    /**
     * GET /v1/me/waste
     * @param {SeriesQuery} q
     * @param {CallOptions} [o]
     * @returns {Promise<any>} MySeries (JSON) or CSV text
     */
    waste(q, o = {}) {
        return this._series('waste', q, o);
    }

    /**
     * GET /v1/me/mobility
     * @param {SeriesQuery} q
     * @param {CallOptions} [o]
     * @returns {Promise<any>} MySeries (JSON) or CSV text
     */
    mobility(q, o = {}) {
        return this._series('mobility', q, o);
    }

    /**
     * GET /v1/me/consents — every consent of the household (first-party apps, scope consents:manage).
     * @param {CallOptions} [o]
     * @returns {Promise<Schemas['Consent'][]>}
     */
    consents(o = {}) {
        return this._call('GET', '/v1/me/consents', { signal: o.signal });
    }

    /**
     * DELETE /v1/me/consents/{id} — revokes one consent at once.
     * @param {string} id
     * @param {CallOptions} [o]
     * @returns {Promise<void>}
     */
    revokeConsent(id, o = {}) {
        return this._call('DELETE', `/v1/me/consents/${encodeURIComponent(id)}`, { expect: 'none', signal: o.signal });
    }

    /**
     * GET /v1/me/export — all of the household's data as an NDJSON byte stream (scope export:read).
     * @param {CallOptions} [o]
     * @returns {Promise<ReadableStream<Uint8Array>>}
     */
    exportData(o = {}) {
        return this._call('GET', '/v1/me/export', { expect: 'stream', signal: o.signal });
    }

    /**
     * The export parsed: `{ kind, record }` objects one at a time.
     * @param {CallOptions} [o]
     * @returns {AsyncGenerator<{ kind: 'household'|'energy'|'waste'|'mobility', record: Record<string, unknown> }, void, undefined>}
     */
    async *exportRecords(o = {}) {
        yield* readNdjson(await this.exportData(o));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Consent flow for apps (OAuth 2.0 authorization code + PKCE S256)

    /**
     * GET /.well-known/oauth-authorization-server (RFC 8414).
     * @param {CallOptions} [o]
     * @returns {Promise<import('./schema.js').operations['getOAuthMetadata']['responses'][200]['content']['application/json']>}
     */
    oauthMetadata(o = {}) {
        return this._call('GET', '/.well-known/oauth-authorization-server', { auth: false, signal: o.signal });
    }

    /**
     * GET /.well-known/jwks.json — the keys that verify consent tokens.
     * @param {CallOptions} [o]
     * @returns {Promise<Schemas['Jwks']>}
     */
    jwks(o = {}) {
        return this._call('GET', '/.well-known/jwks.json', { auth: false, signal: o.signal });
    }

    /**
     * POST /oauth/register (RFC 7591): registers an app. Without `scope` (open data) it is active at once; with personal
     * scopes it is `pending` until an operator of the city approves it (`klimaspejl client approve`). A confidential
     * app (`tokenEndpointAuthMethod` other than `none`) gets its `client_secret` here, once.
     * @param {CallOptions & { clientName: string, redirectUris: readonly string[], tokenEndpointAuthMethod?: 'none'|'client_secret_basic'|'client_secret_post', scope?: string | readonly string[], contacts?: readonly string[] }} o
     * @returns {Promise<Schemas['RegisteredClient']>}
     */
    register(o) {
        if (!o || !o.clientName || !o.redirectUris || o.redirectUris.length === 0) {
            throw new TypeError('register needs clientName and at least one of redirectUris');
        }
        /** @type {{ client_name: string, redirect_uris: string[], token_endpoint_auth_method?: string, scope?: string, contacts?: string[] }} */
        const json = { client_name: o.clientName, redirect_uris: [...o.redirectUris] };
        if (o.tokenEndpointAuthMethod) json.token_endpoint_auth_method = o.tokenEndpointAuthMethod;
        if (o.scope) json.scope = typeof o.scope === 'string' ? o.scope : o.scope.join(' ');
        if (o.contacts) json.contacts = [...o.contacts];
        return this._call('POST', '/oauth/register', { json, auth: false, signal: o.signal });
    }

    /**
     * The URL to send the citizen's browser to (GET /oauth/authorize).
     * @param {{ clientId: string, redirectUri: string, scope: string | readonly string[], state?: string, codeChallenge: string, lang?: Lang }} o
     * @returns {string}
     */
    authorizeUrl(o) {
        if (!o || !o.clientId || !o.redirectUri || !o.scope || !o.codeChallenge) {
            throw new TypeError('authorizeUrl needs clientId, redirectUri, scope and codeChallenge');
        }
        const p = new URLSearchParams({
            response_type: 'code',
            client_id: o.clientId,
            redirect_uri: o.redirectUri,
            scope: typeof o.scope === 'string' ? o.scope : o.scope.join(' '),
            code_challenge: o.codeChallenge,
            code_challenge_method: 'S256',
        });
        if (o.state != null) p.set('state', o.state);
        const lang = o.lang ?? this.lang;
        if (lang) p.set('lang', lang);
        return `${this.baseUrl}/oauth/authorize?${p}`;
    }

    /**
     * Adds client authentication to a token/revocation form (client_id; client_secret_post for confidential clients).
     * @param {URLSearchParams} form
     * @param {string} clientId
     * @param {string} [clientSecret]
     */
    _clientAuth(form, clientId, clientSecret) {
        if (!clientId) throw new TypeError('clientId is required');
        form.set('client_id', clientId);
        if (clientSecret) form.set('client_secret', clientSecret);
    }

    /**
     * POST /oauth/token with grant_type=authorization_code: the code from the redirect for a consent token.
     * @param {CallOptions & { clientId: string, code: string, redirectUri: string, codeVerifier: string, clientSecret?: string }} o
     * @returns {Promise<Schemas['TokenResponse']>}
     */
    exchangeCode(o) {
        const form = new URLSearchParams({ grant_type: 'authorization_code', code: o.code, redirect_uri: o.redirectUri, code_verifier: o.codeVerifier });
        this._clientAuth(form, o.clientId, o.clientSecret);
        return this._call('POST', '/oauth/token', { form, auth: false, signal: o.signal });
    }

    /**
     * POST /oauth/token with grant_type=refresh_token. The answer holds a NEW refresh token: store it; the old one is
     * retired, and presenting it again revokes the whole consent.
     * @param {CallOptions & { clientId: string, refreshToken: string, clientSecret?: string }} o
     * @returns {Promise<Schemas['TokenResponse']>}
     */
    refresh(o) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: o.refreshToken });
        this._clientAuth(form, o.clientId, o.clientSecret);
        return this._call('POST', '/oauth/token', { form, auth: false, signal: o.signal });
    }

    /**
     * POST /oauth/revoke (RFC 7009): revokes the consent behind a refresh or access token.
     * @param {CallOptions & { token: string, clientId: string, tokenTypeHint?: 'refresh_token'|'access_token', clientSecret?: string }} o
     * @returns {Promise<void>}
     */
    revoke(o) {
        const form = new URLSearchParams({ token: o.token });
        if (o.tokenTypeHint) form.set('token_type_hint', o.tokenTypeHint);
        this._clientAuth(form, o.clientId, o.clientSecret);
        return this._call('POST', '/oauth/revoke', { form, auth: false, expect: 'none', signal: o.signal });
    }
}

/**
 * Reads the redirect back from /oauth/authorize: returns `{ code, state }`, or throws a KlimaspejlError with `error`
 * (`access_denied`, `invalid_scope`, ...) when the citizen declined or the request was refused. When
 * `expectedState` is given, a different `state` is refused (CSRF protection).
 * @param {string | URL} url the redirect URL (e.g. `location.href` on the callback page)
 * @param {string} [expectedState]
 * @returns {{ code: string, state: string | null }}
 */
export function parseRedirect(url, expectedState) {
    const u = new URL(String(url));
    const q = u.searchParams;
    const state = q.get('state');
    if (expectedState !== undefined && state !== expectedState) {
        throw new KlimaspejlError({ status: 400, error: 'invalid_state', errorDescription: 'the state on the redirect differs from the one sent', url: u.href });
    }
    const error = q.get('error');
    if (error) {
        throw new KlimaspejlError({ status: 400, error, errorDescription: q.get('error_description') ?? undefined, url: u.href });
    }
    const code = q.get('code');
    if (!code) throw new KlimaspejlError({ status: 400, error: 'invalid_request', errorDescription: 'the redirect has no code', url: u.href });
    return { code, state };
}
