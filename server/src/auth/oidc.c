/*
 * auth/oidc — loading the identity provider's key and verifying its id_tokens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/jws.h"
#include "auth/oidc.h"
#include "auth/token.h"
#include "core/strutil.h"

#define OIDC_KEYFILE_MAX 65536

static const struct {
    const char *name, *detail;
} result_table[AUTH_OIDC__COUNT] = {
    [AUTH_OIDC_OK] = {"ok", "The id_token is valid."},
    [AUTH_OIDC_MALFORMED] = {"malformed", "The id_token is not a compact JWS of three base64url parts (or is too long)."},
    [AUTH_OIDC_BAD_ALG] = {"unsupported alg",
                           "The id_token's alg is missing, none, HMAC or not the algorithm of the identity provider's key."},
    [AUTH_OIDC_BAD_SIGNATURE] = {"bad signature", "The id_token's signature does not verify with the identity provider's key."},
    [AUTH_OIDC_BAD_ISSUER] = {"wrong issuer", "The id_token's iss is not the configured identity provider."},
    [AUTH_OIDC_BAD_AUDIENCE] = {"wrong audience", "The id_token's aud does not contain klimaspejl's client id (or azp names "
                                                  "another client)."},
    [AUTH_OIDC_EXPIRED] = {"expired", "The id_token has expired (exp is past, 60 s leeway)."},
    [AUTH_OIDC_NOT_YET_VALID] = {"not yet valid", "The id_token is not valid yet (iat or nbf is in the future, 60 s leeway)."},
    [AUTH_OIDC_BAD_CLAIMS] = {"bad claims", "The id_token lacks exp, iat, sub or nonce, or one of them is malformed."},
};

const char *auth_oidc_result_name(auth_oidc_result_t r)
{
    return r < AUTH_OIDC__COUNT ? result_table[r].name : "invalid";
}

const char *auth_oidc_result_detail(auth_oidc_result_t r)
{
    return r < AUTH_OIDC__COUNT ? result_table[r].detail : "The id_token is invalid.";
}

void auth_oidc_free(auth_oidc_t *o)
{
    if (o == NULL)
        return;
    free(o->issuer);
    free(o->client_id);
    free(o->authorization_endpoint);
    free(o->public_pem);
    free(o);
}

/* Reads a PEM public key (SubjectPublicKeyInfo) or certificate; NULL if the file holds neither. */
static EVP_PKEY *read_public_key(const char *pem, size_t len)
{
    BIO *in = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = NULL;
    X509 *cert = NULL;

    if (in == NULL)
        return NULL;
    if ((pkey = PEM_read_bio_PUBKEY(in, NULL, NULL, NULL)) == NULL) {
        (void)BIO_reset(in);
        if ((cert = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL)
            pkey = X509_get_pubkey(cert);
    }
    X509_free(cert);
    BIO_free(in);
    return pkey;
}

/* Binds the key to its one algorithm and keeps its public PEM; returns 0, or -1 with err set. */
static int use_key(auth_oidc_t *o, EVP_PKEY *pkey, const char *path, char *err, size_t errlen)
{
    const char *why = auth_key_bind(pkey, &o->alg, &o->jwt_alg, &o->public_pem);
    if (why != NULL) {
        str_fmt(err, errlen, "KLIMA_OIDC_KEY: %s: %s", path, why);
        return -1;
    }
    return 0;
}

/* An absolute http(s) URL without spaces, quotes or a fragment (it is put into a Location header). */
static int url_ok(const char *u)
{
    if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
        return 0;
    for (; *u != '\0'; ++u) {
        if (*u <= 0x20 || *u >= 0x7f || *u == '"' || *u == '<' || *u == '>' || *u == '\\' || *u == '#')
            return 0;
    }
    return 1;
}

auth_oidc_t *auth_oidc_load(const char *issuer, const char *key_path, const char *client_id, const char *authorization_endpoint,
                            char *err, size_t errlen)
{
    auth_oidc_t *o = calloc(1, sizeof(*o)), *ret = NULL;
    FILE *f = NULL;
    char *pem = NULL;
    size_t n;
    EVP_PKEY *pkey = NULL;

    if (o == NULL) {
        str_fmt(err, errlen, "out of memory");
        goto fail;
    }
    if (issuer == NULL || !url_ok(issuer)) {
        str_fmt(err, errlen, "KLIMA_OIDC_ISSUER: must be the identity provider's issuer, an http(s) URL");
        goto fail;
    }
    if (client_id == NULL || *client_id == '\0' || strlen(client_id) > 255) {
        str_fmt(err, errlen, "KLIMA_OIDC_CLIENT_ID: must be set (klimaspejl's client id at the identity provider)");
        goto fail;
    }
    if (key_path == NULL || *key_path == '\0') {
        str_fmt(err, errlen, "KLIMA_OIDC_KEY: must name the identity provider's public key (PEM file)");
        goto fail;
    }
    if (authorization_endpoint != NULL && *authorization_endpoint != '\0') {
        if (!url_ok(authorization_endpoint) || strchr(authorization_endpoint, '?') != NULL) {
            str_fmt(err, errlen, "KLIMA_OIDC_AUTHORIZATION_ENDPOINT: must be an http(s) URL without query or fragment");
            goto fail;
        }
        o->authorization_endpoint = str_dup(authorization_endpoint);
    } else {
        size_t il = strlen(issuer);
        while (il > 0 && issuer[il - 1] == '/')
            --il;
        if ((o->authorization_endpoint = malloc(il + sizeof("/authorize"))) != NULL) {
            memcpy(o->authorization_endpoint, issuer, il);
            memcpy(o->authorization_endpoint + il, "/authorize", sizeof("/authorize"));
        }
    }
    o->issuer = str_dup(issuer);
    o->client_id = str_dup(client_id);
    if (o->issuer == NULL || o->client_id == NULL || o->authorization_endpoint == NULL) {
        str_fmt(err, errlen, "out of memory");
        goto fail;
    }
    if ((f = fopen(key_path, "rb")) == NULL) {
        str_fmt(err, errlen, "KLIMA_OIDC_KEY: cannot read %s: %s", key_path, strerror(errno));
        goto fail;
    }
    if ((pem = malloc(OIDC_KEYFILE_MAX + 1)) == NULL || (n = fread(pem, 1, OIDC_KEYFILE_MAX + 1, f)) > OIDC_KEYFILE_MAX) {
        str_fmt(err, errlen, "KLIMA_OIDC_KEY: %s: not a key file (larger than 64 KiB)", key_path);
        goto fail;
    }
    if ((pkey = read_public_key(pem, n)) == NULL) {
        str_fmt(err, errlen, "KLIMA_OIDC_KEY: %s: not a PEM public key or certificate", key_path);
        goto fail;
    }
    if (use_key(o, pkey, key_path, err, errlen) != 0)
        goto fail;
    ret = o;
    o = NULL;
fail:
    if (f != NULL)
        fclose(f);
    free(pem);
    EVP_PKEY_free(pkey);
    auth_oidc_free(o);
    return ret;
}

/* A printable ASCII string claim of 1..max characters into out (max + 1 bytes). */
static int get_text(json_t *claims, const char *name, char *out, size_t max)
{
    const char *s = json_string_value(json_object_get(claims, name));
    size_t n;
    if (s == NULL || (n = strlen(s)) == 0 || n > max)
        return -1;
    for (size_t i = 0; i < n; ++i) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            return -1;
    }
    memcpy(out, s, n + 1);
    return 0;
}

/* aud is the client id or an array containing it; azp, when present, must be the client id (OIDC Core 3.1.3.7). */
static int audience_ok(json_t *claims, const char *client_id)
{
    json_t *aud = json_object_get(claims, "aud"), *azp = json_object_get(claims, "azp"), *v;
    size_t i;
    int found = 0;

    if (json_is_string(aud)) {
        found = strcmp(json_string_value(aud), client_id) == 0;
    } else if (json_is_array(aud)) {
        json_array_foreach(aud, i, v)
        {
            if (!json_is_string(v))
                return 0;
            if (strcmp(json_string_value(v), client_id) == 0)
                found = 1;
        }
    }
    if (azp != NULL && (!json_is_string(azp) || strcmp(json_string_value(azp), client_id) != 0))
        return 0;
    return found;
}

auth_oidc_result_t auth_oidc_verify(const auth_oidc_t *o, const char *token, size_t len, int64_t now, auth_oidc_identity_t *out)
{
    auth_jws_t jws;
    json_t *claims;
    const char *s;
    int64_t nbf;
    auth_oidc_result_t r;

    memset(out, 0, sizeof(*out));
    switch (auth_jws_decode(token, len, &jws)) {
    case AUTH_JWS_OK:
        break;
    case AUTH_JWS_BAD_ALG:
        return AUTH_OIDC_BAD_ALG;
    default:
        return AUTH_OIDC_MALFORMED;
    }
    claims = jws.claims;
    /* the configured key decides the algorithm: none, HMAC (e.g. keyed with the public PEM) and any other alg are
     * refused here, before libjwt sees the token */
    if (jws.alg != o->alg) {
        r = AUTH_OIDC_BAD_ALG;
        goto exit;
    }
    switch (auth_jws_check(&jws, token, len, o->public_pem, o->jwt_alg)) {
    case AUTH_JWS_OK:
        break;
    case AUTH_JWS_MALFORMED:
        r = AUTH_OIDC_MALFORMED; /* a crit header */
        goto exit;
    default:
        r = AUTH_OIDC_BAD_SIGNATURE;
        goto exit;
    }
    if ((s = json_string_value(json_object_get(claims, "iss"))) == NULL || strcmp(s, o->issuer) != 0) {
        r = AUTH_OIDC_BAD_ISSUER;
        goto exit;
    }
    if (!audience_ok(claims, o->client_id)) {
        r = AUTH_OIDC_BAD_AUDIENCE;
        goto exit;
    }
    if (auth_jws_numeric_date(claims, "exp", &out->exp) != 0 || auth_jws_numeric_date(claims, "iat", &out->iat) != 0) {
        r = AUTH_OIDC_BAD_CLAIMS;
        goto exit;
    }
    if (now > out->exp + AUTH_TOKEN_LEEWAY) {
        r = AUTH_OIDC_EXPIRED;
        goto exit;
    }
    if (json_object_get(claims, "nbf") == NULL)
        nbf = out->iat;
    else if (auth_jws_numeric_date(claims, "nbf", &nbf) != 0) {
        r = AUTH_OIDC_BAD_CLAIMS;
        goto exit;
    }
    if (now + AUTH_TOKEN_LEEWAY < out->iat || now + AUTH_TOKEN_LEEWAY < nbf) {
        r = AUTH_OIDC_NOT_YET_VALID;
        goto exit;
    }
    if (out->exp <= out->iat || get_text(claims, "sub", out->sub, AUTH_OIDC_SUB_MAX) != 0 ||
        get_text(claims, "nonce", out->nonce, AUTH_OIDC_NONCE_MAX) != 0) {
        r = AUTH_OIDC_BAD_CLAIMS;
        goto exit;
    }
    /* duplicate: id_tokens and consent tokens (auth/token.c) end alike — the output cleared on any failure; two
     * token kinds with their own claim rules. */
    r = AUTH_OIDC_OK;
exit:
    if (r != AUTH_OIDC_OK)
        memset(out, 0, sizeof(*out));
    auth_jws_clear(&jws);
    return r;
}
