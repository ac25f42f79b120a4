/* libFuzzer: consent-token parsing and verification. The first byte picks the mode: even — the rest is a bearer token
 * handed to auth_token_verify as is (shape, base64url, JSON, header checks); odd — the rest is a claims object that is
 * signed with the fuzzer's own key first, so the claim checks behind the signature are reached too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/keyring.h"
#include "auth/scope.h"
#include "auth/token.h"
#include "core/b64.h"

static auth_keyring_t *kr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char dir[] = "/tmp/klima-fuzz-keys-XXXXXX", kid[80], err[256], path[256];
    if (mkdtemp(dir) == NULL || auth_keygen(dir, AUTH_ALG_ES256, kid, sizeof(kid), err, sizeof(err)) != 0 ||
        (kr = auth_keyring_load(dir, err, sizeof(err))) == NULL) {
        fprintf(stderr, "fuzz_token: cannot make a key: %s\n", err);
        abort();
    }
    snprintf(path, sizeof(path), "%s/%s.pem", dir, kid);
    remove(path);
    remove(dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    auth_claims_t c;
    uint32_t mask;
    unsigned char raw[512];
    char *buf;

    if (size == 0)
        return 0;
    if ((buf = malloc(size)) == NULL)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    if (data[0] % 2 == 0) {
        auth_token_verify(kr, "https://klimaspejl.test", NULL, buf, size - 1, 1700000000, &c);
        b64url_decode(buf, strnlen(buf, size - 1), raw, sizeof(raw));
        auth_scope_parse(buf, data[0] & 2, &mask);
    } else {
        char *tok = auth_jws_sign(kr, "at+jwt", buf);
        if (tok != NULL) {
            auth_token_verify(kr, "https://klimaspejl.test", data[0] & 2 ? "client-0001" : NULL, tok, strlen(tok), 1700000000, &c);
            free(tok);
        }
    }
    free(buf);
    return 0;
}
