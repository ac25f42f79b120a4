/*
 * http/static — in-memory static files.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/hash.h"
#include "core/strutil.h"
#include "http/etag.h"
#include "http/static.h"

#define STATIC_MAX_FILES 512
#define STATIC_MAX_BYTES (32u * 1024 * 1024)

typedef struct static_file {
    char *url; /* "/", "/explore", "/assets/app.js" */
    char *body;
    size_t len;
    const char *type;
    char etag[24];
    int asset;
} static_file_t;

static static_file_t files[STATIC_MAX_FILES];
static size_t nfiles, total_bytes;

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); ++i) {
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    }
    return "application/octet-stream";
}

static int add_file(const char *path, const char *rel, char *err, size_t errlen)
{
    FILE *f;
    struct stat st;
    static_file_t *sf;
    char url[512];
    size_t rl = strlen(rel);

    if (nfiles == STATIC_MAX_FILES) {
        str_fmt(err, errlen, "clients/web: more than %d files", STATIC_MAX_FILES);
        return -1;
    }
    if (stat(path, &st) != 0 || (size_t)st.st_size > STATIC_MAX_BYTES - total_bytes) {
        str_fmt(err, errlen, "clients/web: %s is unreadable or the files exceed %u bytes", rel, STATIC_MAX_BYTES);
        return -1;
    }
    /* pages: index.html -> "/", <page>.html at the top -> "/<page>"; everything else keeps its path */
    if (strcmp(rel, "index.html") == 0)
        str_fmt(url, sizeof(url), "/");
    else if (strchr(rel, '/') == NULL && rl > 5 && strcmp(rel + rl - 5, ".html") == 0)
        str_fmt(url, sizeof(url), "/%.*s", (int)(rl - 5), rel);
    else if (str_fmt(url, sizeof(url), "/%s", rel) < 0)
        return 0;
    sf = &files[nfiles];
    if ((sf->body = malloc((size_t)st.st_size + 1)) == NULL || (f = fopen(path, "rb")) == NULL) {
        free(sf->body);
        str_fmt(err, errlen, "clients/web: cannot read %s: %s", rel, strerror(errno));
        return -1;
    }
    sf->len = fread(sf->body, 1, (size_t)st.st_size, f);
    fclose(f);
    sf->url = str_dup(url);
    sf->type = type_of(rel);
    sf->asset = strncmp(rel, "assets/", 7) == 0;
    str_fmt(sf->etag, sizeof(sf->etag), "\"%016llx\"", (unsigned long long)hash_bytes(sf->body, sf->len, HASH_SEED));
    total_bytes += sf->len;
    ++nfiles;
    return 0;
}

static int walk(const char *dir, const char *rel, int depth, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int ret = 0;

    if (d == NULL)
        return 0;
    while (ret == 0 && (de = readdir(d)) != NULL) {
        char path[1024], sub[512];
        struct stat st;
        if (de->d_name[0] == '.')
            continue; /* no dotfiles, no .. */
        if (str_fmt(path, sizeof(path), "%s/%s", dir, de->d_name) < 0 ||
            str_fmt(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) < 0 || lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            /* node_modules and tests hold development files, not pages */
            if (depth < 6 && strcmp(de->d_name, "node_modules") != 0 && strcmp(de->d_name, "test") != 0)
                ret = walk(path, sub, depth + 1, err, errlen);
        } else if (S_ISREG(st.st_mode)) {
            ret = add_file(path, sub, err, errlen);
        }
    }
    closedir(d);
    return ret;
}

int http_static_load(const char *dir, char *err, size_t errlen)
{
    return walk(dir, "", 0, err, errlen);
}

size_t http_static_count(void)
{
    return nfiles;
}

int http_static_serve(h2o_req_t *req)
{
    int head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    if (!head && !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
        return 0;
    for (size_t i = 0; i < nfiles; ++i) {
        static_file_t *f = &files[i];
        if (strlen(f->url) != req->path_normalized.len || memcmp(f->url, req->path_normalized.base, req->path_normalized.len) != 0)
            continue;
        if (f->asset)
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("public, max-age=86400"));
        else
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
        if (strncmp(f->type, "text/html", 9) == 0) {
            /* every asset comes from klimaspejl itself; the pages call only this origin's API */
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("content-security-policy"), 0, NULL,
                                  H2O_STRLIT("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                             "script-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'self'; "
                                             "form-action 'self'"));
            h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-frame-options"), 0, NULL, H2O_STRLIT("DENY"));
        }
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 0, NULL, H2O_STRLIT("nosniff"));
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("referrer-policy"), 0, NULL, H2O_STRLIT("same-origin"));
        if (http_not_modified(req, h2o_iovec_init(f->etag, strlen(f->etag)), NULL))
            return 1;
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, f->etag, strlen(f->etag));
        req->res.status = 200;
        req->res.reason = "OK";
        req->res.content_length = f->len;
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, f->type, strlen(f->type));
        req->compress_hint = H2O_COMPRESS_HINT_ENABLE;
        /* the body lives for the whole process: no copy */
        static h2o_generator_t generator = {NULL, NULL};
        h2o_start_response(req, &generator);
        h2o_iovec_t body = h2o_iovec_init(f->body, f->len);
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
        return 1;
    }
    return 0;
}
