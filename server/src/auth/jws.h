/*
 * auth/jws — compact JWS (RFC 7515) as this service meets it: the one decoder of its consent tokens and session cookies
 * (auth/token.h) and of the identity provider's id_tokens (auth/oidc.h), and the signer of its own tokens. The key
 * decides the algorithm: a header alg other than ES256 or RS256 (none, HS*) is refused before any cryptography, and a
 * crit header (an extension nobody here understands, RFC 7515 4.1.11) is refused too. Signatures are checked by libjwt
 * with the key's public PEM.
 */
#ifndef KLIMA_AUTH_JWS_H
#define KLIMA_AUTH_JWS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/keyring.h"

#define AUTH_JWS_MAX_LEN 8192 /* longer tokens are refused unparsed */

/* Why a JWS was refused; the values are shared with auth_token_result_t (auth/token.h). */
typedef enum auth_jws_result {
    AUTH_JWS_OK = 0,
    AUTH_JWS_MALFORMED,     /* not three base64url parts of JSON objects, too long, or a crit header */
    AUTH_JWS_BAD_ALG,       /* alg missing, none, HMAC or unsupported */
    AUTH_JWS_UNKNOWN_KID,   /* kid missing or not in the keyring */
    AUTH_JWS_ALG_MISMATCH,  /* alg is not the algorithm the kid's key is bound to */
    AUTH_JWS_BAD_SIGNATURE, /* the signature does not verify */
    AUTH_JWS_BAD_TYP,       /* the header's typ is not the kind of token expected (RFC 8725 3.11) */
} auth_jws_result_t;

/* A decoded, not yet verified JWS. */
typedef struct auth_jws {
    json_t *header, *claims; /* owned; auth_jws_clear releases them */
    auth_alg_t alg;          /* the header's alg */
    const char *kid;         /* the header's kid (points into header), or NULL */
    int signed_;             /* the signature part is not empty */
} auth_jws_t;

/* Splits token[0..len) into its three parts and decodes header and claims (JSON objects, no duplicate names); the
 * header's alg must be ES256 or RS256. On AUTH_JWS_OK fills *out (release with auth_jws_clear); otherwise *out holds
 * nothing. Never logs the token. */
auth_jws_result_t auth_jws_decode(const char *token, size_t len, auth_jws_t *out);

/* Checks the signature of the decoded token (the same token[0..len)) with public_pem and jwt_alg: AUTH_JWS_MALFORMED
 * for a crit header, AUTH_JWS_BAD_SIGNATURE for an empty or wrong signature, else AUTH_JWS_OK. */
auth_jws_result_t auth_jws_check(const auth_jws_t *j, const char *token, size_t len, const char *public_pem, jwt_alg_t jwt_alg);

/* Releases what auth_jws_decode filled in (an empty or cleared j is fine). */
void auth_jws_clear(auth_jws_t *j);

/* Verifies token[0..len) against the keyring in a fixed order: shape (an empty signature is malformed), alg, kid, the
 * kid's algorithm, crit, signature, and then the header's typ must name typ ("at+jwt"): compared without case, with or
 * without the "application/" prefix (RFC 7515 4.1.9); AUTH_JWS_BAD_TYP otherwise, so one kind of token signed with the
 * same keys is never accepted as another (RFC 8725 3.11, RFC 9068 4). On AUTH_JWS_OK stores the claims in *claims (a
 * new reference the caller releases with json_decref); otherwise *claims is NULL. */
auth_jws_result_t auth_jws_verify_typ(const auth_keyring_t *kr, const char *typ, const char *token, size_t len, json_t **claims);

/* A NumericDate claim (RFC 7519: seconds since the epoch, written as an integer here; fractions are refused) into
 * *out; returns 0, or -1 when it is absent or not an integer. */
int auth_jws_numeric_date(json_t *claims, const char *name, int64_t *out);

/* Signs claims_json (a JSON object) with the keyring's signing key: header alg, kid and typ. Returns a malloc'ed
 * compact JWS the caller frees, or NULL. */
char *auth_jws_sign(const auth_keyring_t *kr, const char *typ, const char *claims_json);

#endif
