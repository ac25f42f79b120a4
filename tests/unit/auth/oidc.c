/* auth/oidc without sockets: loading the identity provider's settings (missing, incomplete or wrong ones named, the
 * default authorization endpoint) and verifying id_tokens signed by libjwt with ES256 and RS256 keys — valid ones,
 * aud as a list, and every check that must fail: alg none, HS256 keyed with the public key, the other algorithm, another
 * key, a tampered payload, an empty signature, wrong iss, wrong aud or azp, exp/iat/nbf at and past the 60 s leeway,
 * missing or malformed sub and nonce, truncation and oversize. */
#include <jansson.h>
#include <jwt.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "auth/keyring.h"
#include "auth/oidc.h"
#include "auth/token.h"
#include "../test.h"

#define IDP "https://login.idp.test/realms/kk"
#define CLIENT "klimaspejl-citizens"

/* Signs claims under header alg with key (a PEM, or an HMAC secret). Returns a malloc'ed token. */
static char *sign(jwt_alg_t alg, const char *key, const char *claims)
{
    jwt_t *jwt;
    char *out;
    jwt_new(&jwt);
    jwt_set_alg(jwt, alg, alg == JWT_ALG_NONE ? NULL : (const unsigned char *)key, alg == JWT_ALG_NONE ? 0 : (int)strlen(key));
    jwt_add_grants_json(jwt, claims);
    out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}

static const char *claims(const char *iss, const char *aud_json, long iat, long exp, const char *extra)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf), "{\"iss\":\"%s\",\"aud\":%s,\"iat\":%ld,\"exp\":%ld%s}", iss, aud_json, iat, exp, extra);
    return buf;
}

#define STD ",\"sub\":\"citizen-42\",\"nonce\":\"n0nce\""

static auth_oidc_result_t check(const auth_oidc_t *o, jwt_alg_t alg, const char *key, const char *c, int64_t now)
{
    auth_oidc_identity_t id;
    char *tok = sign(alg, key, c);
    auth_oidc_result_t r = tok != NULL ? auth_oidc_verify(o, tok, strlen(tok), now, &id) : AUTH_OIDC__COUNT;
    free(tok);
    return r;
}

/* Writes text to dir/name; returns the path (malloc'ed). */
static char *write_file(const char *dir, const char *name, const char *text)
{
    char *p = malloc(512);
    FILE *f;
    snprintf(p, 512, "%s/%s", dir, name);
    f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

int main(void)
{
    char keys[] = "/tmp/klima-test-oidc-XXXXXX", other[] = "/tmp/klima-test-oidc2-XXXXXX", kid[80], err[256];
    auth_keyring_t *kr, *kr2;
    const auth_key_t *es = NULL, *rs = NULL, *es2;
    auth_oidc_t *o, *orsa;
    auth_oidc_identity_t id;
    long now = (long)time(NULL);
    char *tok, longsub[300];
    char *pem_path, *rsa_path, *private_path;

    CHECK(mkdtemp(keys) != NULL);
    CHECK(mkdtemp(other) != NULL);
    CHECK_INT(auth_keygen(keys, AUTH_ALG_ES256, kid, sizeof(kid), err, sizeof(err)), 0);
    CHECK_INT(auth_keygen(keys, AUTH_ALG_RS256, kid, sizeof(kid), err, sizeof(err)), 0);
    CHECK_INT(auth_keygen(other, AUTH_ALG_ES256, kid, sizeof(kid), err, sizeof(err)), 0);
    kr = auth_keyring_load(keys, err, sizeof(err));
    kr2 = auth_keyring_load(other, err, sizeof(err));
    CHECK(kr != NULL && kr2 != NULL);
    if (kr == NULL || kr2 == NULL)
        return 1;
    for (size_t i = 0; i < kr->nkeys; ++i) {
        if (kr->keys[i].alg == AUTH_ALG_ES256)
            es = &kr->keys[i];
        else
            rs = &kr->keys[i];
    }
    es2 = &kr2->keys[0];
    CHECK(es != NULL && rs != NULL);
    if (es == NULL || rs == NULL)
        return 1;
    pem_path = write_file(other, "idp-es.pem", es->public_pem);
    rsa_path = write_file(other, "idp-rs.pem", rs->public_pem);

    /* loading: every setting named when missing or wrong */
    CHECK(auth_oidc_load(NULL, pem_path, CLIENT, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "KLIMA_OIDC_ISSUER") != NULL);
    CHECK(auth_oidc_load("not a url", pem_path, CLIENT, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "KLIMA_OIDC_ISSUER") != NULL);
    CHECK(auth_oidc_load(IDP, pem_path, NULL, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "KLIMA_OIDC_CLIENT_ID") != NULL);
    CHECK(auth_oidc_load(IDP, NULL, CLIENT, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "KLIMA_OIDC_KEY") != NULL);
    CHECK(auth_oidc_load(IDP, "/nonexistent/idp.pem", CLIENT, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "KLIMA_OIDC_KEY: cannot read") != NULL);
    private_path = write_file(other, "private.pem", es->private_pem);
    CHECK(auth_oidc_load(IDP, private_path, CLIENT, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "not a PEM public key") != NULL);
    CHECK(auth_oidc_load(IDP, pem_path, CLIENT, "https://idp.test/auth?x=1", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "KLIMA_OIDC_AUTHORIZATION_ENDPOINT") != NULL);
    o = auth_oidc_load(IDP "/", pem_path, CLIENT, "", err, sizeof(err));
    CHECK(o != NULL);
    if (o != NULL)
        CHECK_STR(o->authorization_endpoint, IDP "/authorize");
    auth_oidc_free(o);
    o = auth_oidc_load(IDP, pem_path, CLIENT, "https://idp.test/oauth2/auth", err, sizeof(err));
    CHECK(o != NULL);
    if (o != NULL)
        CHECK_STR(o->authorization_endpoint, "https://idp.test/oauth2/auth");
    auth_oidc_free(o);

    o = auth_oidc_load(IDP, pem_path, CLIENT, NULL, err, sizeof(err));
    orsa = auth_oidc_load(IDP, rsa_path, CLIENT, NULL, err, sizeof(err));
    CHECK(o != NULL && orsa != NULL);
    if (o == NULL || orsa == NULL)
        return 1;
    CHECK_INT(o->alg, AUTH_ALG_ES256);
    CHECK_INT(orsa->alg, AUTH_ALG_RS256);

    /* valid tokens */
    tok = sign(JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD));
    CHECK_INT(auth_oidc_verify(o, tok, strlen(tok), now, &id), AUTH_OIDC_OK);
    CHECK_STR(id.sub, "citizen-42");
    CHECK_STR(id.nonce, "n0nce");
    /* truncated, and an empty signature */
    /* cut to a length no base64url text has: not canonical, so malformed before any signature check */
    CHECK_INT(auth_oidc_verify(o, tok, strlen(tok) - 5, now, &id), AUTH_OIDC_MALFORMED);
    {
        /* one character of the signature changed (still canonical): the signature does not verify */
        char *bad = strdup(tok), *c = strrchr(bad, '.') + 10;
        *c = *c == 'A' ? 'B' : 'A';
        CHECK_INT(auth_oidc_verify(o, bad, strlen(bad), now, &id), AUTH_OIDC_BAD_SIGNATURE);
        free(bad);
    }
    CHECK_INT(auth_oidc_verify(o, tok, (size_t)(strrchr(tok, '.') - tok + 1), now, &id), AUTH_OIDC_BAD_SIGNATURE);
    CHECK_INT(auth_oidc_verify(o, tok, (size_t)(strrchr(tok, '.') - tok), now, &id), AUTH_OIDC_MALFORMED);
    CHECK_INT(auth_oidc_verify(o, "", 0, now, &id), AUTH_OIDC_MALFORMED);
    CHECK_INT(auth_oidc_verify(o, tok, AUTH_TOKEN_MAX_LEN + 1, now, &id), AUTH_OIDC_MALFORMED);
    CHECK_STR(id.sub, "");
    free(tok);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "[\"other\",\"" CLIENT "\"]", now, now + 300, STD), now),
              AUTH_OIDC_OK);
    CHECK_INT(check(orsa, JWT_ALG_RS256, rs->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD), now), AUTH_OIDC_OK);

    /* the key fixes the algorithm */
    CHECK_INT(check(o, JWT_ALG_NONE, NULL, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD), now), AUTH_OIDC_BAD_ALG);
    CHECK_INT(check(o, JWT_ALG_HS256, es->public_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD), now), AUTH_OIDC_BAD_ALG);
    CHECK_INT(check(orsa, JWT_ALG_HS256, rs->public_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD), now),
              AUTH_OIDC_BAD_ALG);
    CHECK_INT(check(o, JWT_ALG_RS256, rs->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD), now), AUTH_OIDC_BAD_ALG);
    CHECK_INT(check(orsa, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD), now),
              AUTH_OIDC_BAD_ALG);
    CHECK_INT(check(o, JWT_ALG_ES256, es2->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD), now),
              AUTH_OIDC_BAD_SIGNATURE);
    {
        /* a payload swapped under a valid header and signature */
        char *a = sign(JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD));
        char *b =
            sign(JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, ",\"sub\":\"x\",\"nonce\":\"n\""));
        char mixed[4096];
        const char *a1 = strchr(a, '.'), *a2 = strrchr(a, '.'), *b1 = strchr(b, '.'), *b2 = strrchr(b, '.');
        snprintf(mixed, sizeof(mixed), "%.*s%.*s%s", (int)(a1 - a), a, (int)(b2 - b1), b1, a2);
        CHECK_INT(auth_oidc_verify(o, mixed, strlen(mixed), now, &id), AUTH_OIDC_BAD_SIGNATURE);
        free(a);
        free(b);
    }

    /* iss and aud */
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims("https://evil.test", "\"" CLIENT "\"", now, now + 300, STD), now),
              AUTH_OIDC_BAD_ISSUER);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"someone-else\"", now, now + 300, STD), now),
              AUTH_OIDC_BAD_AUDIENCE);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "[\"a\",\"b\"]", now, now + 300, STD), now),
              AUTH_OIDC_BAD_AUDIENCE);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "[\"" CLIENT "\",7]", now, now + 300, STD), now),
              AUTH_OIDC_BAD_AUDIENCE);
    CHECK_INT(
        check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "[\"" CLIENT "\",\"b\"]", now, now + 300, STD ",\"azp\":\"b\""), now),
        AUTH_OIDC_BAD_AUDIENCE);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem,
                    claims(IDP, "[\"" CLIENT "\",\"b\"]", now, now + 300, STD ",\"azp\":\"" CLIENT "\""), now),
              AUTH_OIDC_OK);

    /* times, with 60 s leeway */
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now - 600, now - 60, STD), now), AUTH_OIDC_OK);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now - 600, now - 61, STD), now),
              AUTH_OIDC_EXPIRED);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now + 60, now + 600, STD), now), AUTH_OIDC_OK);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now + 61, now + 600, STD), now),
              AUTH_OIDC_NOT_YET_VALID);
    CHECK_INT(
        check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD ",\"nbf\":9999999999"), now),
        AUTH_OIDC_NOT_YET_VALID);

    /* claims */
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, ",\"sub\":\"s\""), now),
              AUTH_OIDC_BAD_CLAIMS);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, ",\"nonce\":\"n\""), now),
              AUTH_OIDC_BAD_CLAIMS);
    CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem,
                    claims(IDP, "\"" CLIENT "\"", now, now + 300, ",\"sub\":\"a\\nb\",\"nonce\":\"n\""), now),
              AUTH_OIDC_BAD_CLAIMS);
    memset(longsub, 'x', 256);
    longsub[256] = '\0';
    {
        char extra[400];
        snprintf(extra, sizeof(extra), ",\"sub\":\"%s\",\"nonce\":\"n\"", longsub);
        CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, extra), now),
                  AUTH_OIDC_BAD_CLAIMS);
        longsub[255] = '\0';
        snprintf(extra, sizeof(extra), ",\"sub\":\"%s\",\"nonce\":\"n\"", longsub);
        CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, extra), now),
                  AUTH_OIDC_OK);
    }
    {
        /* exp as a string */
        char c[512];
        snprintf(c, sizeof(c), "{\"iss\":\"%s\",\"aud\":\"%s\",\"iat\":%ld,\"exp\":\"%ld\"" STD "}", IDP, CLIENT, now, now + 300);
        CHECK_INT(check(o, JWT_ALG_ES256, es->private_pem, c, now), AUTH_OIDC_BAD_CLAIMS);
    }
    {
        /* cost of one verification (libjwt parses the PEM each time; a login needs one) */
        struct timespec t0, t1;
        int ok = 0;
        tok = sign(JWT_ALG_ES256, es->private_pem, claims(IDP, "\"" CLIENT "\"", now, now + 300, STD));
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int i = 0; i < 200; ++i)
            ok += auth_oidc_verify(o, tok, strlen(tok), now, &id) == AUTH_OIDC_OK;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        CHECK_INT(ok, 200);
        printf("auth_oidc_verify ES256: %.0f us per id_token\n",
               ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / 200);
        free(tok);
    }
    for (int r = 0; r <= AUTH_OIDC__COUNT; ++r)
        CHECK(auth_oidc_result_name((auth_oidc_result_t)r)[0] != '\0' && auth_oidc_result_detail((auth_oidc_result_t)r)[0] != '\0');

    auth_oidc_free(o);
    auth_oidc_free(orsa);
    free(pem_path);
    free(rsa_path);
    free(private_path);
    auth_keyring_free(kr);
    auth_keyring_free(kr2);
    {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", keys, other);
        CHECK_INT(system(cmd), 0);
    }
    return TEST_DONE();
}
