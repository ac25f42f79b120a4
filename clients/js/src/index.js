// @klimaspejl/client — the klimaspejl API from JavaScript (Node >= 18 and browsers; fetch-based, no dependencies).
export { KlimaspejlClient, VERSION, parseRedirect, readNdjson, recordsSearchParams } from './client.js';
export { KlimaspejlError, parseRetryAfter } from './errors.js';
export { base64url, createPkcePair, createState, pkceChallenge, randomString } from './pkce.js';
