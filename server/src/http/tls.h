/*
 * http/tls — the server's TLS context (OpenSSL): the certificate chain and key are read once at start; TLS 1.2 and 1.3
 * only, forward-secret AEAD cipher suites only, ALPN "h2" and "http/1.1", stateless session tickets under keys
 * that rotate every two hours.
 */
#ifndef KLIMA_HTTP_TLS_H
#define KLIMA_HTTP_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

/* The TLS 1.2 cipher list and the TLS 1.3 cipher suites the context allows (ECDHE key exchange; AES-GCM and
 * ChaCha20-Poly1305 only), for the documentation and tests. */
extern const char http_tls_ciphers_tls12[];
extern const char http_tls_ciphersuites_tls13[];

/* Creates a server context from cert_path (PEM: the leaf certificate first, then its intermediates) and key_path (PEM
 * private key, unencrypted). The context is shared by every worker thread (OpenSSL contexts are safe to use from several
 * threads once set up); the caller owns it and releases it with SSL_CTX_free after the workers stopped. On failure returns
 * NULL and writes one line to err that names KLIMA_TLS_CERT or KLIMA_TLS_KEY, the file and the reason (unreadable, not a
 * PEM certificate or key, key does not match the certificate). An expired or not yet valid certificate is logged as a
 * warning, not refused. */
SSL_CTX *http_tls_create(const char *cert_path, const char *key_path, char *err, size_t errlen);

#endif
