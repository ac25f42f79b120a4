/*
 * http/tls — the OpenSSL server context.
 */
#include <errno.h>
#include <h2o.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/strutil.h"
#include "http/tls.h"

/* Mozilla's "intermediate" profile without finite-field DHE: every suite is forward-secret (ECDHE) and AEAD. */
const char http_tls_ciphers_tls12[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
const char http_tls_ciphersuites_tls13[] = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/* What the server offers in ALPN, in its order of preference; a client that offers neither gets HTTP/1.1 without ALPN.
 * h2o keeps the pointer for the life of the context. */
static const h2o_iovec_t alpn_protocols[] = {{H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};

/* Session ticket lifetime: a client resumes within this many seconds without a full handshake. */
#define TLS_TICKET_LIFETIME_S 7200

/* Session ticket keys (AES-256-CBC + HMAC-SHA256, OpenSSL's ticket format): `current` seals new tickets, `previous`
 * still opens those sealed before the last rotation. Keys are random, made in this process and never stored; they
 * rotate every TLS_TICKET_LIFETIME_S, so every ticket stays usable for its whole lifetime and a key is wiped at most two
 * lifetimes after it was made: memory taken from the running process does not open older sessions. The lock is taken
 * once per full or resumed handshake (never per request). */
typedef struct ticket_key {
    unsigned char name[16], aes[32], hmac[32];
    time_t created;
    int valid;
} ticket_key_t;

static struct {
    pthread_mutex_t lock;
    ticket_key_t current, previous;
} tickets = {PTHREAD_MUTEX_INITIALIZER};

/* Refuses to prompt for a pass phrase: the server starts unattended, an encrypted key is a configuration error. */
static int no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
    return 0;
}

/* The reason of the most recent OpenSSL error (and clears the queue), or fallback. */
static const char *openssl_reason(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r != NULL ? r : fallback;
}

/* 0 if path can be opened for reading, else -1 with err naming setting, path and the system's reason. */
static int check_readable(const char *setting, const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        str_fmt(err, errlen, "%s: cannot read '%s': %s", setting, path, strerror(errno));
        return -1;
    }
    fclose(fp);
    return 0;
}

/* Under tickets.lock: makes a new current key when there is none or it is due. Returns 0, or -1 when the random
 * generator fails. */
static int tickets_rotate_locked(time_t now)
{
    ticket_key_t fresh;

    if (tickets.current.valid && now - tickets.current.created < TLS_TICKET_LIFETIME_S)
        return 0;
    if (RAND_bytes(fresh.name, sizeof(fresh.name)) != 1 || RAND_priv_bytes(fresh.aes, sizeof(fresh.aes)) != 1 ||
        RAND_priv_bytes(fresh.hmac, sizeof(fresh.hmac)) != 1) {
        OPENSSL_cleanse(&fresh, sizeof(fresh));
        return -1;
    }
    fresh.created = now;
    fresh.valid = 1;
    OPENSSL_cleanse(&tickets.previous, sizeof(tickets.previous));
    tickets.previous = tickets.current;
    tickets.current = fresh;
    OPENSSL_cleanse(&fresh, sizeof(fresh));
    return 0;
}

/* OpenSSL's ticket key callback. enc = 1: seal a new ticket with the current key (1, or -1 on failure). enc = 0: open a
 * ticket by its key name: 1 = current key, 2 = previous key (valid, and the client gets a new ticket), 0 = unknown or
 * wiped key (a full handshake follows), -1 on failure. */
static int on_ticket_key(SSL *ssl, unsigned char key_name[16], unsigned char iv[EVP_MAX_IV_LENGTH], EVP_CIPHER_CTX *cctx,
                         EVP_MAC_CTX *hctx, int enc)
{
    ticket_key_t k = {{0}};
    OSSL_PARAM params[3];
    int ret = 0;

    pthread_mutex_lock(&tickets.lock);
    if (enc) {
        ret = tickets_rotate_locked(time(NULL)) == 0 ? 1 : -1;
        k = tickets.current;
    } else if (tickets.current.valid && memcmp(key_name, tickets.current.name, 16) == 0) {
        ret = 1;
        k = tickets.current;
    } else if (tickets.previous.valid && memcmp(key_name, tickets.previous.name, 16) == 0) {
        ret = 2;
        k = tickets.previous;
    }
    pthread_mutex_unlock(&tickets.lock);
    if (ret <= 0) {
        OPENSSL_cleanse(&k, sizeof(k));
        return ret;
    }

    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac));
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (enc) {
        memcpy(key_name, k.name, 16);
        if (RAND_bytes(iv, 16) != 1 || EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1 ||
            EVP_MAC_CTX_set_params(hctx, params) != 1)
            ret = -1;
    } else if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k.aes, iv) != 1 || EVP_MAC_CTX_set_params(hctx, params) != 1) {
        ret = -1;
    }
    OPENSSL_cleanse(&k, sizeof(k));
    return ret;
}

static void warn_if_not_valid_now(const char *path, X509 *cert)
{
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
        log_warn("KLIMA_TLS_CERT: the certificate in '%s' has expired; clients will refuse it", path);
    else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
        log_warn("KLIMA_TLS_CERT: the certificate in '%s' is not valid yet; clients will refuse it", path);
}

SSL_CTX *http_tls_create(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
    SSL_CTX *ctx = NULL;
    BIO *bio = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert;

    ERR_clear_error();
    if (check_readable("KLIMA_TLS_CERT", cert_path, err, errlen) != 0 ||
        check_readable("KLIMA_TLS_KEY", key_path, err, errlen) != 0)
        goto fail;
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        str_fmt(err, errlen, "KLIMA_TLS_CERT: cannot create a TLS context: %s", openssl_reason("out of memory"));
        goto fail;
    }
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);

    /* protocol versions and algorithms */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||
        SSL_CTX_set_cipher_list(ctx, http_tls_ciphers_tls12) != 1 ||
        SSL_CTX_set_ciphersuites(ctx, http_tls_ciphersuites_tls13) != 1 ||
        SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
        str_fmt(err, errlen, "KLIMA_TLS_CERT: this OpenSSL lacks TLS 1.2/1.3 or the AEAD suites: %s", openssl_reason("unknown"));
        goto fail;
    }
    /* no renegotiation (a client-driven CPU sink), no compression (CRIME); 0-RTT early data stays off (replayable) */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* idle connections give their read and write buffers back (about 34 KiB each) */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);

    /* Resumption by stateless tickets only, under the rotating keys above (a restart invalidates every ticket); no
     * server-side session cache, whose memory would grow with clients and whose lock every handshake would take. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_timeout(ctx, TLS_TICKET_LIFETIME_S);
    SSL_CTX_set_num_tickets(ctx, 1);
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key) != 1) {
        str_fmt(err, errlen, "KLIMA_TLS_CERT: cannot set up session tickets: %s", openssl_reason("unknown"));
        goto fail;
    }

    /* the certificate chain, then the key, which must belong to the leaf */
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        str_fmt(err, errlen, "KLIMA_TLS_CERT: '%s' is not a PEM certificate chain: %s", cert_path,
                openssl_reason("no certificate"));
        goto fail;
    }
    cert = SSL_CTX_get0_certificate(ctx);
    if ((bio = BIO_new_file(key_path, "r")) == NULL || (key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
        str_fmt(err, errlen, "KLIMA_TLS_KEY: '%s' is not an unencrypted PEM private key: %s", key_path, openssl_reason("no key"));
        goto fail;
    }
    if (cert == NULL || X509_check_private_key(cert, key) != 1) {
        ERR_clear_error();
        str_fmt(err, errlen, "KLIMA_TLS_KEY: the key in '%s' does not belong to the certificate in '%s' (KLIMA_TLS_CERT)", key_path,
                cert_path);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        str_fmt(err, errlen, "KLIMA_TLS_KEY: cannot use the key in '%s': %s", key_path, openssl_reason("unusable key"));
        goto fail;
    }
    warn_if_not_valid_now(cert_path, cert);

    h2o_ssl_register_alpn_protocols(ctx, alpn_protocols);
    EVP_PKEY_free(key);
    BIO_free(bio);
    return ctx;

fail:
    EVP_PKEY_free(key);
    BIO_free(bio);
    SSL_CTX_free(ctx);
    return NULL;
}
