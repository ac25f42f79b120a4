/*
 * cli/audit — `klimaspejl audit`: plays the attacker against the published datasets from the public HTTP API only.
 * It downloads every modelled dataset (catalog, CSV downloads, emission factors, grid intensity), writes down the
 * relations between them, solves one linear program per district-month with the published noise bounds
 * (audit_model.c, audit_lp.c) and reports every hidden cell, group of fewer than k households and single household's
 * contribution it can narrow to within +/- p % (tau-Argus' p % rule). With --previous it also attacks the difference
 * between two consecutive releases. README.md "klimaspejl audit" states the attacker model and its assumptions.
 *
 * Exit status: 0 no findings, 1 findings, 2 errors (bad usage, unreachable server, malformed data).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/audit_model.h"
#include "cli/cli.h"

#define AUDIT_EXIT_FINDINGS 1
#define AUDIT_EXIT_ERROR 2
#define AUDIT_MAX_BODY (512u << 20) /* one download at most 512 MiB */

static void audit_usage(FILE *out)
{
    fprintf(out, "usage: klimaspejl audit --url BASE [--p P] [--save DIR] [--previous DIR] [--json FILE]\n"
                 "                        [--attacker justified|plausible] [--max-ratio R] [--noise-factor F] [--targets]\n"
                 "  Plays the attacker from the public API at BASE (e.g. http://127.0.0.1:8080): downloads the\n"
                 "  catalog and every household dataset, writes down every relation between the tables (hours sum to\n"
                 "  days, days to the peer groups' month, amounts x emission factors and hourly electricity x grid\n"
                 "  intensity to the footprint, categories to the total, household counts), solves one linear program\n"
                 "  per district-month with the published noise bounds, and reports every suppressed cell, group of\n"
                 "  fewer than k households and single household's contribution it can narrow to within +/- P %%\n"
                 "  (default: the catalog's p_pct, else 15).\n"
                 "  --save DIR       store what was downloaded (a release) in DIR\n"
                 "  --previous DIR   a release stored earlier with --save: also attack the differences of the two\n"
                 "  --json FILE      write the findings as JSON to FILE\n"
                 "  --attacker M     how the unpublished scale of magnitude noise (a cell's largest contribution) is\n"
                 "                   bounded: justified (default: by the cell's own total) or plausible (by R times\n"
                 "                   the cell's mean per household, --max-ratio R, default 3)\n"
                 "  --noise-factor F multiply every published noise bound by F (F < 1: would a weaker protection hold?)\n"
                 "  --targets        also list every target the attack bounded away from 0 but did not narrow to\n"
                 "                   within P %% (\"target\" lines: how far the attacker gets)\n"
                 "  Exit status: 0 no findings, 1 findings (printed), 2 errors.\n");
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Fetching */

typedef struct body {
    char *data;
    size_t len, cap;
    char version[32]; /* the response's X-Dataset-Version ("" when absent) */
} body_t;

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    body_t *b = ud;
    size_t n = size * nmemb;
    if (b->len + n + 1 > AUDIT_MAX_BODY)
        return 0;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (d == NULL)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* Keeps the X-Dataset-Version header of a response. */
static size_t header_line(char *buf, size_t size, size_t nitems, void *ud)
{
    body_t *b = ud;
    size_t n = size * nitems;
    static const char name[] = "x-dataset-version:";
    size_t nl = sizeof(name) - 1;
    if (n > nl && strncasecmp(buf, name, nl) == 0) {
        const char *v = buf + nl;
        size_t l = n - nl;
        while (l > 0 && (*v == ' ' || *v == '\t')) {
            ++v;
            --l;
        }
        while (l > 0 && (v[l - 1] == '\r' || v[l - 1] == '\n' || v[l - 1] == ' '))
            --l;
        if (l >= sizeof(b->version))
            l = sizeof(b->version) - 1;
        memcpy(b->version, v, l);
        b->version[l] = '\0';
    }
    return n;
}

/* GETs base + path into *out (NUL-terminated). Returns 0, or -1 with a message on stderr. */
static int fetch(CURL *curl, const char *base, const char *path, body_t *out)
{
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", base, path);
    out->len = 0;
    out->version[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_line);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "klimaspejl-audit/" KLIMA_VERSION);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "audit: GET %s: %s\n", url, curl_easy_strerror(rc));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "audit: GET %s: HTTP %ld\n", url, status);
        return -1;
    }
    if (out->data == NULL && body_write("", 1, 0, out) != 0)
        return -1;
    if (out->data == NULL) {
        out->data = calloc(1, 1);
        if (out->data == NULL)
            return -1;
    }
    return 0;
}

static int save_file(const char *dir, const char *name, const body_t *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "audit: cannot write %s: %s\n", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return -1;
    }
    return 0;
}

static int load_file(const char *dir, const char *name, body_t *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "audit: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    b->len = 0;
    b->version[0] = '\0';
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        if (body_write(buf, 1, n, b) != n) {
            rc = -1;
            break;
        }
    fclose(f);
    if (rc == 0 && b->data == NULL) {
        b->data = calloc(1, 1);
        rc = b->data != NULL ? 0 : -1;
    }
    return rc;
}

/* Where a release comes from: the server (and optionally a directory to store it in) or a stored directory. */
typedef struct source {
    CURL *curl;
    const char *base;
    const char *save_dir;
    const char *load_dir;
} source_t;

/* Gets one resource of the release: path on the server, name in a stored release. */
static int source_get(source_t *s, const char *path, const char *name, body_t *b)
{
    if (s->load_dir != NULL)
        return load_file(s->load_dir, name, b);
    if (fetch(s->curl, s->base, path, b) < 0)
        return -1;
    return s->save_dir != NULL ? save_file(s->save_dir, name, b) : 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* CSV (RFC 4180 as the download writes it: header row, quoted fields where needed, LF or CRLF) */

typedef int (*csv_row_fn)(void *ud, size_t n, const char *const *names, const char *const *values);

#define CSV_MAX_COLS 64

/* Parses the CSV in b (modified in place) and calls fn for every data row. Returns 0, or -1 with a message. */
static int csv_each(body_t *b, const char *what, csv_row_fn fn, void *ud)
{
    char *names[CSV_MAX_COLS], *values[CSV_MAX_COLS];
    size_t ncols = 0, line = 1;
    char *p = b->data, *end = b->data + b->len;
    int header = 1;
    while (p < end) {
        size_t n = 0;
        char **fields = header ? names : values;
        for (;;) {
            if (n == CSV_MAX_COLS) {
                fprintf(stderr, "audit: %s:%zu: more than %d columns\n", what, line, CSV_MAX_COLS);
                return -1;
            }
            char *out = p, *start = p;
            if (p < end && *p == '"') {
                ++p;
                for (;;) {
                    if (p >= end) {
                        fprintf(stderr, "audit: %s:%zu: unterminated quoted field\n", what, line);
                        return -1;
                    }
                    if (*p == '"') {
                        if (p + 1 < end && p[1] == '"') {
                            *out++ = '"';
                            p += 2;
                            continue;
                        }
                        ++p;
                        break;
                    }
                    *out++ = *p++;
                }
            } else {
                while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                    ++p;
                out = p;
            }
            char sep = p < end ? *p : '\n';
            *out = '\0';
            fields[n++] = start;
            if (sep == ',') {
                ++p;
                continue;
            }
            /* the separator was overwritten by the NUL: step over it by what it was */
            if (p < end)
                ++p;
            if (sep == '\r' && p < end && *p == '\n')
                ++p;
            break;
        }
        ++line;
        if (header) {
            ncols = n;
            header = 0;
            continue;
        }
        if (n == 1 && values[0][0] == '\0')
            continue;
        if (n != ncols) {
            fprintf(stderr, "audit: %s:%zu: %zu fields, the header has %zu\n", what, line - 1, n, ncols);
            return -1;
        }
        if (fn(ud, n, (const char *const *)names, (const char *const *)values) < 0) {
            fprintf(stderr, "audit: %s:%zu: bad row\n", what, line - 1);
            return -1;
        }
    }
    return 0;
}

typedef struct row_ctx {
    audit_release_t *rel;
    int ds;
} row_ctx_t;

static int row_dataset(void *ud, size_t n, const char *const *names, const char *const *values)
{
    row_ctx_t *c = ud;
    char err[256];
    if (audit_release_add_row(c->rel, c->ds, n, names, values, err, sizeof(err)) < 0) {
        fprintf(stderr, "audit: %s\n", err);
        return -1;
    }
    return 0;
}

static int row_grid(void *ud, size_t n, const char *const *names, const char *const *values)
{
    row_ctx_t *c = ud;
    const char *hour = NULL, *hour_dk = NULL, *g = NULL;
    for (size_t i = 0; i < n; ++i) {
        if (strcmp(names[i], "hour_utc") == 0)
            hour = values[i];
        else if (strcmp(names[i], "hour_dk") == 0)
            hour_dk = values[i];
        else if (strcmp(names[i], "g_per_kwh") == 0)
            g = values[i];
    }
    if (hour == NULL || g == NULL)
        return -1;
    if (*g == '\0')
        return 0;
    char *e;
    double v = strtod(g, &e);
    if (*e != '\0')
        return -1;
    return audit_release_add_grid(c->rel, hour, hour_dk, v);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* A release: catalog, noise parameters, links, rows */

typedef struct link_issue {
    char dataset[64], source[64];
} link_issue_t;

typedef struct loaded {
    audit_release_t *rel;
    double p_pct;        /* largest p_pct published (0: none) */
    int noise_on[2];     /* modelled datasets published without [0] and with [1] cell-key noise */
    int existence_on[2]; /* ... without [0] and with [1] the existence rule */
    link_issue_t issues[64];
    size_t nissues;
    char unmodelled[16][64];
    size_t nunmodelled;
} loaded_t;

static double json_num(json_t *o, const char *key, double dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* Reads a dataset's "disclosure_control" block; absent or enabled = false: no noise. The existence rule (a key
 * combination of fewer than k households is not listed) holds unless the block says "existence": false. */
static void parse_dc(json_t *meta, audit_dc_t *dc, double *p_pct)
{
    memset(dc, 0, sizeof(*dc));
    dc->k = (int)json_num(meta, "k", 10);
    dc->existence = 1;
    json_t *b = json_object_get(meta, "disclosure_control");
    if (!json_is_object(b))
        return;
    json_t *ex = json_object_get(b, "existence");
    if (json_is_boolean(ex))
        dc->existence = json_is_true(ex);
    dc->enabled = json_is_true(json_object_get(b, "enabled"));
    dc->k = (int)json_num(b, "k", dc->k);
    double p = json_num(b, "p_pct", 0);
    if (p > *p_pct)
        *p_pct = p;
    if (!dc->enabled)
        return;
    json_t *c = json_object_get(b, "counts"), *m = json_object_get(b, "magnitudes");
    dc->count_d = json_num(c, "D", 0);
    dc->mag_d = json_num(m, "D", 0);
    dc->mag_m = json_num(m, "m", 1);
}

/* Checks a dataset's derived_from links (strings, or objects with "dataset" or "id") against the modelled ones. */
static void check_links(loaded_t *L, const char *id, json_t *meta)
{
    json_t *df = json_object_get(meta, "derived_from");
    if (!json_is_array(df))
        return;
    size_t i;
    json_t *x;
    json_array_foreach(df, i, x)
    {
        const char *src = json_string_value(x);
        if (src == NULL && json_is_object(x)) {
            src = json_string_value(json_object_get(x, "dataset"));
            if (src == NULL)
                src = json_string_value(json_object_get(x, "id"));
        }
        if (src == NULL || audit_link_modelled(id, src) || L->nissues == 64)
            continue;
        snprintf(L->issues[L->nissues].dataset, sizeof(L->issues[0].dataset), "%s", id);
        snprintf(L->issues[L->nissues].source, sizeof(L->issues[0].source), "%s", src);
        ++L->nissues;
    }
}

/* Gets a dataset's metadata (GET /v1/datasets/{id}) as JSON. Its disclosure_control names the version it describes:
 * right after a release the server has the new version at once and the rest of the catalog within a second, so a
 * mismatch is asked again (for up to 15 s) rather than read as the new version's parameters. NULL on failure. */
static json_t *get_metadata(source_t *s, const char *path, const char *name, body_t *b)
{
    for (int attempt = 0;; ++attempt) {
        if (source_get(s, path, name, b) < 0)
            return NULL;
        json_error_t jerr;
        json_t *meta = json_loads(b->data, 0, &jerr);
        if (meta == NULL) {
            fprintf(stderr, "audit: %s: %s\n", path, jerr.text);
            return NULL;
        }
        json_t *dcv = json_object_get(json_object_get(meta, "disclosure_control"), "version");
        json_t *v = json_object_get(meta, "version");
        if (!json_is_integer(dcv) || !json_is_integer(v) || json_integer_value(dcv) == json_integer_value(v))
            return meta;
        if (s->load_dir != NULL || attempt >= 60) {
            fprintf(stderr,
                    "audit: %s: disclosure_control describes version %" JSON_INTEGER_FORMAT
                    ", the dataset is at version %" JSON_INTEGER_FORMAT " (metadata of two releases)\n",
                    path, json_integer_value(dcv), json_integer_value(v));
            json_decref(meta);
            return NULL;
        }
        json_decref(meta);
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Adds the published vocabularies (Table Schema constraints.enum) of a modelled dataset's key columns. */
static int add_domains(audit_release_t *rel, int ds, json_t *meta)
{
    json_t *fields = json_object_get(json_object_get(meta, "schema"), "fields");
    size_t i, j;
    json_t *f, *e;
    json_array_foreach(fields, i, f)
    {
        const char *nm = json_string_value(json_object_get(f, "name"));
        for (int which = 0; which < 2 && nm != NULL; ++which) {
            const char *key = audit_ds_key_column(ds, which);
            if (key == NULL || strcmp(key, nm) != 0)
                continue;
            json_array_foreach(json_object_get(json_object_get(f, "constraints"), "enum"), j, e)
            {
                if (json_is_string(e) && audit_release_add_domain(rel, ds, which, json_string_value(e)) < 0)
                    return -1;
            }
        }
    }
    return 0;
}

static int load_release(source_t *s, loaded_t *L)
{
    body_t b = {0};
    json_t *cat = NULL;
    int rc = -1;
    L->rel = audit_release_new();
    if (L->rel == NULL)
        goto done;
    if (source_get(s, "/v1/datasets?lang=en", "catalog.json", &b) < 0)
        goto done;
    json_error_t jerr;
    cat = json_loads(b.data, 0, &jerr);
    json_t *list = json_object_get(cat, "datasets");
    if (!json_is_array(list)) {
        fprintf(stderr, "audit: the catalog has no datasets array (%s)\n", jerr.text);
        goto done;
    }
    size_t i;
    json_t *d;
    int have_grid = 0, have_factors = 0;
    json_array_foreach(list, i, d)
    {
        const char *id = json_string_value(json_object_get(d, "id"));
        if (id == NULL)
            continue;
        char path[256], name[256];
        snprintf(path, sizeof(path), "/v1/datasets/%s?lang=en", id);
        snprintf(name, sizeof(name), "%s.meta.json", id);
        json_t *meta = get_metadata(s, path, name, &b);
        if (meta == NULL)
            goto done;
        check_links(L, id, meta);
        int ds = audit_ds_index(id);
        int personal = json_is_true(json_object_get(meta, "personal"));
        audit_dc_t dc;
        parse_dc(meta, &dc, &L->p_pct);
        char version[32];
        snprintf(version, sizeof(version), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(meta, "version")));
        if (ds >= 0 && add_domains(L->rel, ds, meta) < 0) {
            json_decref(meta);
            goto done;
        }
        json_decref(meta);
        if (strcmp(id, "grid-intensity-hourly") == 0)
            have_grid = 1;
        if (strcmp(id, "emission-factors") == 0)
            have_factors = 1;
        if (ds < 0) {
            if (personal && strcmp(id, "grid-intensity-hourly") != 0 && L->nunmodelled < 16)
                snprintf(L->unmodelled[L->nunmodelled++], sizeof(L->unmodelled[0]), "%s", id);
            continue;
        }
        L->noise_on[dc.enabled != 0] = 1;
        L->existence_on[dc.existence != 0] = 1;
        audit_release_set_dc(L->rel, ds, &dc);
        snprintf(path, sizeof(path), "/v1/datasets/%s/download?format=csv", id);
        snprintf(name, sizeof(name), "%s.csv", id);
        if (source_get(s, path, name, &b) < 0)
            goto done;
        /* the rows must be the version the metadata describes (a release in between would mix two) */
        if (b.version[0] != '\0' && strcmp(b.version, version) != 0) {
            fprintf(stderr,
                    "audit: %s: the download is version %s, its metadata version %s: a release was published during "
                    "the audit; run it again\n",
                    id, b.version, version);
            goto done;
        }
        row_ctx_t ctx = {L->rel, ds};
        if (csv_each(&b, name, row_dataset, &ctx) < 0)
            goto done;
    }
    if (!have_grid || !have_factors) {
        fprintf(stderr, "audit: the catalog lacks %s\n", have_grid ? "emission-factors" : "grid-intensity-hourly");
        goto done;
    }
    if (source_get(s, "/v1/datasets/grid-intensity-hourly/download?format=csv", "grid-intensity-hourly.csv", &b) < 0)
        goto done;
    row_ctx_t ctx = {L->rel, -1};
    if (csv_each(&b, "grid-intensity-hourly.csv", row_grid, &ctx) < 0)
        goto done;
    if (source_get(s, "/v1/emission-factors?lang=en", "emission-factors.json", &b) < 0)
        goto done;
    json_t *ef = json_loads(b.data, 0, &jerr);
    json_t *factors = json_object_get(ef, "factors");
    if (!json_is_array(factors)) {
        fprintf(stderr, "audit: /v1/emission-factors has no factors array\n");
        json_decref(ef);
        goto done;
    }
    json_t *f;
    json_array_foreach(factors, i, f)
    {
        const char *fid = json_string_value(json_object_get(f, "factor_id"));
        const char *unit = json_string_value(json_object_get(f, "unit"));
        json_t *v = json_object_get(f, "value");
        if (fid == NULL || unit == NULL || !json_is_number(v))
            continue;
        if (audit_release_add_factor(L->rel, fid, unit, json_number_value(v), json_string_value(json_object_get(f, "valid_from")),
                                     json_string_value(json_object_get(f, "valid_to"))) < 0) {
            json_decref(ef);
            goto done;
        }
    }
    json_decref(ef);
    rc = 0;
done:
    json_decref(cat);
    free(b.data);
    return rc;
}

/* ---------------------------------------------------------------------------------------------------------------- */

static void print_finding(size_t i, const audit_finding_t *f)
{
    const char *what = f->narrowed ? "finding" : "target";
    if (strcmp(f->kind, "existence") == 0 || strcmp(f->kind, "unmodelled") == 0) {
        printf("%s %zu: %s %s %s%s%s — %s\n", what, i, f->kind, f->dataset, f->key, f->measure[0] ? " " : "", f->measure, f->how);
        return;
    }
    double pct = f->estimate != 0 ? 100.0 * (f->hi - f->lo) / 2 / fabs(f->estimate) : 0;
    printf("%s %zu: %s %s %s %s interval [%.6g, %.6g] estimate %.6g (+/- %.3g %%) — %s\n", what, i, f->kind, f->dataset, f->key,
           f->measure, f->lo, f->hi, f->estimate, pct, f->how);
}

static int write_json(const char *path, const audit_findings_t *fs, const audit_stats_t *st, double secs)
{
    json_t *root = json_object(), *arr = json_array();
    for (size_t i = 0; i < fs->n; ++i) {
        const audit_finding_t *f = &fs->v[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "kind", f->kind, "dataset", f->dataset, "key", f->key, "measure",
                              f->measure, "how", f->how, "narrowed", f->narrowed);
        if (strcmp(f->kind, "existence") != 0 && strcmp(f->kind, "unmodelled") != 0) {
            json_object_set_new(o, "lo", json_real(f->lo));
            json_object_set_new(o, "hi", json_real(f->hi));
            json_object_set_new(o, "estimate", json_real(f->estimate));
        }
        json_array_append_new(arr, o);
    }
    json_object_set_new(root, "findings", arr);
    json_object_set_new(root, "clusters", json_integer((json_int_t)st->clusters));
    json_object_set_new(root, "linear_programs", json_integer((json_int_t)st->lps));
    json_object_set_new(root, "targets", json_integer((json_int_t)st->targets));
    json_object_set_new(root, "seconds", json_real(secs));
    int rc = json_dump_file(root, path, JSON_INDENT(1)) == 0 ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "audit: cannot write %s\n", path);
    json_decref(root);
    return rc;
}

static int parse_positive(const char *s, double *out)
{
    char *e;
    double v = strtod(s, &e);
    if (*s == '\0' || *e != '\0' || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

int cli_audit_main(int argc, char **argv)
{
    const char *url = NULL, *save = NULL, *previous = NULL, *json_path = NULL;
    audit_options_t opt;
    audit_options_init(&opt);
    int p_given = 0;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            audit_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--targets") == 0) {
            opt.all_targets = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "audit: %s needs a value (or is unknown)\n", a);
            audit_usage(stderr);
            return AUDIT_EXIT_ERROR;
        }
        ++i;
        if (strcmp(a, "--url") == 0) {
            url = v;
        } else if (strcmp(a, "--save") == 0) {
            save = v;
        } else if (strcmp(a, "--previous") == 0) {
            previous = v;
        } else if (strcmp(a, "--json") == 0) {
            json_path = v;
        } else if (strcmp(a, "--p") == 0) {
            if (parse_positive(v, &opt.p_pct) < 0 || opt.p_pct <= 0 || opt.p_pct >= 100) {
                fprintf(stderr, "audit: --p: expected a percentage above 0 and below 100\n");
                return AUDIT_EXIT_ERROR;
            }
            p_given = 1;
        } else if (strcmp(a, "--attacker") == 0) {
            if (strcmp(v, "justified") == 0)
                opt.attacker = AUDIT_ATTACKER_JUSTIFIED;
            else if (strcmp(v, "plausible") == 0)
                opt.attacker = AUDIT_ATTACKER_PLAUSIBLE;
            else {
                fprintf(stderr, "audit: --attacker: expected justified or plausible\n");
                return AUDIT_EXIT_ERROR;
            }
        } else if (strcmp(a, "--max-ratio") == 0) {
            if (parse_positive(v, &opt.max_ratio) < 0 || opt.max_ratio < 1) {
                fprintf(stderr, "audit: --max-ratio: expected a number of at least 1\n");
                return AUDIT_EXIT_ERROR;
            }
        } else if (strcmp(a, "--noise-factor") == 0) {
            if (parse_positive(v, &opt.noise_factor) < 0) {
                fprintf(stderr, "audit: --noise-factor: expected a number of at least 0\n");
                return AUDIT_EXIT_ERROR;
            }
        } else {
            fprintf(stderr, "audit: unknown option %s\n", a);
            audit_usage(stderr);
            return AUDIT_EXIT_ERROR;
        }
    }
    if (url == NULL) {
        fprintf(stderr, "audit: --url is required\n");
        audit_usage(stderr);
        return AUDIT_EXIT_ERROR;
    }
    size_t ul = strlen(url);
    char base[1024];
    snprintf(base, sizeof(base), "%.*s", (int)(ul > 0 && url[ul - 1] == '/' ? ul - 1 : ul), url);
    if (save != NULL && mkdir(save, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "audit: --save: cannot create %s: %s\n", save, strerror(errno));
        return AUDIT_EXIT_ERROR;
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int exit_code = AUDIT_EXIT_ERROR;
    loaded_t cur = {0}, prev = {0};
    audit_findings_t fs = {0};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    if (curl == NULL)
        goto done;
    if (previous != NULL) {
        source_t sp = {.load_dir = previous};
        if (load_release(&sp, &prev) < 0)
            goto done;
    }
    source_t sc = {.curl = curl, .base = base, .save_dir = save};
    if (load_release(&sc, &cur) < 0)
        goto done;
    if (!p_given && cur.p_pct > 0)
        opt.p_pct = cur.p_pct;

    /* links the audit does not model, and personal datasets it does not know, are findings in themselves */
    for (size_t i = 0; i < cur.nissues; ++i) {
        audit_finding_t f = {0};
        snprintf(f.kind, sizeof(f.kind), "unmodelled");
        snprintf(f.dataset, sizeof(f.dataset), "%s", cur.issues[i].dataset);
        snprintf(f.key, sizeof(f.key), "derived_from=%s", cur.issues[i].source);
        snprintf(f.how, sizeof(f.how),
                 "the catalog links these datasets, but the audit models no relation between "
                 "them: an attacker's equations may be missing");
        if (audit_findings_add(&fs, &f) < 0)
            goto done;
    }
    for (size_t i = 0; i < cur.nunmodelled; ++i) {
        audit_finding_t f = {0};
        snprintf(f.kind, sizeof(f.kind), "unmodelled");
        snprintf(f.dataset, sizeof(f.dataset), "%s", cur.unmodelled[i]);
        snprintf(f.key, sizeof(f.key), "dataset");
        snprintf(f.how, sizeof(f.how), "a household dataset the audit does not model");
        if (audit_findings_add(&fs, &f) < 0)
            goto done;
    }

    audit_stats_t st;
    char err[256];
    if (audit_run(cur.rel, prev.rel, &opt, &fs, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "audit: %s\n", err);
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    size_t nfound = 0;
    for (size_t i = 0; i < fs.n; ++i) {
        print_finding(i + 1, &fs.v[i]);
        nfound += fs.v[i].narrowed != 0;
    }
    static const char *const kinds[] = {"cell", "group", "household", "revision", "existence", "unmodelled"};
    printf("audit: %zu finding%s (", nfound, nfound == 1 ? "" : "s");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); ++k) {
        size_t n = 0;
        for (size_t i = 0; i < fs.n; ++i)
            n += fs.v[i].narrowed && strcmp(fs.v[i].kind, kinds[k]) == 0;
        printf("%s%s %zu", k ? ", " : "", kinds[k], n);
    }
    static const char *const onoff[4] = {"?", "off", "on", "mixed"};
    printf("); p = %g %%, attacker %s%s, noise %s, existence rule %s, %s; %zu district-months, %zu linear programs "
           "(%zu unknowns, %zu relations), %zu targets, %.1f s\n",
           opt.p_pct, opt.attacker == AUDIT_ATTACKER_JUSTIFIED ? "justified" : "plausible",
           opt.noise_factor != 1.0 ? " (noise x factor)" : "", onoff[cur.noise_on[0] + 2 * cur.noise_on[1]],
           onoff[cur.existence_on[0] + 2 * cur.existence_on[1]], prev.rel != NULL ? "two releases" : "one release", st.clusters,
           st.lps, st.vars, st.relations, st.targets, secs);
    if (st.calibrated_max > 1.0 && opt.attacker == AUDIT_ATTACKER_PLAUSIBLE)
        printf("audit: the plausible bounds contradicted the published values in some district-month (a cell holds a "
               "contribution above %g x its mean): bounds widened up to x%.3g there\n",
               opt.max_ratio, st.calibrated_max);
    else if (st.calibrated_max > 1.0)
        printf("audit: the published values contradicted the documented noise bounds in some district-month: bounds "
               "widened up to x%.3g there (the noise is larger than documented: a defect of the protection or of the "
               "documentation)\n",
               st.calibrated_max);
    if (json_path != NULL && write_json(json_path, &fs, &st, secs) < 0)
        goto done;
    exit_code = nfound > 0 ? AUDIT_EXIT_FINDINGS : CLI_EXIT_OK;
done:
    audit_findings_free(&fs);
    audit_release_free(cur.rel);
    audit_release_free(prev.rel);
    if (curl != NULL)
        curl_easy_cleanup(curl);
    curl_global_cleanup();
    return exit_code;
}
