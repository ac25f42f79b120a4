/*
 * auth/token — signing and verifying consent JWTs.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>

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
    size_t n = 0;
    for (; s[n] != '\0'; ++n) {
        char c = s[n];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return n >= 8 && n <= AUTH_CLIENT_ID_MAX;
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
    const auth_key_t *key = kr->signing;
    jwt_t *jwt = NULL;
    char scope[512], jti[32], *out = NULL;

    if (ttl == 0 || ttl > AUTH_TOKEN_MAX_TTL || auth_scope_format(scopes, scope, sizeof(scope)) != 0 ||
        auth_random_token(16, jti, sizeof(jti)) != 0)
        return NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_set_alg(jwt, key->jwt_alg, (const unsigned char *)key->private_pem, (int)strlen(key->private_pem)) != 0 ||
        jwt_add_header(jwt, "kid", key->kid) != 0 || jwt_add_header(jwt, "typ", "at+jwt") != 0 ||
        jwt_add_grant(jwt, "iss", iss) != 0 || jwt_add_grant(jwt, "sub", sub) != 0 || jwt_add_grant(jwt, "aud", aud) != 0 ||
        jwt_add_grant(jwt, "scope", scope) != 0 || jwt_add_grant(jwt, "cid", cid) != 0 || jwt_add_grant(jwt, "jti", jti) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)now) != 0 || jwt_add_grant_int(jwt, "nbf", (long)now) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)(now + ttl)) != 0)
        goto exit;
    out = jwt_encode_str(jwt);
exit:
    jwt_free(jwt);
    return out;
}

/* Decodes one base64url part holding a JSON object; NULL if it is not one. */
static json_t *decode_part(const char *s, size_t len)
{
    unsigned char buf[AUTH_TOKEN_MAX_LEN];
    int n = auth_b64url_decode(s, len, buf, sizeof(buf));
    json_t *j;
    if (n <= 0)
        return NULL;
    j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* A NumericDate claim as an integer (jose may write integers only; fractions are refused). */
static int get_time(json_t *claims, const char *name, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

static int copy_str(json_t *claims, const char *name, char *out, size_t size)
{
    const char *s = json_string_value(json_object_get(claims, name));
    return s != NULL && str_fmt(out, size, "%s", s) >= 0 ? 0 : -1;
}

auth_token_result_t auth_jws_verify(const auth_keyring_t *kr, const char *token, size_t len, json_t **claims_out)
{
    const char *dot1, *dot2;
    json_t *header = NULL, *claims = NULL;
    const char *alg_name, *kid;
    const auth_key_t *key;
    auth_alg_t alg;
    jwt_t *jwt = NULL;
    char *copy = NULL;
    auth_token_result_t r;

    *claims_out = NULL;
    if (len == 0 || len > AUTH_TOKEN_MAX_LEN || (dot1 = memchr(token, '.', len)) == NULL ||
        (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))) == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL || dot2 + 1 == token + len ||
        memchr(token, '\0', len) != NULL) {
        r = AUTH_TOKEN_MALFORMED;
        goto exit;
    }
    if ((header = decode_part(token, (size_t)(dot1 - token))) == NULL ||
        (claims = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1))) == NULL) {
        r = AUTH_TOKEN_MALFORMED;
        goto exit;
    }
    /* the key decides the algorithm: refuse none/HMAC/mismatches before any cryptography */
    if ((alg_name = json_string_value(json_object_get(header, "alg"))) == NULL || auth_alg_parse(alg_name, &alg) != 0) {
        r = AUTH_TOKEN_BAD_ALG;
        goto exit;
    }
    if ((kid = json_string_value(json_object_get(header, "kid"))) == NULL || (key = auth_keyring_find(kr, kid)) == NULL) {
        r = AUTH_TOKEN_UNKNOWN_KID;
        goto exit;
    }
    if (key->alg != alg) {
        r = AUTH_TOKEN_ALG_MISMATCH;
        goto exit;
    }
    if (json_object_get(header, "crit") != NULL) {
        r = AUTH_TOKEN_MALFORMED; /* no extension is understood (RFC 7515 4.1.11) */
        goto exit;
    }
    if ((copy = malloc(len + 1)) == NULL) {
        r = AUTH_TOKEN_MALFORMED;
        goto exit;
    }
    memcpy(copy, token, len);
    copy[len] = '\0';
    if (jwt_decode(&jwt, copy, (const unsigned char *)key->public_pem, (int)strlen(key->public_pem)) != 0 ||
        jwt_get_alg(jwt) != key->jwt_alg) {
        r = AUTH_TOKEN_BAD_SIGNATURE;
        goto exit;
    }
    *claims_out = claims;
    claims = NULL;
    r = AUTH_TOKEN_OK;
exit:
    jwt_free(jwt);
    free(copy);
    json_decref(header);
    json_decref(claims);
    return r;
}

char *auth_jws_sign(const auth_keyring_t *kr, const char *typ, const char *claims_json)
{
    const auth_key_t *key = kr->signing;
    jwt_t *jwt = NULL;
    char *out = NULL;

    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_set_alg(jwt, key->jwt_alg, (const unsigned char *)key->private_pem, (int)strlen(key->private_pem)) == 0 &&
        jwt_add_header(jwt, "kid", key->kid) == 0 && jwt_add_header(jwt, "typ", typ) == 0 &&
        jwt_add_grants_json(jwt, claims_json) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}

auth_token_result_t auth_token_verify(const auth_keyring_t *kr, const char *iss, const char *audience, const char *token,
                                      size_t len, int64_t now, auth_claims_t *out)
{
    json_t *claims = NULL;
    const char *s;
    auth_token_result_t r;

    memset(out, 0, sizeof(*out));
    if ((r = auth_jws_verify(kr, token, len, &claims)) != AUTH_TOKEN_OK)
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
    if (get_time(claims, "exp", &out->exp) != 0 || get_time(claims, "iat", &out->iat) != 0) {
        r = AUTH_TOKEN_BAD_CLAIMS;
        goto exit;
    }
    if (json_object_get(claims, "nbf") == NULL)
        out->nbf = out->iat;
    else if (get_time(claims, "nbf", &out->nbf) != 0) {
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
