/*
 * auth/jws — decoding, verifying and signing compact JWS.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jwt.h>

#include "auth/jws.h"
#include "core/b64.h"

/* Decodes one base64url part holding a JSON object; NULL if it is not one. */
static json_t *decode_part(const char *s, size_t len)
{
    unsigned char buf[AUTH_JWS_MAX_LEN];
    int n = b64url_decode(s, len, buf, sizeof(buf));
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

/* The signature part must be canonical base64url too (no padding, no '+' or '/', no leftover bits): libjwt's own decoder
 * accepts several spellings of one signature, and a token has exactly one. Empty is fine here (an unsecured JWS). */
static int canonical_signature(const char *s, size_t len)
{
    unsigned char buf[AUTH_JWS_MAX_LEN];
    return len == 0 || b64url_decode(s, len, buf, sizeof(buf)) > 0;
}

auth_jws_result_t auth_jws_decode(const char *token, size_t len, auth_jws_t *out)
{
    const char *dot1, *dot2, *alg;

    memset(out, 0, sizeof(*out));
    if (len == 0 || len > AUTH_JWS_MAX_LEN || (dot1 = memchr(token, '.', len)) == NULL ||
        (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token))) == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL || memchr(token, '\0', len) != NULL)
        return AUTH_JWS_MALFORMED;
    if ((out->header = decode_part(token, (size_t)(dot1 - token))) == NULL ||
        (out->claims = decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1))) == NULL ||
        !canonical_signature(dot2 + 1, len - (size_t)(dot2 + 1 - token))) {
        auth_jws_clear(out);
        return AUTH_JWS_MALFORMED;
    }
    if ((alg = json_string_value(json_object_get(out->header, "alg"))) == NULL || auth_alg_parse(alg, &out->alg) != 0) {
        auth_jws_clear(out);
        return AUTH_JWS_BAD_ALG;
    }
    out->kid = json_string_value(json_object_get(out->header, "kid"));
    out->signed_ = dot2 + 1 != token + len;
    return AUTH_JWS_OK;
}

auth_jws_result_t auth_jws_check(const auth_jws_t *j, const char *token, size_t len, const char *public_pem, jwt_alg_t jwt_alg)
{
    jwt_t *jwt = NULL;
    char *copy;
    auth_jws_result_t r = AUTH_JWS_BAD_SIGNATURE;

    if (!j->signed_)
        return AUTH_JWS_BAD_SIGNATURE; /* an unsecured JWS relabelled */
    if (json_object_get(j->header, "crit") != NULL)
        return AUTH_JWS_MALFORMED;
    if ((copy = malloc(len + 1)) == NULL)
        return AUTH_JWS_MALFORMED;
    memcpy(copy, token, len);
    copy[len] = '\0';
    if (jwt_decode(&jwt, copy, (const unsigned char *)public_pem, (int)strlen(public_pem)) == 0 && jwt_get_alg(jwt) == jwt_alg)
        r = AUTH_JWS_OK;
    jwt_free(jwt);
    free(copy);
    return r;
}

void auth_jws_clear(auth_jws_t *j)
{
    json_decref(j->header);
    json_decref(j->claims);
    memset(j, 0, sizeof(*j));
}

/* typ names the kind of token: "at+jwt" or "application/at+jwt", any case. */
static int typ_is(const json_t *header, const char *typ)
{
    const char *t = json_string_value(json_object_get(header, "typ"));
    if (t == NULL)
        return 0;
    if (strncasecmp(t, "application/", 12) == 0)
        t += 12;
    return strcasecmp(t, typ) == 0;
}

static auth_jws_result_t jws_verify(const auth_keyring_t *kr, const char *typ, const char *token, size_t len, json_t **claims)
{
    auth_jws_t j;
    const auth_key_t *key;
    auth_jws_result_t r;

    *claims = NULL;
    if (len > 0 && token[len - 1] == '.')
        return AUTH_JWS_MALFORMED; /* our tokens are always signed: an empty signature is a broken token */
    if ((r = auth_jws_decode(token, len, &j)) != AUTH_JWS_OK)
        return r;
    if (j.kid == NULL || (key = auth_keyring_find(kr, j.kid)) == NULL)
        r = AUTH_JWS_UNKNOWN_KID;
    else if (key->alg != j.alg)
        r = AUTH_JWS_ALG_MISMATCH;
    else
        r = auth_jws_check(&j, token, len, key->public_pem, key->jwt_alg);
    if (r == AUTH_JWS_OK && typ != NULL && !typ_is(j.header, typ))
        r = AUTH_JWS_BAD_TYP;
    if (r == AUTH_JWS_OK) {
        *claims = j.claims;
        j.claims = NULL;
    }
    auth_jws_clear(&j);
    return r;
}

auth_jws_result_t auth_jws_verify(const auth_keyring_t *kr, const char *token, size_t len, json_t **claims)
{
    return jws_verify(kr, NULL, token, len, claims);
}

auth_jws_result_t auth_jws_verify_typ(const auth_keyring_t *kr, const char *typ, const char *token, size_t len, json_t **claims)
{
    return jws_verify(kr, typ, token, len, claims);
}

int auth_jws_numeric_date(json_t *claims, const char *name, int64_t *out)
{
    json_t *v = json_object_get(claims, name);
    if (!json_is_integer(v))
        return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
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
