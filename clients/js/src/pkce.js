// pkce.js — RFC 7636 Proof Key for Code Exchange (S256 only, as klimaspejl requires) with WebCrypto, so it runs the
// same in browsers and in Node (globalThis.crypto; Node 18 without the global falls back to node:crypto's webcrypto).

/** @returns {Promise<Crypto>} */
async function webCrypto() {
    if (globalThis.crypto && globalThis.crypto.subtle) return globalThis.crypto;
    // Node 18 exposes WebCrypto only as node:crypto's `webcrypto` (the global arrived in Node 19). The specifier is
    // computed so that browser bundlers do not try to resolve it.
    const name = 'node:crypto';
    try {
        const mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ name);
        if (mod.webcrypto && mod.webcrypto.subtle) return /** @type {Crypto} */ (mod.webcrypto);
    } catch {
        // not Node: a browser page without a secure context (crypto.subtle needs https or localhost)
    }
    throw new Error('WebCrypto (crypto.subtle) is not available: use Node >= 18, or a browser page served over https or from localhost');
}

/**
 * base64url without padding (RFC 4648 section 5).
 * @param {ArrayBuffer|Uint8Array} bytes
 * @returns {string}
 */
export function base64url(bytes) {
    const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    let bin = '';
    for (let i = 0; i < u8.length; i += 0x8000) bin += String.fromCharCode(...u8.subarray(i, i + 0x8000));
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * A random URL-safe string of `bytes` random bytes (base64url), for `state` or a code verifier.
 * @param {number} [bytes] default 32 (43 characters)
 * @returns {Promise<string>}
 */
export async function randomString(bytes = 32) {
    const c = await webCrypto();
    const buf = new Uint8Array(bytes);
    c.getRandomValues(buf);
    return base64url(buf);
}

/**
 * The S256 code challenge of a verifier: BASE64URL(SHA-256(ASCII(verifier))).
 * @param {string} verifier
 * @returns {Promise<string>}
 */
export async function pkceChallenge(verifier) {
    const c = await webCrypto();
    const digest = await c.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    return base64url(digest);
}

/**
 * A fresh PKCE pair: a 43-character verifier (32 random bytes, base64url) and its S256 challenge. Keep the verifier
 * secret until the token exchange; send the challenge with the authorization request.
 * @returns {Promise<{ codeVerifier: string, codeChallenge: string, codeChallengeMethod: 'S256' }>}
 */
export async function createPkcePair() {
    const codeVerifier = await randomString(32);
    return { codeVerifier, codeChallenge: await pkceChallenge(codeVerifier), codeChallengeMethod: 'S256' };
}

/**
 * A random `state` value for the authorization request (compare it with the one on the redirect).
 * @returns {Promise<string>}
 */
export function createState() {
    return randomString(16);
}
