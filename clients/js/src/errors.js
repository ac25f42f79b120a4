// errors.js — the one error class the client throws for an HTTP answer that is not a success.
//
// klimaspejl answers errors as RFC 9457 problem documents (application/problem+json: type, title, status, detail,
// instance and, when a request parameter is at fault, `parameter`). The OAuth endpoints (/oauth/token, /oauth/revoke)
// answer RFC 6749 section 5.2 JSON instead (error, error_description). Both end up in a KlimaspejlError.

/** @typedef {import('./schema.js').components['schemas']['Problem']} Problem */
/** @typedef {import('./schema.js').components['schemas']['OAuthError']} OAuthErrorBody */

export class KlimaspejlError extends Error {
    /**
     * @param {object} init
     * @param {number} init.status HTTP status
     * @param {string} [init.type] problem type (`/docs/problems#invalid-parameter`, ...)
     * @param {string} [init.title]
     * @param {string} [init.detail]
     * @param {string} [init.instance]
     * @param {string} [init.parameter] the request parameter at fault, when the server names one
     * @param {string} [init.error] RFC 6749 error code (OAuth endpoints)
     * @param {string} [init.errorDescription] RFC 6749 error_description
     * @param {number|null} [init.retryAfter] seconds from a Retry-After header
     * @param {string} [init.url] the request URL
     * @param {string} [init.method] the request method
     * @param {Headers} [init.headers] the response headers
     * @param {unknown} [init.body] the parsed problem (or OAuth error) body, or the text body
     */
    constructor(init) {
        const what = init.detail || init.errorDescription || init.title || init.error || `HTTP ${init.status}`;
        super(`${init.method || 'GET'} ${init.url || ''}: ${init.status} ${what}${init.parameter ? ` (parameter: ${init.parameter})` : ''}`);
        this.name = 'KlimaspejlError';
        /** @type {number} */
        this.status = init.status;
        /** @type {string|undefined} */
        this.type = init.type;
        /** @type {string|undefined} */
        this.title = init.title;
        /** @type {string|undefined} */
        this.detail = init.detail;
        /** @type {string|undefined} */
        this.instance = init.instance;
        /** @type {string|undefined} */
        this.parameter = init.parameter;
        /** @type {string|undefined} */
        this.error = init.error;
        /** @type {string|undefined} */
        this.errorDescription = init.errorDescription;
        /** @type {number|null} */
        this.retryAfter = init.retryAfter ?? null;
        /** @type {string|undefined} */
        this.url = init.url;
        /** @type {string|undefined} */
        this.method = init.method;
        /** @type {Headers|undefined} */
        this.headers = init.headers;
        /** @type {unknown} */
        this.body = init.body;
    }

    /** The part of `type` after `#` (`invalid-parameter`, `gone`, ...), or undefined. */
    get kind() {
        if (typeof this.type !== 'string') return undefined;
        const i = this.type.indexOf('#');
        return i === -1 ? this.type : this.type.slice(i + 1);
    }
}

/**
 * Seconds to wait from a Retry-After header value (delta-seconds or an HTTP-date), or null when absent or invalid.
 * @param {string|null|undefined} value
 * @param {number} [now] milliseconds since the epoch
 * @returns {number|null}
 */
export function parseRetryAfter(value, now = Date.now()) {
    if (value == null) return null;
    const v = String(value).trim();
    if (/^\d+$/.test(v)) return Number(v);
    const t = Date.parse(v);
    if (Number.isNaN(t)) return null;
    return Math.max(0, Math.ceil((t - now) / 1000));
}

/**
 * Builds a KlimaspejlError from a non-success Response (reads its body).
 * @param {Response} res
 * @param {string} method
 * @param {string} url
 * @returns {Promise<KlimaspejlError>}
 */
export async function errorFromResponse(res, method, url) {
    let text = '';
    try {
        text = await res.text();
    } catch {
        // the body could not be read; the status is still worth reporting
    }
    /** @type {any} */
    let body = text;
    const ct = res.headers.get('content-type') || '';
    if (/json/i.test(ct) || /^\s*\{/.test(text)) {
        try {
            body = JSON.parse(text);
        } catch {
            body = text;
        }
    }
    const p = body !== null && typeof body === 'object' ? body : {};
    return new KlimaspejlError({
        status: res.status,
        type: typeof p.type === 'string' ? p.type : undefined,
        title: typeof p.title === 'string' ? p.title : res.statusText || undefined,
        detail: typeof p.detail === 'string' ? p.detail : undefined,
        instance: typeof p.instance === 'string' ? p.instance : undefined,
        parameter: typeof p.parameter === 'string' ? p.parameter : undefined,
        error: typeof p.error === 'string' ? p.error : undefined,
        errorDescription: typeof p.error_description === 'string' ? p.error_description : undefined,
        retryAfter: parseRetryAfter(res.headers.get('retry-after')),
        url,
        method,
        headers: res.headers,
        body,
    });
}
