/*
 * auth/token — signing and verifying consent JWTs.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/jws.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "core/strutil.h"

static const struct {
    const char *name, *detail;
} result_table[AUTH_TOKEN__COUNT] = {
    [AUTH_TOKEN_OK] = {"ok", "The token is valid."},
    [AUTH_TOKEN_MALFORMED] = {"malformed", "The token is not a compact JWS of three base64url parts (or is too long)."},
    [AUTH_TOKEN_BAD_ALG] = {"unsupported alg", "The token's alg is missing, none, HMAC or not supported (ES256 and RS256 are)."},
    [AUTH_TOKEN_UNKNOWN_KID] = {"unknown kid", "The token's kid names no key of this service (see /.well-known/jwks.json)."},
    [AUTH_TOKEN_ALG_MISMATCH] = {"alg mismatch", "The token's alg is not the algorithm its key (kid) is bound to."},
    [AUTH_TOKEN_BAD_SIGNATURE] = {"bad signature", "The token's signature does not verify."},
    [AUTH_TOKEN_BAD_TYP] = {"not an access token", "The token's typ header is not at+jwt (RFC 9068)."},
    [AUTH_TOKEN_BAD_ISSUER] = {"wrong issuer", "The token's iss is not this service."},
    [AUTH_TOKEN_BAD_AUDIENCE] = {"wrong audience", "The token's aud is not a registered client of this service."},
    [AUTH_TOKEN_EXPIRED] = {"expired", "The token has expired (exp is past, 60 s leeway)."},
    [AUTH_TOKEN_NOT_YET_VALID] = {"not yet valid", "The token is not valid yet (nbf or iat is in the future, 60 s leeway)."},
    [AUTH_TOKEN_BAD_CLAIMS] = {"bad claims",
                               "The token lacks sub, cid, scope, jti, iat or exp, or is valid for longer than one hour."},
};

const char *auth_token_result_name(auth_token_result_t r)
{
    return r < AUTH_TOKEN__COUNT ? result_table[r].name : "invalid";
}

const char *auth_token_result_detail(auth_token_result_t r)
{
    return r < AUTH_TOKEN__COUNT ? result_table[r].detail : "The token is invalid.";
}

int auth_client_id_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 8 && n <= AUTH_CLIENT_ID_MAX && str_is_word(s, n, "_-");
}

int auth_uuid_valid(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; ++i) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

char *auth_token_sign(const auth_keyring_t *kr, const char *iss, const char *sub, const char *aud, const char *cid, uint32_t scopes,
                      int64_t now, unsigned ttl)
{
    char scope[512], jti[32], *claims, *out;
    json_t *j;

    if (ttl == 0 || ttl > AUTH_TOKEN_MAX_TTL || auth_scope_format(scopes, scope, sizeof(scope)) != 0 ||
        auth_random_token(16, jti, sizeof(jti)) != 0)
        return NULL;
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "iss", iss, "sub", sub, "aud", aud, "scope", scope, "cid", cid,
                  "jti", jti, "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp", (json_int_t)(now + ttl));
    claims = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    out = claims != NULL ? auth_jws_sign(kr, AUTH_TOKEN_TYP, claims) : NULL;
    free(claims);
    return out;
}

static int copy_str(json_t *claims, const char *name, char *out, size_t size)
{
    const char *s = json_string_value(json_object_get(claims, name));
    return s != NULL && str_fmt(out, size, "%s", s) >= 0 ? 0 : -1;
}

auth_token_result_t auth_token_verify(const auth_keyring_t *kr, const char *iss, const char *audience, const char *token,
                                      size_t len, int64_t now, auth_claims_t *out)
{
    json_t *claims = NULL;
    const char *s;
    auth_token_result_t r;

    memset(out, 0, sizeof(*out));
    if ((r = (auth_token_result_t)auth_jws_verify_typ(kr, AUTH_TOKEN_TYP, token, len, &claims)) != AUTH_TOKEN_OK)
        goto exit;
    if ((s = json_string_value(json_object_get(claims, "iss"))) == NULL || strcmp(s, iss) != 0) {
        r = AUTH_TOKEN_BAD_ISSUER;
        goto exit;
    }
    if (copy_str(claims, "aud", out->aud, sizeof(out->aud)) != 0 || !auth_client_id_valid(out->aud) ||
        (audience != NULL && strcmp(out->aud, audience) != 0)) {
        r = AUTH_TOKEN_BAD_AUDIENCE;
        goto exit;
    }
    if (auth_jws_numeric_date(claims, "exp", &out->exp) != 0 || auth_jws_numeric_date(claims, "iat", &out->iat) != 0) {
        r = AUTH_TOKEN_BAD_CLAIMS;
        goto exit;
    }
    if (json_object_get(claims, "nbf") == NULL)
        out->nbf = out->iat;
    else if (auth_jws_numeric_date(claims, "nbf", &out->nbf) != 0) {
        r = AUTH_TOKEN_BAD_CLAIMS;
        goto exit;
    }
    if (now > out->exp + AUTH_TOKEN_LEEWAY) {
        r = AUTH_TOKEN_EXPIRED;
        goto exit;
    }
    if (now + AUTH_TOKEN_LEEWAY < out->nbf || now + AUTH_TOKEN_LEEWAY < out->iat) {
        r = AUTH_TOKEN_NOT_YET_VALID;
        goto exit;
    }
    if (out->exp - out->iat > AUTH_TOKEN_MAX_TTL || out->exp <= out->iat ||
        copy_str(claims, "sub", out->sub, sizeof(out->sub)) != 0 || !auth_uuid_valid(out->sub) ||
        copy_str(claims, "cid", out->cid, sizeof(out->cid)) != 0 || !auth_uuid_valid(out->cid) ||
        !json_is_string(json_object_get(claims, "jti")) || (s = json_string_value(json_object_get(claims, "scope"))) == NULL ||
        auth_scope_parse(s, 0, &out->scopes) != 0) {
        r = AUTH_TOKEN_BAD_CLAIMS;
        goto exit;
    }
    r = AUTH_TOKEN_OK;
exit:
    if (r != AUTH_TOKEN_OK)
        memset(out, 0, sizeof(*out));
    json_decref(claims);
    return r;
}
