// auth.js — the dashboard's sign-in as the city's first-party public client: OAuth 2.0 authorization code with PKCE
// (S256, crypto.subtle) against this server, tokens kept in sessionStorage (gone when the tab closes), a refresh when
// the access token expires, and sign-out (RFC 7009 revoke of the refresh token; POST /oauth/logout ends the login session).

const KEY = 'klimaspejl.auth';
const PENDING = 'klimaspejl.pending';
export const SCOPES = 'summary:read energy:read waste:read mobility:read export:read consents:manage';

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
const redirectUri = () => `${location.origin}/callback`;

/** The first-party client id (assets/client.json, written by server/run). Throws when it is missing. */
export async function clientId() {
    const res = await fetch('/assets/client.json', { cache: 'no-cache' });
    if (!res.ok) throw new Error('assets/client.json is missing: start the server with server/run');
    return (await res.json()).client_id;
}

/** Sends the browser to the consent flow; returns when navigation starts. */
export async function signIn(lang) {
    const verifier = random(32);
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const state = random(16);
    const id = await clientId();
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, clientId: id }));
    const q = new URLSearchParams({
        response_type: 'code',
        client_id: id,
        redirect_uri: redirectUri(),
        scope: SCOPES,
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        lang,
    });
    location.assign(`/oauth/authorize?${q}`);
}

function store(tok, id) {
    sessionStorage.setItem(KEY, JSON.stringify({
        access: tok.access_token,
        refresh: tok.refresh_token,
        expires: Date.now() + (tok.expires_in - 30) * 1000,
        clientId: id,
    }));
}

async function tokenRequest(form) {
    const res = await fetch('/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error_description || body.error || `token endpoint: ${res.status}`);
    return body;
}

/** On /callback: checks state, redeems the code. Resolves to null on success, else an error message. */
export async function finishSignIn(params) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || 'null');
    sessionStorage.removeItem(PENDING);
    if (params.get('error')) return params.get('error_description') || params.get('error');
    if (!pending || params.get('state') !== pending.state) return 'state mismatch: start the sign-in again';
    try {
        const tok = await tokenRequest({
            grant_type: 'authorization_code',
            code: params.get('code') || '',
            redirect_uri: redirectUri(),
            client_id: pending.clientId,
            code_verifier: pending.verifier,
        });
        store(tok, pending.clientId);
        return null;
    } catch (e) {
        return e.message;
    }
}

const session = () => JSON.parse(sessionStorage.getItem(KEY) || 'null');
export const signedIn = () => session() !== null;

/** An access token, refreshed when expired; null when signed out (or the consent ended). */
export async function accessToken() {
    const s = session();
    if (!s) return null;
    if (Date.now() < s.expires) return s.access;
    try {
        store(await tokenRequest({ grant_type: 'refresh_token', refresh_token: s.refresh, client_id: s.clientId }), s.clientId);
        return session().access;
    } catch {
        sessionStorage.removeItem(KEY);
        return null;
    }
}

/** fetch with the bearer token; a 401 ends the session (the consent was revoked or expired). */
export async function authFetch(path, opts = {}) {
    const tok = await accessToken();
    if (!tok) return null;
    const res = await fetch(path, { ...opts, headers: { ...(opts.headers || {}), authorization: `Bearer ${tok}` } });
    if (res.status === 401) sessionStorage.removeItem(KEY);
    return res;
}

/**
 * Signs out: forgets the tokens, revokes the refresh token (RFC 7009) and ends the login session at the consent service
 * (POST /oauth/logout), so that the next "Log ind" on this computer starts at the login, never with the previous
 * household.
 */
export async function signOut() {
    const s = session();
    sessionStorage.removeItem(KEY);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await Promise.all([
        s
            ? fetch('/oauth/revoke', {
                  method: 'POST',
                  headers: form,
                  body: new URLSearchParams({ token: s.refresh, token_type_hint: 'refresh_token', client_id: s.clientId }).toString(),
              }).catch(() => {})
            : null,
        fetch('/oauth/logout', { method: 'POST', headers: form, body: '', credentials: 'same-origin' }).catch(() => {}),
    ]);
}
