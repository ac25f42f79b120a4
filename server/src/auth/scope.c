/*
 * auth/scope — the consent scopes.
 */
#include <string.h>

#include "auth/scope.h"

/* Order matters only for display. Bits are assigned by position: append new scopes at the end. */
const auth_scope_t auth_scopes[] = {
    {"summary:read", "Din husstands månedlige klimaoversigt: CO2e, sammenligning med lignende hjem og tips",
     "Your household's monthly climate summary: CO2e, comparison with similar homes and tips", 0},
    {"energy:read", "Jeres el-, varme- og vandforbrug time for time", "Your electricity, heating and water use, hour by hour", 0},
    {"waste:read", "Vejninger af jeres affald pr. fraktion", "Weighings of your waste, by fraction", 0},
    {"mobility:read", "Jeres ture og kilometer pr. transportform", "Your trips and kilometres, by mode of transport", 0},
    {"export:read", "En komplet kopi af alle husstandens data", "A complete copy of all your household's data", 0},
    {"consents:manage", "Se og tilbagekalde, hvilke apps der har adgang (Mine apps; kun kommunens egne apps)",
     "See and revoke which apps have access (My apps; the city's own apps only)", 1},
};

const size_t auth_nscopes = sizeof(auth_scopes) / sizeof(auth_scopes[0]);

uint32_t auth_scope_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < auth_nscopes; ++i) {
        if (strlen(auth_scopes[i].name) == len && memcmp(auth_scopes[i].name, name, len) == 0)
            return UINT32_C(1) << i;
    }
    return 0;
}

int auth_scope_parse(const char *s, int strict, uint32_t *out)
{
    uint32_t mask = 0;
    while (*s != '\0') {
        size_t len;
        uint32_t bit;
        if (*s == ' ') {
            ++s;
            continue;
        }
        len = strcspn(s, " ");
        bit = auth_scope_bit(s, len);
        if (strict && (bit == 0 || (mask & bit) != 0))
            return -1;
        mask |= bit;
        s += len;
    }
    *out = mask;
    return 0;
}

int auth_scope_format(uint32_t mask, char *buf, size_t size)
{
    size_t o = 0;
    if (size == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < auth_nscopes; ++i) {
        size_t len = strlen(auth_scopes[i].name);
        if ((mask & (UINT32_C(1) << i)) == 0)
            continue;
        if (o + len + (o > 0) + 1 > size)
            return -1;
        if (o > 0)
            buf[o++] = ' ';
        memcpy(buf + o, auth_scopes[i].name, len);
        o += len;
        buf[o] = '\0';
    }
    return 0;
}
