/*
 * consent/session — the session cookie.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "app/auth.h"
#include "auth/jws.h"
#include "auth/token.h"
#include "consent/request.h"
#include "consent/session.h"
#include "core/strutil.h"
#include "http/problem.h"

#define SESSION_AUD "klimaspejl:session"

/* Sets the session cookie (a JWS of the service key naming the household, CONSENT_SESSION_TTL long). Sends 500 and returns -1
 * when it cannot be signed. */
int consent_session_start_or_reply(h2o_req_t *req, const auth_keyring_t *kr, const char *household)
{
    char claims[512], *tok;
    long now = (long)time(NULL);
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", app_auth_issuer(), "aud", SESSION_AUD, "sub", household, "iat",
                          (json_int_t)now, "exp", (json_int_t)(now + CONSENT_SESSION_TTL));
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

    json_decref(j);
    if (s == NULL || str_fmt(claims, sizeof(claims), "%s", s) < 0) {
        free(s);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Out of memory.", NULL);
        return -1;
    }
    free(s);
    if ((tok = auth_jws_sign(kr, "session+jwt", claims)) == NULL) {
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "Cannot sign the session.", NULL);
        return -1;
    }
    consent_cookie_set(req, "klima_session", tok, CONSENT_SESSION_TTL);
    free(tok);
    return 0;
}

/* The household of a valid session cookie, copied into the pool, or NULL. */
const char *consent_session_household(h2o_req_t *req, const auth_keyring_t *kr)
{
    const char *tok = consent_cookie_get(req, "klima_session");
    json_t *claims = NULL;
    const char *sub, *out = NULL;
    json_int_t now = (json_int_t)time(NULL);

    if (tok == NULL || auth_jws_verify(kr, tok, strlen(tok), &claims) != AUTH_JWS_OK)
        return NULL;
    if (json_is_string(json_object_get(claims, "aud")) &&
        strcmp(json_string_value(json_object_get(claims, "aud")), SESSION_AUD) == 0 &&
        json_is_string(json_object_get(claims, "iss")) &&
        strcmp(json_string_value(json_object_get(claims, "iss")), app_auth_issuer()) == 0 &&
        json_integer_value(json_object_get(claims, "exp")) > now &&
        (sub = json_string_value(json_object_get(claims, "sub"))) != NULL && auth_uuid_valid(sub)) {
        char *copy = h2o_mem_alloc_pool(&req->pool, 37);
        memcpy(copy, sub, 37);
        out = copy;
    }
    json_decref(claims);
    return out;
}
