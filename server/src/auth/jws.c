/*
 * auth/jws — decoding, verifying and signing compact JWS.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

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

/* The signing input of a compact JWS: everything before the last '.'. */
static size_t signing_input_len(const char *token, size_t len)
{
    const char *dot = memrchr(token, '.', len);
    return dot != NULL ? (size_t)(dot - token) : 0;
}

/* ES256 signatures are r || s, 32 bytes each (RFC 7518 3.4); OpenSSL speaks DER. Returns the DER length written to
 * *der (OPENSSL_free it), or -1. */
static int es256_raw_to_der(const unsigned char *raw, unsigned char **der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, 32, NULL), *s = BN_bin2bn(raw + 32, 32, NULL);
    int n = -1;

    if (sig != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(sig, r, s) == 1) {
        r = s = NULL; /* owned by sig now */
        *der = NULL;
        n = i2d_ECDSA_SIG(sig, der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return n;
}

auth_jws_result_t auth_jws_check(const auth_jws_t *j, const char *token, size_t len, const char *public_pem, jwt_alg_t jwt_alg)
{
    unsigned char sig[1024], *der = NULL;
    size_t input_len = signing_input_len(token, len);
    int n, es256 = jwt_alg == JWT_ALG_ES256;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    auth_jws_result_t r = AUTH_JWS_BAD_SIGNATURE;

    if (!j->signed_)
        return AUTH_JWS_BAD_SIGNATURE; /* an unsecured JWS relabelled */
    if (json_object_get(j->header, "crit") != NULL)
        return AUTH_JWS_MALFORMED;
    /* the header's alg must be the one the key is bound to (auth_jws_decode admits ES256 and RS256 only) */
    if ((es256 ? AUTH_ALG_ES256 : jwt_alg == JWT_ALG_RS256 ? AUTH_ALG_RS256 : -1) != (int)j->alg)
        return AUTH_JWS_BAD_SIGNATURE;
    if ((n = b64url_decode(token + input_len + 1, len - input_len - 1, sig, sizeof(sig))) <= 0 || (es256 && n != 64))
        return AUTH_JWS_BAD_SIGNATURE;
    if ((bio = BIO_new_mem_buf(public_pem, -1)) == NULL || (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL ||
        EVP_PKEY_id(pkey) != (es256 ? EVP_PKEY_EC : EVP_PKEY_RSA) || (md = EVP_MD_CTX_new()) == NULL ||
        EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1)
        goto exit;
    if (es256 && (n = es256_raw_to_der(sig, &der)) <= 0)
        goto exit;
    if (EVP_DigestVerify(md, es256 ? der : sig, (size_t)n, (const unsigned char *)token, input_len) == 1)
        r = AUTH_JWS_OK;
exit:
    OPENSSL_free(der);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    ERR_clear_error();
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

/* Signs input[0..len) with pem (ES256: r || s; RS256: PKCS #1 v1.5) into sig (at least 512 bytes); returns its length or
 * -1. */
static int sign_input(const char *pem, int es256, const char *input, size_t len, unsigned char *sig)
{
    unsigned char der[512];
    size_t der_len = sizeof(der);
    const unsigned char *p = der;
    BIO *bio = NULL;
    EVP_PKEY *pkey = NULL;
    EVP_MD_CTX *md = NULL;
    ECDSA_SIG *es = NULL;
    int n = -1;

    if ((bio = BIO_new_mem_buf(pem, -1)) == NULL || (pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
        (md = EVP_MD_CTX_new()) == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(md, der, &der_len, (const unsigned char *)input, len) != 1)
        goto exit;
    if (!es256) {
        memcpy(sig, der, der_len);
        n = (int)der_len;
    } else if ((es = d2i_ECDSA_SIG(NULL, &p, (long)der_len)) != NULL && BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) == 32 &&
               BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) == 32) {
        n = 64;
    }
exit:
    ECDSA_SIG_free(es);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    ERR_clear_error();
    return n;
}

/* libjwt 1.10 cannot write (or read) a typ other than "JWT", so the JWS is assembled here: header and claims as compact
 * JSON, base64url without padding, the signature over both. */
char *auth_jws_sign(const auth_keyring_t *kr, const char *typ, const char *claims_json)
{
    const auth_key_t *key = kr->signing;
    json_t *header = json_pack("{s:s, s:s, s:s}", "alg", auth_alg_name(key->alg), "typ", typ, "kid", key->kid);
    json_t *claims = json_loads(claims_json, JSON_REJECT_DUPLICATES, NULL);
    char *h = header != NULL ? json_dumps(header, JSON_COMPACT) : NULL,
         *c = claims != NULL ? json_dumps(claims, JSON_COMPACT) : NULL;
    unsigned char sig[512];
    sbuf_t out = SBUF_INIT(SBUF_CAP_TEXT);
    int n;

    if (h == NULL || c == NULL || !json_is_object(claims))
        goto fail;
    b64url_append(&out, h, strlen(h));
    sbuf_putc(&out, '.');
    b64url_append(&out, c, strlen(c));
    if (sbuf_failed(&out) || (n = sign_input(key->private_pem, key->alg == AUTH_ALG_ES256, out.data, out.len, sig)) <= 0)
        goto fail;
    sbuf_putc(&out, '.');
    b64url_append(&out, sig, (size_t)n);
    if (sbuf_failed(&out))
        goto fail;
    free(h);
    free(c);
    json_decref(header);
    json_decref(claims);
    return out.data;
fail:
    sbuf_free(&out);
    free(h);
    free(c);
    json_decref(header);
    json_decref(claims);
    return NULL;
}
