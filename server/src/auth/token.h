/*
 * auth/token — consent JWTs (DESIGN section 4 "Consent"): signed with the keyring's newest key through libjwt; verified
 * in a fixed order so that the first failing check names itself: shape, header (alg and kid — the key decides the
 * algorithm, so `none`, HS* and an algorithm other than the key's are refused before any signature check), signature
 * (libjwt with the key's public PEM), then the claims iss, aud, exp/nbf (60 s leeway), lifetime and the rest.
 */
#ifndef KLIMA_AUTH_TOKEN_H
#define KLIMA_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jws.h"
#include "auth/keyring.h"

#define AUTH_TOKEN_MAX_LEN AUTH_JWS_MAX_LEN /* longer bearer tokens are refused unparsed */
#define AUTH_TOKEN_MAX_TTL 3600             /* exp - iat of an access token */
#define AUTH_TOKEN_TYP "at+jwt"             /* the typ header of access tokens (RFC 9068), checked on verify */
#define AUTH_TOKEN_LEEWAY 60                /* clock skew allowed on exp, nbf and iat */
#define AUTH_CLIENT_ID_MAX 64

typedef enum auth_token_result {
    AUTH_TOKEN_OK = 0,
    /* the checks of the JWS itself (auth/jws.h), same values */
    AUTH_TOKEN_MALFORMED = AUTH_JWS_MALFORMED,
    AUTH_TOKEN_BAD_ALG = AUTH_JWS_BAD_ALG,
    AUTH_TOKEN_UNKNOWN_KID = AUTH_JWS_UNKNOWN_KID,
    AUTH_TOKEN_ALG_MISMATCH = AUTH_JWS_ALG_MISMATCH,
    AUTH_TOKEN_BAD_SIGNATURE = AUTH_JWS_BAD_SIGNATURE,
    AUTH_TOKEN_BAD_TYP = AUTH_JWS_BAD_TYP, /* not an access token (typ other than at+jwt: a session cookie, say) */
    AUTH_TOKEN_BAD_ISSUER,                 /* iss is not this service */
    AUTH_TOKEN_BAD_AUDIENCE,               /* aud missing, not a client id, or not the expected audience */
    AUTH_TOKEN_EXPIRED,                    /* exp + leeway is past */
    AUTH_TOKEN_NOT_YET_VALID,              /* nbf or iat - leeway is in the future */
    AUTH_TOKEN_BAD_CLAIMS,                 /* sub, cid, scope, jti, iat or exp missing or malformed, or a lifetime over 1 hour */
    AUTH_TOKEN__COUNT
} auth_token_result_t;

/* The verified claims an access token carries (all strings NUL-terminated). */
typedef struct auth_claims {
    char sub[37];                     /* household pseudonym (uuid) */
    char cid[37];                     /* consent id (uuid) */
    char aud[AUTH_CLIENT_ID_MAX + 1]; /* client id */
    uint32_t scopes;                  /* auth/scope.h mask; unknown scope names are dropped */
    int64_t iat, nbf, exp;
} auth_claims_t;

/* A short name of r for WWW-Authenticate error_description and problem details ("expired", "bad signature", ...). */
const char *auth_token_result_name(auth_token_result_t r);

/* A sentence describing r for a problem detail. */
const char *auth_token_result_detail(auth_token_result_t r);

/* Tells whether s is a syntactically valid client id (8-64 of A-Z a-z 0-9 _ -). */
int auth_client_id_valid(const char *s);

/* Tells whether s is a uuid in its 36-character text form. */
int auth_uuid_valid(const char *s);

/* Signs an access token for (household sub, client aud, consent cid, scope mask) issued by iss at now, valid ttl seconds
 * (1..3600), with the keyring's signing key. Returns a malloc'ed token the caller frees, or NULL. */
char *auth_token_sign(const auth_keyring_t *kr, const char *iss, const char *sub, const char *aud, const char *cid, uint32_t scopes,
                      int64_t now, unsigned ttl);

/* Verifies token[0..len) against kr and iss at time now. audience NULL accepts any syntactically valid client id (the
 * caller then checks that the client is registered); otherwise aud must equal it. On AUTH_TOKEN_OK fills *out. */
auth_token_result_t auth_token_verify(const auth_keyring_t *kr, const char *iss, const char *audience, const char *token,
                                      size_t len, int64_t now, auth_claims_t *out);

#endif
