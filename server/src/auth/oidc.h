/*
 * auth/oidc — the citizens' OpenID Connect identity provider as a relying party without a back channel: the provider's
 * public key is configured as a PEM file (KLIMA_OIDC_KEY) and its id_tokens arrive through the browser
 * (response_type=id_token, response_mode=form_post). The key decides the algorithm (EC P-256 -> ES256, RSA >= 2048 bits
 * -> RS256); `none`, HMAC and any other alg are refused before any signature check. Verification runs in a fixed order
 * so that the first failing check names itself: shape, alg, signature, iss, aud (and azp), exp, iat/nbf (60 s leeway),
 * then the claims sub and nonce. The nonce and the state are matched by the caller against the pending request.
 */
#ifndef KLIMA_AUTH_OIDC_H
#define KLIMA_AUTH_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "auth/keyring.h"

#define AUTH_OIDC_SUB_MAX 255   /* longest accepted sub (OIDC Core 2: at most 255 ASCII characters) */
#define AUTH_OIDC_NONCE_MAX 255 /* longest accepted nonce */

typedef enum auth_oidc_result {
    AUTH_OIDC_OK = 0,
    AUTH_OIDC_MALFORMED,     /* not a compact JWS of three base64url parts of JSON objects, or too long */
    AUTH_OIDC_BAD_ALG,       /* alg missing, none, HMAC, or not the algorithm of the configured key */
    AUTH_OIDC_BAD_SIGNATURE, /* the signature does not verify with the configured key */
    AUTH_OIDC_BAD_ISSUER,    /* iss is not the configured issuer */
    AUTH_OIDC_BAD_AUDIENCE,  /* aud does not contain the client id, or azp names another client */
    AUTH_OIDC_EXPIRED,       /* exp + leeway is past */
    AUTH_OIDC_NOT_YET_VALID, /* iat or nbf - leeway is in the future */
    AUTH_OIDC_BAD_CLAIMS,    /* exp, iat, sub or nonce missing or malformed */
    AUTH_OIDC__COUNT
} auth_oidc_result_t;

/* The configured identity provider; immutable after loading, shared by every thread. */
typedef struct auth_oidc {
    char *issuer;                 /* the provider's iss */
    char *client_id;              /* klimaspejl's client id there (the id_token's aud) */
    char *authorization_endpoint; /* where the browser is sent to log in */
    auth_alg_t alg;               /* fixed by the key type */
    jwt_alg_t jwt_alg;
    char *public_pem; /* SubjectPublicKeyInfo PEM, NUL-terminated */
} auth_oidc_t;

/* What a verified id_token says about the citizen (NUL-terminated strings). */
typedef struct auth_oidc_identity {
    char sub[AUTH_OIDC_SUB_MAX + 1];
    char nonce[AUTH_OIDC_NONCE_MAX + 1];
    int64_t iat, exp;
} auth_oidc_identity_t;

/* Loads the provider's settings: issuer, key_path (a PEM public key or certificate of an EC P-256 or RSA >= 2048-bit
 * key), client_id and authorization_endpoint (NULL or empty: "<issuer>/authorize"). Returns an object the caller frees
 * with auth_oidc_free, or NULL with a one-line reason naming the setting in err. */
auth_oidc_t *auth_oidc_load(const char *issuer, const char *key_path, const char *client_id, const char *authorization_endpoint,
                            char *err, size_t errlen);

/* Releases o (NULL is fine). */
void auth_oidc_free(auth_oidc_t *o);

/* Verifies the id_token token[0..len) at time now (signature, iss, aud, exp, iat/nbf, sub, nonce present). On
 * AUTH_OIDC_OK fills *out; otherwise *out is zeroed. Never logs or keeps the token. */
auth_oidc_result_t auth_oidc_verify(const auth_oidc_t *o, const char *token, size_t len, int64_t now, auth_oidc_identity_t *out);

/* A short name of r for problem details ("bad signature", "wrong issuer", ...). */
const char *auth_oidc_result_name(auth_oidc_result_t r);

/* A sentence describing r for a problem detail. */
const char *auth_oidc_result_detail(auth_oidc_result_t r);

#endif
