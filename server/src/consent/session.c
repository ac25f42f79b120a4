/*
 * consent/session — the session cookie and the CSRF token bound to it.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "app/auth.h"
#include "auth/keyring.h"
#include "consent/session.h"
#include "core/b64.h"
#include "core/sbuf.h"
#include "http/problem.h"

#define SESSION_ID_LEN 43 /* base64url of 32 random bytes */

/* The session id of req's cookie (43 base64url characters, the cookie given exactly once), in the pool, or NULL. */
static const char *consent_session_id(h2o_req_t *req)
{
    const char *sid = consent_cookie_get(req, CONSENT_SESSION_COOKIE);
    return sid != NULL && b64url_is_token(sid, SESSION_ID_LEN, SESSION_ID_LEN) ? sid : NULL;
}

const char *consent_session_hash(h2o_req_t *req)
{
    const char *sid = consent_session_id(req);
    return sid != NULL ? consent_hash_param(req, sid) : NULL;
}

const char *consent_session_new_or_reply(h2o_req_t *req)
{
    char *sid = h2o_mem_alloc_pool(&req->pool, SESSION_ID_LEN + 5);
    if (auth_random_token(32, sid, SESSION_ID_LEN + 5) != 0) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness for the session.", NULL);
        return NULL;
    }
    return sid;
}

void consent_session_set(h2o_req_t *req, const char *sid)
{
    consent_cookie_set(req, CONSENT_SESSION_COOKIE, sid, CONSENT_SESSION_TTL);
}

void consent_session_clear(h2o_req_t *req)
{
    consent_cookie_set(req, CONSENT_SESSION_COOKIE, "", 0);
}

/* The CSRF token of session id sid: base64url of its HMAC under the server secret, in the pool. */
static const char *csrf_of(h2o_req_t *req, const char *sid)
{
    unsigned char mac[32];
    sbuf_t b = SBUF_INIT(SBUF_CAP_VALUE);
    char *out;
    app_auth_mac("csrf", sid, strlen(sid), mac);
    b64url_append(&b, (const char *)mac, sizeof(mac));
    out = h2o_mem_alloc_pool(&req->pool, b.len + 1);
    memcpy(out, b.data != NULL ? b.data : "", b.len);
    out[b.len] = '\0';
    sbuf_free(&b);
    return out;
}

const char *consent_csrf_token_or_reply(h2o_req_t *req)
{
    const char *sid = consent_session_id(req);
    if (sid == NULL) {
        /* an anonymous session: in no table, it only anchors this token */
        if ((sid = consent_session_new_or_reply(req)) == NULL)
            return NULL;
        consent_session_set(req, sid);
    }
    return csrf_of(req, sid);
}

int consent_csrf_check_or_reply(h2o_req_t *req, const consent_params_t *p)
{
    const char *sid = consent_session_id(req), *f = p->v[P_CSRF];
    const char *want = sid != NULL ? csrf_of(req, sid) : NULL;
    if (want == NULL || f == NULL || strlen(f) != strlen(want) || CRYPTO_memcmp(f, want, strlen(want)) != 0) {
        http_problem_send(req, HTTP_PROBLEM_FORBIDDEN,
                          sid == NULL ? "This browser has no session with the consent service (cookies off, or it expired): "
                                        "reload the page and try again."
                                      : "The form's CSRF token is not the one of this browser's session (reload the page and "
                                        "try again).",
                          "csrf");
        return -1;
    }
    return 0;
}
