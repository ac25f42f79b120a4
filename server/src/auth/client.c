/*
 * auth/client — rules for registered apps.
 */
#include <string.h>

#include "auth/client.h"

int auth_redirect_uri_valid(const char *u)
{
    if (strchr(u, '#') != NULL || strpbrk(u, " \t\r\n\"<>") != NULL)
        return 0;
    if (strncmp(u, "https://", 8) == 0)
        return u[8] != '\0';
    if (strncmp(u, "http://localhost", 16) == 0 || strncmp(u, "http://127.0.0.1", 16) == 0 || strncmp(u, "http://[::1]", 12) == 0)
        return 1;
    /* private-use scheme: reverse domain name with a dot, e.g. dk.kk.klima:/cb */
    const char *colon = strchr(u, ':');
    return colon != NULL && colon > u && memchr(u, '.', (size_t)(colon - u)) != NULL && strncmp(u, "http", 4) != 0;
}
