/*
 * auth/scope — the table of consent scopes: what an app may read, in plain Danish and English for the consent screen.
 * Scopes are carried in tokens as space-separated names and held in memory as a bit mask over this table.
 */
#ifndef KLIMA_AUTH_SCOPE_H
#define KLIMA_AUTH_SCOPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct auth_scope {
    const char *name;    /* e.g. "energy:read" */
    const char *text_da; /* plain words for the consent screen */
    const char *text_en;
    int first_party_only; /* granted only to the city's own (first-party) clients */
} auth_scope_t;

extern const auth_scope_t auth_scopes[];
extern const size_t auth_nscopes;

/* The bit of scope name[0..len), or 0 when it is not in the table. */
uint32_t auth_scope_bit(const char *name, size_t len);

/* Parses a space-separated scope list into a mask. Unknown names are ignored when strict is 0; with strict 1 the
 * function returns -1 for an unknown or repeated name. Returns 0 and stores the mask. */
int auth_scope_parse(const char *s, int strict, uint32_t *out);

/* Writes the names of mask, space-separated in table order, into buf; returns 0, or -1 when buf is too small. */
int auth_scope_format(uint32_t mask, char *buf, size_t size);

#endif
