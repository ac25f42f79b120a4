/*
 * audit_fetch — a release from the public API or a stored directory (see audit_fetch.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/audit_fetch.h"
#include "cli/csv.h"
#include "core/sbuf.h"
#include "core/strutil.h"

#define AUDIT_MAX_BODY (512u << 20) /* one download at most 512 MiB: the cap of every body buffer */

/* ---------------------------------------------------------------------------------------------------------------- */
/* Fetching: bodies are sbuf_t buffers born with the AUDIT_MAX_BODY cap */

static void body_reset(sbuf_t *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sbuf_t *b = ud;
    size_t n = size * nmemb;
    sbuf_append(b, ptr, n);
    return sbuf_failed(b) ? 0 : n;
}

/* The body as JSON (NULL with the reason in e when it is not). */
static json_t *body_json(const sbuf_t *b, json_error_t *e)
{
    return json_loadb(b->data != NULL ? b->data : "", b->len, 0, e);
}

/* Keeps the X-Dataset-Version header of a response in the source's version. */
static size_t header_line(char *buf, size_t size, size_t nitems, void *ud)
{
    audit_source_t *s = ud;
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
        str_fmt(s->version, sizeof(s->version), "%.*s", (int)l, v);
    }
    return n;
}

/* GETs base + path into out (the response's X-Dataset-Version into s->version). Returns 0, or -1 with a message on
 * stderr. */
static int fetch(audit_source_t *s, const char *path, sbuf_t *out)
{
    char url[2048];
    long status = 0;
    CURL *curl = s->curl;
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    body_reset(out);
    s->version[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_line);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "klimaspejl-audit/" KLIMA_VERSION);
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "audit: GET %s: %s\n", url, curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        fprintf(stderr, "audit: GET %s: HTTP %ld\n", url, status);
        return -1;
    }
    return 0;
}

static int save_file(const char *dir, const char *name, const sbuf_t *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(b->data != NULL ? b->data : "", 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "audit: cannot write %s: %s\n", path, strerror(errno));
        if (f != NULL)
            fclose(f);
        return -1;
    }
    return 0;
}

static int load_file(const char *dir, const char *name, sbuf_t *b)
{
    char path[1024], buf[65536];
    size_t n;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "audit: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    body_reset(b);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        sbuf_append(b, buf, n);
    fclose(f);
    return sbuf_failed(b) ? -1 : 0;
}

/* Gets one resource of the release: path on the server, name in a stored release. */
static int source_get(audit_source_t *s, const char *path, const char *name, sbuf_t *b)
{
    s->version[0] = '\0';
    if (s->load_dir != NULL)
        return load_file(s->load_dir, name, b);
    if (fetch(s, path, b) < 0)
        return -1;
    return s->save_dir != NULL ? save_file(s->save_dir, name, b) : 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* CSV: the download's rows, read with cli/csv (the reader of seed and ingest) */

typedef int (*csv_row_fn)(void *ud, size_t n, const char *const *names, const char *const *values);

/* Calls fn for every data row of the CSV in b (a header row first; blank lines skipped). Returns 0, or -1 with a
 * message on stderr. */
static int csv_each(const sbuf_t *b, const char *what, csv_row_fn fn, void *ud)
{
    cli_csv_t r;
    cli_csv_record_t *hdr = malloc(sizeof(*hdr)), *rec = malloc(sizeof(*rec));
    const char *names[CLI_CSV_MAX_FIELDS], *values[CLI_CSV_MAX_FIELDS], *why = "out of memory";
    size_t line = 1;
    int rc = -1, got = -1;

    cli_csv_memory(&r, b->data != NULL ? b->data : "", b->len);
    if (hdr != NULL && rec != NULL && (got = cli_csv_next(&r, hdr, &why)) == 1) {
        for (int i = 0; i < hdr->nf; ++i)
            names[i] = hdr->data + hdr->off[i];
        while ((got = cli_csv_next(&r, rec, &why)) == 1) {
            ++line;
            if (rec->nf == 1 && rec->len[0] == 0)
                continue;
            if (rec->nf != hdr->nf) {
                fprintf(stderr, "audit: %s:%zu: %d fields, the header has %d\n", what, line, rec->nf, hdr->nf);
                goto done;
            }
            for (int i = 0; i < rec->nf; ++i)
                values[i] = rec->data + rec->off[i];
            if (fn(ud, (size_t)rec->nf, names, values) < 0) {
                fprintf(stderr, "audit: %s:%zu: bad row\n", what, line);
                goto done;
            }
        }
    }
    if (got < 0)
        fprintf(stderr, "audit: %s:%zu: %s\n", what, line + 1, why);
    else
        rc = 0;
done:
    free(hdr);
    free(rec);
    return rc;
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
static void check_links(audit_loaded_t *L, const char *id, json_t *meta)
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
static json_t *get_metadata(audit_source_t *s, const char *path, const char *name, sbuf_t *b)
{
    for (int attempt = 0;; ++attempt) {
        json_error_t jerr;
        if (source_get(s, path, name, b) < 0)
            return NULL;
        json_t *meta = body_json(b, &jerr);
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

/* Reads one dataset of the catalog: its metadata (links, disclosure control, vocabularies) and, for a modelled
 * household dataset, its CSV download of the version the metadata describes. Notes the grid and factor datasets in
 * *have (bit 1 grid, bit 2 factors). Returns 0 or -1. */
static int load_dataset(audit_source_t *s, audit_loaded_t *L, const char *id, sbuf_t *b, int *have)
{
    char path[256], name[256], version[32];
    audit_dc_t dc;

    snprintf(path, sizeof(path), "/v1/datasets/%s?lang=en", id);
    snprintf(name, sizeof(name), "%s.meta.json", id);
    json_t *meta = get_metadata(s, path, name, b);
    if (meta == NULL)
        return -1;
    check_links(L, id, meta);
    int ds = audit_ds_index(id);
    int personal = json_is_true(json_object_get(meta, "personal"));
    parse_dc(meta, &dc, &L->p_pct);
    snprintf(version, sizeof(version), "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(meta, "version")));
    int rc = ds >= 0 ? add_domains(L->rel, ds, meta) : 0;
    json_decref(meta);
    if (rc < 0)
        return -1;
    if (strcmp(id, "grid-intensity-hourly") == 0)
        *have |= 1;
    if (strcmp(id, "emission-factors") == 0)
        *have |= 2;
    if (ds < 0) {
        if (personal && strcmp(id, "grid-intensity-hourly") != 0 && L->nunmodelled < 16)
            snprintf(L->unmodelled[L->nunmodelled++], sizeof(L->unmodelled[0]), "%s", id);
        return 0;
    }
    L->noise_on[dc.enabled != 0] = 1;
    L->existence_on[dc.existence != 0] = 1;
    audit_release_set_dc(L->rel, ds, &dc);
    snprintf(path, sizeof(path), "/v1/datasets/%s/download?format=csv", id);
    snprintf(name, sizeof(name), "%s.csv", id);
    if (source_get(s, path, name, b) < 0)
        return -1;
    /* the rows must be the version the metadata describes (a release in between would mix two) */
    if (s->version[0] != '\0' && strcmp(s->version, version) != 0) {
        fprintf(stderr,
                "audit: %s: the download is version %s, its metadata version %s: a release was published during the "
                "audit; run it again\n",
                id, s->version, version);
        return -1;
    }
    row_ctx_t ctx = {L->rel, ds};
    return csv_each(b, name, row_dataset, &ctx);
}

/* Reads the grid intensity download and the emission factors. Returns 0 or -1. */
static int load_grid_and_factors(audit_source_t *s, audit_loaded_t *L, sbuf_t *b)
{
    json_error_t jerr;
    size_t i;
    json_t *f;
    int rc = -1;

    if (source_get(s, "/v1/datasets/grid-intensity-hourly/download?format=csv", "grid-intensity-hourly.csv", b) < 0)
        return -1;
    row_ctx_t ctx = {L->rel, -1};
    if (csv_each(b, "grid-intensity-hourly.csv", row_grid, &ctx) < 0 ||
        source_get(s, "/v1/emission-factors?lang=en", "emission-factors.json", b) < 0)
        return -1;
    json_t *ef = body_json(b, &jerr);
    json_t *factors = json_object_get(ef, "factors");
    if (!json_is_array(factors)) {
        fprintf(stderr, "audit: /v1/emission-factors has no factors array\n");
        goto done;
    }
    json_array_foreach(factors, i, f)
    {
        const char *fid = json_string_value(json_object_get(f, "factor_id"));
        const char *unit = json_string_value(json_object_get(f, "unit"));
        json_t *v = json_object_get(f, "value");
        if (fid == NULL || unit == NULL || !json_is_number(v))
            continue;
        if (audit_release_add_factor(L->rel, fid, unit, json_number_value(v), json_string_value(json_object_get(f, "valid_from")),
                                     json_string_value(json_object_get(f, "valid_to"))) < 0)
            goto done;
    }
    rc = 0;
done:
    json_decref(ef);
    return rc;
}

int audit_load_release(audit_source_t *s, audit_loaded_t *L)
{
    sbuf_t b = SBUF_INIT(AUDIT_MAX_BODY);
    json_t *cat = NULL, *d;
    json_error_t jerr;
    size_t i;
    int rc = -1, have = 0;

    L->rel = audit_release_new();
    if (L->rel == NULL || source_get(s, "/v1/datasets?lang=en", "catalog.json", &b) < 0)
        goto done;
    cat = body_json(&b, &jerr);
    json_t *list = json_object_get(cat, "datasets");
    if (!json_is_array(list)) {
        fprintf(stderr, "audit: the catalog has no datasets array (%s)\n", jerr.text);
        goto done;
    }
    json_array_foreach(list, i, d)
    {
        const char *id = json_string_value(json_object_get(d, "id"));
        if (id != NULL && load_dataset(s, L, id, &b, &have) < 0)
            goto done;
    }
    if (have != 3) {
        fprintf(stderr, "audit: the catalog lacks %s\n", have & 1 ? "emission-factors" : "grid-intensity-hourly");
        goto done;
    }
    rc = load_grid_and_factors(s, L, &b);
done:
    json_decref(cat);
    sbuf_free(&b);
    return rc;
}
