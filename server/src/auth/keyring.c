/*
 * auth/keyring — signing keys, the JWKS, and small crypto helpers (OpenSSL 3).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "auth/keyring.h"
#include "core/b64.h"
#include "core/strutil.h"

#define KEYFILE_MAX (64 * 1024)

static const struct {
    const char *name;
    auth_alg_t alg;
    jwt_alg_t jwt_alg;
} alg_table[] = {
    {"ES256", AUTH_ALG_ES256, JWT_ALG_ES256},
    {"RS256", AUTH_ALG_RS256, JWT_ALG_RS256},
};

const char *auth_alg_name(auth_alg_t alg)
{
    return alg_table[alg].name;
}

int auth_alg_parse(const char *name, auth_alg_t *out)
{
    for (size_t i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); ++i) {
        if (strcmp(alg_table[i].name, name) == 0) {
            *out = alg_table[i].alg;
            return 0;
        }
    }
    return -1;
}

/* --- crypto helpers ------------------------------------------------------------------------------------------------- */

static int auth_random(unsigned char *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

int auth_random_token(size_t nbytes, char *out, size_t outsize)
{
    unsigned char buf[64];
    if (nbytes > sizeof(buf) || auth_random(buf, nbytes) != 0)
        return -1;
    return b64url_encode(buf, nbytes, out, outsize) < 0 ? -1 : 0;
}

/* OpenSSL 3's one-shot SHA256() fetches the algorithm on every call; on the token cache's hot path that lookup costs
 * more than hashing a token, so each thread keeps a fetched digest and a context. */
static void sha256_ctx_free(void *p)
{
    EVP_MD_CTX_free(p);
}

static pthread_key_t sha256_key;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
void auth_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    if (HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n) == NULL || n != 32)
        memset(out, 0, 32);
}

static EVP_MD *sha256_md;

static void sha256_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    pthread_key_create(&sha256_key, sha256_ctx_free);
}

void auth_sha256(const void *s, size_t len, unsigned char out[32])
{
    EVP_MD_CTX *ctx;
    pthread_once(&sha256_once, sha256_init);
    if ((ctx = pthread_getspecific(sha256_key)) == NULL && (ctx = EVP_MD_CTX_new()) != NULL)
        pthread_setspecific(sha256_key, ctx);
    if (ctx == NULL || sha256_md == NULL || !EVP_DigestInit_ex2(ctx, sha256_md, NULL) || !EVP_DigestUpdate(ctx, s, len) ||
        !EVP_DigestFinal_ex(ctx, out, NULL))
        SHA256(s, len, out);
}

void auth_sha256_bytea(const void *s, size_t len, char out[67])
{
    unsigned char h[32];
    auth_sha256(s, len, h);
    out[0] = '\\';
    out[1] = 'x';
    str_hex(h, 32, out + 2);
}

/* --- keys ---------------------------------------------------------------------------------------------------------- */

static int kid_valid(const char *s, size_t len)
{
    return len > 0 && len <= AUTH_KID_MAX && str_is_word(s, len, "._-");
}

static int bn_b64url(const BIGNUM *bn, size_t pad, char *out, size_t outsize)
{
    unsigned char buf[1024];
    int n = BN_num_bytes(bn);
    if (n < 0 || (size_t)n > sizeof(buf) || pad > sizeof(buf))
        return -1;
    if (pad == 0)
        pad = (size_t)n;
    if (BN_bn2binpad(bn, buf, (int)pad) < 0)
        return -1;
    return b64url_encode(buf, pad, out, outsize);
}

/* The public JWK of pkey for kid/alg, or NULL. */
static json_t *make_jwk(EVP_PKEY *pkey, const char *kid, auth_alg_t alg)
{
    json_t *jwk = NULL;
    BIGNUM *a = NULL, *b = NULL;
    char ea[1400], eb[1400];

    if (alg == AUTH_ALG_ES256) {
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) ||
            !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b))
            goto exit;
        if (bn_b64url(a, 32, ea, sizeof(ea)) < 0 || bn_b64url(b, 32, eb, sizeof(eb)) < 0)
            goto exit;
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", ea, "y", eb, "kid", kid, "alg",
                        "ES256", "use", "sig");
    } else {
        if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) || !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b))
            goto exit;
        if (bn_b64url(a, 0, ea, sizeof(ea)) < 0 || bn_b64url(b, 0, eb, sizeof(eb)) < 0)
            goto exit;
        jwk = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", ea, "e", eb, "kid", kid, "alg", "RS256", "use", "sig");
    }
exit:
    BN_free(a);
    BN_free(b);
    return jwk;
}

static char *bio_to_string(BIO *bio)
{
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s != NULL) {
        memcpy(s, data, (size_t)n);
        s[n] = '\0';
    }
    return s;
}

const char *auth_key_bind(EVP_PKEY *pkey, auth_alg_t *alg, jwt_alg_t *jwt_alg, char **public_pem)
{
    BIO *out;
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[32];
        size_t glen = 0;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) ||
            strcmp(group, "prime256v1") != 0)
            return "EC keys must use curve P-256 (ES256)";
        *alg = AUTH_ALG_ES256;
    } else if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < 2048)
            return "RSA keys must have at least 2048 bits";
        *alg = AUTH_ALG_RS256;
    } else {
        return "only EC P-256 (ES256) and RSA (RS256) keys are supported";
    }
    *jwt_alg = alg_table[*alg].jwt_alg;
    out = BIO_new(BIO_s_mem());
    *public_pem = out != NULL && PEM_write_bio_PUBKEY(out, pkey) ? bio_to_string(out) : NULL;
    BIO_free(out);
    return *public_pem != NULL ? NULL : "cannot encode the public key";
}

/* Reads path (a private key PEM) into key; returns 0, or -1 with err set. jwks receives the key's JWK. */
static int load_key(const char *path, const char *kid, auth_key_t *key, json_t *jwks, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *pem = NULL;
    size_t n = 0;
    BIO *in = NULL;
    EVP_PKEY *pkey = NULL;
    struct stat st;
    json_t *jwk;
    const char *why;
    int ret = -1;

    if (f == NULL || fstat(fileno(f), &st) != 0) {
        str_fmt(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto exit;
    }
    if ((pem = malloc(KEYFILE_MAX + 1)) == NULL || (n = fread(pem, 1, KEYFILE_MAX + 1, f)) > KEYFILE_MAX) {
        str_fmt(err, errlen, "%s: not a key file (larger than 64 KiB)", path);
        goto exit;
    }
    pem[n] = '\0';
    in = BIO_new_mem_buf(pem, (int)n);
    if (in == NULL || (pkey = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)) == NULL) {
        str_fmt(err, errlen, "%s: not a PEM private key", path);
        goto exit;
    }
    if ((why = auth_key_bind(pkey, &key->alg, &key->jwt_alg, &key->public_pem)) != NULL) {
        str_fmt(err, errlen, "%s: %s", path, why);
        goto exit;
    }
    str_fmt(key->kid, sizeof(key->kid), "%s", kid);
    key->mtime = (long)st.st_mtime;
    if ((jwk = make_jwk(pkey, kid, key->alg)) == NULL || json_array_append_new(jwks, jwk) != 0) {
        str_fmt(err, errlen, "%s: cannot build its JWK", path);
        goto exit;
    }
    key->private_pem = pem;
    auth_hmac_sha256(pem, strlen(pem), "klimaspejl server secret v1", 27, key->secret);
    pem = NULL;
    ret = 0;
exit:
    if (f != NULL)
        fclose(f);
    if (pem != NULL)
        OPENSSL_cleanse(pem, n);
    free(pem);
    BIO_free(in);
    EVP_PKEY_free(pkey);
    return ret;
}

static void key_clear(auth_key_t *k)
{
    if (k->private_pem != NULL)
        OPENSSL_cleanse(k->private_pem, strlen(k->private_pem));
    free(k->private_pem);
    free(k->public_pem);
}

/* Room for one more key (zeroed) at kr->keys[kr->nkeys]; cap is the allocated count. Returns 0, or -1. */
static int grow(auth_keyring_t *kr, size_t *cap)
{
    if (kr->nkeys == *cap) {
        size_t ncap = *cap == 0 ? 4 : *cap * 2;
        auth_key_t *nk = realloc(kr->keys, ncap * sizeof(*nk));
        if (nk == NULL)
            return -1;
        kr->keys = nk;
        *cap = ncap;
    }
    memset(&kr->keys[kr->nkeys], 0, sizeof(kr->keys[0]));
    return 0;
}

/* The signing key: the newest file (ties broken by the greater kid). */
static const auth_key_t *newest(const auth_keyring_t *kr)
{
    const auth_key_t *best = &kr->keys[0];
    for (size_t i = 1; i < kr->nkeys; ++i) {
        const auth_key_t *k = &kr->keys[i];
        if (k->mtime > best->mtime || (k->mtime == best->mtime && strcmp(k->kid, best->kid) > 0))
            best = k;
    }
    return best;
}

auth_keyring_t *auth_keyring_load(const char *dir, char *err, size_t errlen)
{
    auth_keyring_t *kr = calloc(1, sizeof(*kr)), *ret = NULL;
    json_t *keys = json_array(), *doc = NULL;
    DIR *d = NULL;
    struct dirent *e;
    size_t cap = 0;

    if (kr == NULL || keys == NULL) {
        str_fmt(err, errlen, "out of memory");
        goto fail;
    }
    if (dir == NULL || *dir == '\0') {
        str_fmt(err, errlen, "KLIMA_KEYS_DIR is not set (create a key with `klimaspejl keygen`)");
        goto fail;
    }
    if ((d = opendir(dir)) == NULL) {
        str_fmt(err, errlen, "KLIMA_KEYS_DIR %s: %s", dir, strerror(errno));
        goto fail;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char path[4096], kid[AUTH_KID_MAX + 1];
        if (len <= 4 || strcmp(e->d_name + len - 4, ".pem") != 0 || e->d_name[0] == '.')
            continue;
        if (!kid_valid(e->d_name, len - 4)) {
            str_fmt(err, errlen, "KLIMA_KEYS_DIR %s: %s: the key id (file name without .pem) must be 1-64 of A-Z a-z 0-9 . _ -",
                    dir, e->d_name);
            goto fail;
        }
        memcpy(kid, e->d_name, len - 4);
        kid[len - 4] = '\0';
        if (grow(kr, &cap) != 0) {
            str_fmt(err, errlen, "out of memory");
            goto fail;
        }
        if (str_fmt(path, sizeof(path), "%s/%s", dir, e->d_name) < 0) {
            str_fmt(err, errlen, "KLIMA_KEYS_DIR: path too long");
            goto fail;
        }
        if (load_key(path, kid, &kr->keys[kr->nkeys], keys, err, errlen) != 0) {
            key_clear(&kr->keys[kr->nkeys]);
            goto fail;
        }
        ++kr->nkeys;
    }
    if (kr->nkeys == 0) {
        str_fmt(err, errlen, "KLIMA_KEYS_DIR %s holds no <kid>.pem key (create one with `klimaspejl keygen`)", dir);
        goto fail;
    }
    kr->signing = newest(kr);
    doc = json_pack("{s:O}", "keys", keys);
    if (doc == NULL || (kr->jwks = json_dumps(doc, JSON_COMPACT)) == NULL) {
        str_fmt(err, errlen, "out of memory");
        goto fail;
    }
    kr->jwks_len = strlen(kr->jwks);
    /* duplicate: the single-exit clean-up of a loader (auth/oidc.c loads the identity provider's key alike). */
    ret = kr;
    kr = NULL;
fail:
    if (d != NULL)
        closedir(d);
    json_decref(keys);
    json_decref(doc);
    auth_keyring_free(kr);
    return ret;
}

const auth_key_t *auth_keyring_find(const auth_keyring_t *kr, const char *kid)
{
    for (size_t i = 0; i < kr->nkeys; ++i) {
        if (strcmp(kr->keys[i].kid, kid) == 0)
            return &kr->keys[i];
    }
    return NULL;
}

void auth_keyring_free(auth_keyring_t *kr)
{
    if (kr == NULL)
        return;
    for (size_t i = 0; i < kr->nkeys; ++i)
        key_clear(&kr->keys[i]);
    free(kr->keys);
    free(kr->jwks);
    free(kr);
}

int auth_keygen(const char *dir, auth_alg_t alg, char *kid_out, size_t kid_size, char *err, size_t errlen)
{
    EVP_PKEY *pkey = NULL;
    BIO *out = NULL;
    char path[4096], stamp[32], *pem;
    unsigned char rnd[4];
    time_t now = time(NULL);
    struct tm tm;
    long n;
    int fd = -1, ret = -1;

    if (dir == NULL || *dir == '\0') {
        str_fmt(err, errlen, "KLIMA_KEYS_DIR is not set");
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        str_fmt(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    if (auth_random(rnd, sizeof(rnd)) != 0 ||
        str_fmt(kid_out, kid_size, "%s-%s-%02x%02x%02x%02x", stamp, alg == AUTH_ALG_ES256 ? "es256" : "rs256", rnd[0], rnd[1],
                rnd[2], rnd[3]) < 0) {
        str_fmt(err, errlen, "cannot make a key id");
        return -1;
    }
    pkey = alg == AUTH_ALG_ES256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
    if (pkey == NULL || (out = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_PrivateKey(out, pkey, NULL, NULL, 0, NULL, NULL)) {
        str_fmt(err, errlen, "key generation failed");
        goto exit;
    }
    n = BIO_get_mem_data(out, &pem);
    if (str_fmt(path, sizeof(path), "%s/%s.pem", dir, kid_out) < 0) {
        str_fmt(err, errlen, "path too long");
        goto exit;
    }
    if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        str_fmt(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto exit;
    }
    if (write(fd, pem, (size_t)n) != n || fsync(fd) != 0) {
        str_fmt(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        goto exit;
    }
    ret = 0;
exit:
    if (fd >= 0)
        close(fd);
    BIO_free(out);
    EVP_PKEY_free(pkey);
    return ret;
}
