/*
 * http/static — the web pages of clients/web, loaded into memory once at start (they are small) and served read-only
 * by every worker without locks: "/" is index.html, "/<page>" is <page>.html, and everything under "/assets/" is the
 * file of that name. Strong ETags, Cache-Control (pages revalidate, assets are cached for a day), HEAD, gzip by the
 * compress filter. No file is read from disk after start, so no request can reach outside the folder.
 */
#ifndef KLIMA_HTTP_STATIC_H
#define KLIMA_HTTP_STATIC_H

#include <h2o.h>

/* Loads every regular file below dir (at most 32 MiB in all). A missing dir is not an error (no pages are served).
 * Returns 0, or -1 with a message in err. */
int http_static_load(const char *dir, char *err, size_t errlen);

/* Serves req if its path is a loaded page or asset (GET or HEAD) and returns 1; otherwise returns 0. */
int http_static_serve(h2o_req_t *req);

/* The number of files loaded. */
size_t http_static_count(void);

#endif
