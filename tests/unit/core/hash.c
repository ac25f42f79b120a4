/* core/hash: XXH3 (the library's answer for known inputs), seeds and chaining. */
#include <xxhash.h>

#include "core/hash.h"
#include "../test.h"

int main(void)
{
    /* XXH3-64 of the empty input with seed 0 (the reference value of xxHash's own tests) */
    CHECK(hash_bytes("", 0, 0) == 0x2D06800538D394C2ULL);
    CHECK(hash_bytes("abc", 3, 0) == (uint64_t)XXH3_64bits("abc", 3));
    /* the seed changes the value; the same input and seed give the same value (ETags are stable across restarts) */
    CHECK(hash_bytes("abc", 3, 1) != hash_bytes("abc", 3, 0));
    CHECK(hash_bytes("abc", 3, 7) == hash_bytes("abc", 3, 7));
    /* hash_str counts the NUL: "ab"+"c" and "a"+"bc" chain to different values */
    CHECK(hash_str("c", hash_str("ab", HASH_SEED)) != hash_str("bc", hash_str("a", HASH_SEED)));
    CHECK(hash_str("ab", 0) == hash_bytes("ab", 3, 0));
    return TEST_DONE();
}
