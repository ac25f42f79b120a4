/* core/b64: RFC 4648 section 10 vectors in the url alphabet, round trips, and every non-canonical spelling refused. */
#include <stdlib.h>

#include "core/b64.h"
#include "../test.h"

static const char *enc(const char *s)
{
    static char out[128];
    CHECK(b64url_encode(s, strlen(s), out, sizeof(out)) == (int)B64URL_LEN(strlen(s)));
    return out;
}

static int dec(const char *s, char *out, size_t size)
{
    int n = b64url_decode(s, strlen(s), (unsigned char *)out, size - 1);
    if (n >= 0)
        out[n] = '\0';
    return n;
}

int main(void)
{
    char out[128], small[3];
    static const char *const vectors[][2] = {{"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
                                             {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); ++i) {
        CHECK_STR(enc(vectors[i][0]), vectors[i][1]);
        CHECK_INT(dec(vectors[i][1], out, sizeof(out)), (long long)strlen(vectors[i][0]));
        CHECK_STR(out, vectors[i][0]);
    }
    /* the url alphabet: 0xfb 0xff -> "-_8" (standard base64 would be "+/8=") */
    CHECK_STR(enc("\xfb\xff"), "-_8");
    CHECK_INT(dec("+/8", out, sizeof(out)), -1);
    CHECK_INT(dec("Zg==", out, sizeof(out)), -1); /* padding */
    CHECK_INT(dec("Zh", out, sizeof(out)), -1);   /* leftover bits set: a second spelling of "f" */
    CHECK_INT(dec("Z", out, sizeof(out)), -1);    /* a length no encoding has */
    CHECK_INT(dec("Zm 9v", out, sizeof(out)), -1);
    CHECK_INT(b64url_decode("Zm9vYmFy", 8, (unsigned char *)small, sizeof(small)), -1); /* does not fit */
    CHECK_INT(b64url_encode("foo", 3, small, sizeof(small)), -1);
    /* b64url_append encodes in pieces: the same text as one encode, across the 192-byte boundary */
    {
        unsigned char in[500];
        char one[700];
        sbuf_t b = SBUF_INIT(SBUF_CAP_VALUE);
        for (size_t i = 0; i < sizeof(in); ++i)
            in[i] = (unsigned char)(i * 37 + 11);
        b64url_append(&b, in, sizeof(in));
        CHECK(b64url_encode(in, sizeof(in), one, sizeof(one)) > 0);
        CHECK(!sbuf_failed(&b));
        CHECK_STR(b.data, one);
        sbuf_free(&b);
    }
    CHECK(b64url_is_token("abc-_09", 7, 7));
    CHECK(!b64url_is_token("abc-_0", 7, 7));
    CHECK(!b64url_is_token("abc+_09", 7, 7));
    return TEST_DONE();
}
