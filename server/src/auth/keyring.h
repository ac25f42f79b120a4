/*
 * auth/keyring — the token signing keys: every <kid>.pem private key in KLIMA_KEYS_DIR. Each key is bound to exactly one
 * algorithm by its type (EC P-256 -> ES256, RSA >= 2048 bits -> RS256); a token naming another algorithm for that kid is
 * refused. All keys verify; the newest (latest file mtime, ties broken by the greater kid) signs, so a new key can be
 * added and published before it signs, and an old one kept until its last token has expired (rotation without downtime).
 * A keyring is immutable after loading and may be shared by every thread.
 */
#ifndef KLIMA_AUTH_KEYRING_H
#define KLIMA_AUTH_KEYRING_H

#include <stddef.h>

#include <jwt.h>
#include <openssl/types.h>

#define AUTH_KID_MAX 64

typedef enum auth_alg { AUTH_ALG_ES256, AUTH_ALG_RS256 } auth_alg_t;

typedef struct auth_key {
    char kid[AUTH_KID_MAX + 1];
    auth_alg_t alg;
    jwt_alg_t jwt_alg;
    char *private_pem; /* NUL-terminated; for signing */
    char *public_pem;  /* NUL-terminated SubjectPublicKeyInfo PEM; for verifying */
    long mtime;
    unsigned char secret[32]; /* the server secret of this key: HMAC-SHA-256(private PEM, "klimaspejl server secret v1") */
} auth_key_t;

typedef struct auth_keyring {
    auth_key_t *keys;
    size_t nkeys;
    const auth_key_t *signing; /* the newest key */
    char *jwks;                /* the JSON Web Key Set ({"keys":[...]}, public parts only), built once at load */
    size_t jwks_len;
} auth_keyring_t;

/* The JOSE name of alg ("ES256", "RS256"). */
const char *auth_alg_name(auth_alg_t alg);

/* Parses a JOSE algorithm name; returns 0 and stores it, or -1 for anything else (including "none" and HS*). */
int auth_alg_parse(const char *name, auth_alg_t *out);

/* Loads every <kid>.pem of dir (kid: 1..64 of [A-Za-z0-9._-]). Returns a keyring owned by the caller
 * (auth_keyring_free), or NULL with a one-line reason in err when dir cannot be read, holds no key, or a file is not a
 * supported private key. */
auth_keyring_t *auth_keyring_load(const char *dir, char *err, size_t errlen);

/* The key with this kid, or NULL. */
const auth_key_t *auth_keyring_find(const auth_keyring_t *kr, const char *kid);

/* Releases kr (NULL is fine). */
void auth_keyring_free(auth_keyring_t *kr);

/* Generates a new key of alg in dir as <kid>.pem (mode 0600, created exclusively); the kid is the UTC time plus a
 * random suffix, so keys sort by age. Writes the kid to kid_out. Returns 0, or -1 with a reason in err. */
int auth_keygen(const char *dir, auth_alg_t alg, char *kid_out, size_t kid_size, char *err, size_t errlen);

/* A random URL-safe secret of nbytes random bytes, base64url encoded into out; returns 0, or -1. */
int auth_random_token(size_t nbytes, char *out, size_t outsize);

/* Binds pkey to its one algorithm (EC P-256 -> ES256, RSA of at least 2048 bits -> RS256) and encodes its public
 * key: fills *alg, *jwt_alg and *public_pem (malloc'ed PEM the caller frees) and returns NULL, or returns why the key
 * cannot be used (a static string). The signing keys and the identity provider's key follow the same rule. */
const char *auth_key_bind(EVP_PKEY *pkey, auth_alg_t *alg, jwt_alg_t *jwt_alg, char **public_pem);

/* HMAC-SHA-256 of msg[0..len) under key[0..keylen) as 32 bytes into out (all zero if OpenSSL fails). */
void auth_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len, unsigned char out[32]);

/* SHA-256 of s[0..len) as 32 bytes into out. */
void auth_sha256(const void *s, size_t len, unsigned char out[32]);

/* SHA-256 of s[0..len) as PostgreSQL's bytea literal ("\\x" and 64 hex digits) into out: how secrets, codes and
 * refresh tokens are stored and looked up. */
void auth_sha256_bytea(const void *s, size_t len, char out[67]);

#endif
