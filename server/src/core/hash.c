/*
 * core/hash — XXH3 from Debian's libxxhash.
 */
#include <string.h>
#include <xxhash.h>

#include "core/hash.h"

uint64_t hash_bytes(const void *p, size_t len, uint64_t seed)
{
    return (uint64_t)XXH3_64bits_withSeed(p, len, (XXH64_hash_t)seed);
}

uint64_t hash_str(const char *s, uint64_t seed)
{
    return hash_bytes(s, strlen(s) + 1, seed);
}
