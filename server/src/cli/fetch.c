/*
 * cli/fetch — `klimaspejl fetch eds --from DATE --to DATE`: fetches Energi Data Service's CO2Emis and CO2EmisProg for
 * the Copenhagen local days [from, to) over HTTPS with libcurl and ingests each as one batch (cli/source.c, then
 * core.eds_load): exactly what `ingest eds-co2` does with the same records in a file.
 *
 * Paging follows the API guide: `offset` and `limit`, the answer's `total` says how many records match; the pages are
 * requested until offset reaches total. A 429 (rate limit) or 503 is retried after its Retry-After seconds (at most
 * 120 s, 6 tries a page); other statuses and network errors stop the fetch. The base URL is KLIMA_EDS_URL (default
 * https://api.energidataservice.dk) so tests use a fake service on loopback; curl verifies the certificate as usual.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/keyring.h"
#include "cli/cli.h"
#include "cli/source.h"
#include "core/sbuf.h"
#include "core/strutil.h"
#include "core/time.h"

#define FETCH_RETRY_MAX_S 120
#define FETCH_TRIES 6

static const char fetch_usage[] =
    "usage: klimaspejl fetch eds --from YYYY-MM-DD --to YYYY-MM-DD [--page-size N]\n"
    "Fetches Energi Data Service's CO2Emis (realised) and CO2EmisProg (forecast) for the Copenhagen local days\n"
    "[from, to) and ingests them (as `klimaspejl ingest eds-co2`). KLIMA_EDS_URL sets the service's base URL\n"
    "(default https://api.energidataservice.dk). Honours 429/503 Retry-After. Connects with KLIMA_DB_ADMIN_URL.\n";

typedef struct fetch_page {
    sbuf_t body;
    long retry_after; /* seconds, -1 when absent */
} fetch_page_t;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    fetch_page_t *p = ud;
    sbuf_append(&p->body, ptr, size * nmemb);
    return sbuf_failed(&p->body) ? 0 : size * nmemb;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    fetch_page_t *p = ud;
    size_t n = size * nmemb;
    uint64_t v;
    if (n > 12 && strncasecmp(ptr, "retry-after:", 12) == 0) {
        size_t i = 12, j;
        while (i < n && ptr[i] == ' ')
            ++i;
        for (j = i; j < n && ptr[j] >= '0' && ptr[j] <= '9'; ++j)
            ;
        if (j > i && str_to_uint(ptr + i, j - i, 0, 86400, &v) == 0)
            p->retry_after = (long)v;
    }
    return n;
}

/* GETs url into p, retrying 429 and 503 after Retry-After. Returns 0, or -1 after printing why. */
static int get_page(CURL *curl, const char *url, fetch_page_t *p, int *waited)
{
    for (int attempt = 1;; ++attempt) {
        long status = 0;
        sbuf_free(&p->body);
        p->body = SBUF_INIT(SBUF_CAP_BODY);
        p->retry_after = -1;
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, p);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, p);
        CURLcode rc = curl_easy_perform(curl);
        if (rc != CURLE_OK) {
            fprintf(stderr, "klimaspejl fetch: GET %s: %s\n", url, curl_easy_strerror(rc));
            return -1;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200)
            return 0;
        if ((status != 429 && status != 503) || attempt == FETCH_TRIES) {
            fprintf(stderr, "klimaspejl fetch: GET %s: HTTP %ld%s\n", url, status, attempt == FETCH_TRIES ? " (gave up)" : "");
            return -1;
        }
        long wait = p->retry_after >= 0 ? p->retry_after : attempt * 2L;
        if (wait > FETCH_RETRY_MAX_S)
            wait = FETCH_RETRY_MAX_S;
        fprintf(stderr, "klimaspejl fetch: HTTP %ld, retrying in %ld s (Retry-After)\n", status, wait);
        ++*waited;
        sleep((unsigned)wait);
    }
}

/* Fetches every page of dataset for [from, to) and stages its records; the bodies' SHA-256 is the batch's. */
static int fetch_dataset(CURL *curl, const char *base, const char *dataset, const char *from, const char *to, unsigned limit)
{
    cli_source_load_t l = {0};
    fetch_page_t page = {SBUF_INIT(SBUF_CAP_BODY), -1};
    sbuf_t all = SBUF_INIT(SBUF_CAP_BODY);
    char url[1024], first_url[1024], prefix[96], sha[65], fetched[32], summary[256];
    unsigned char md[32];
    size_t offset = 0, total = 0, records = 0, pages = 0;
    int rc = -1, waited = 0;
    time_t now = time(NULL);

    strftime(fetched, sizeof fetched, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (cli_source_begin(&l, "eds") != 0) {
        fprintf(stderr, "klimaspejl fetch: %s", l.why);
        goto out;
    }
    str_fmt(first_url, sizeof first_url, "%s/dataset/%s?start=%s&end=%s", base, dataset, from, to);
    do {
        json_error_t jerr;
        json_t *doc, *t;
        size_t got = 0;
        str_fmt(url, sizeof url, "%s&offset=%zu&limit=%u", first_url, offset, limit);
        if (get_page(curl, url, &page, &waited) != 0)
            goto out;
        sbuf_append(&all, page.body.data != NULL ? page.body.data : "", page.body.len);
        if ((doc = json_loadb(page.body.data != NULL ? page.body.data : "", page.body.len, 0, &jerr)) == NULL) {
            fprintf(stderr, "%s: line %d, column %d: %s\n", url, jerr.line, jerr.column, jerr.text);
            goto out;
        }
        t = json_object_get(doc, "total");
        total = json_is_integer(t) && json_integer_value(t) >= 0 ? (size_t)json_integer_value(t) : 0;
        str_fmt(prefix, sizeof prefix, "offset %zu: ", offset);
        if (!json_is_integer(t)) {
            json_decref(doc);
            fprintf(stderr, "%s: $.total: expected the number of matching records\n", url);
            goto out;
        }
        int st = cli_eds_stage_json(&l, doc, prefix, &got);
        size_t n = json_array_size(json_object_get(doc, "records"));
        json_decref(doc);
        if (st != 0) {
            fprintf(stderr, "%s: %s: %s\n", url, l.path, l.why);
            goto out;
        }
        records += got;
        offset += n;
        ++pages;
        if (n == 0)
            break; /* the service has fewer than it said: stop rather than loop */
    } while (offset < total);
    if (sbuf_failed(&all)) {
        fprintf(stderr, "klimaspejl fetch: %s: larger than %d MB\n", dataset, SBUF_CAP_BODY >> 20);
        goto out;
    }
    if (records == 0) {
        printf("fetch eds: %s: no records for %s..%s\n", dataset, from, to);
        rc = 0;
        goto out;
    }
    auth_sha256(all.data, all.len, md);
    str_hex(md, 32, sha);
    const char *params[] = {dataset, first_url, sha, fetched, first_url};
    if (cli_source_finish(&l, "SELECT batch_id, points, hours, new_batch FROM core.eds_load($1, $2, $3, $4, $5)", 5, params,
                          summary, sizeof summary) != 0) {
        fprintf(stderr, "%s: %s%s%s\n", first_url, l.path, l.path[0] != '\0' ? ": " : "", l.why);
        goto out;
    }
    for (char *p = summary; *p != '\0'; ++p)
        if (*p == '\t')
            *p = ' ';
    printf("fetch eds: %s: %zu records in %zu pages (%d retries after 429/503); batch points hours new: %s\n", dataset, records,
           pages, waited, summary);
    rc = 0;
out:
    cli_source_end(&l);
    sbuf_free(&page.body);
    sbuf_free(&all);
    return rc;
}

int cli_fetch_main(int argc, char **argv)
{
    const char *from = NULL, *to = NULL, *base = getenv("KLIMA_EDS_URL");
    uint64_t limit = 2000;
    int64_t d0, d1;
    CURL *curl;
    int rc = CLI_EXIT_FAIL;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(fetch_usage, stdout);
        return CLI_EXIT_OK;
    }
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--from") == 0)
            from = argv[i + 1];
        else if (strcmp(argv[i], "--to") == 0)
            to = argv[i + 1];
        else if (strcmp(argv[i], "--page-size") != 0 || str_to_uint(argv[i + 1], strlen(argv[i + 1]), 1, 100000, &limit) != 0)
            from = NULL;
    }
    if (argc < 2 || strcmp(argv[1], "eds") != 0 || argc % 2 != 0 || from == NULL || to == NULL ||
        time_date_parse(from, strlen(from), 2000, &d0) != 0 || time_date_parse(to, strlen(to), 2000, &d1) != 0 || d1 <= d0) {
        fprintf(stderr, "klimaspejl fetch: expected eds --from DATE --to DATE (DATE as YYYY-MM-DD, to after from)\n%s",
                fetch_usage);
        return CLI_EXIT_USAGE;
    }
    if (base == NULL || *base == '\0')
        base = "https://api.energidataservice.dk";
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || (curl = curl_easy_init()) == NULL) {
        fputs("klimaspejl fetch: cannot initialise libcurl\n", stderr);
        return CLI_EXIT_FAIL;
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "klimaspejl-fetch/" KLIMA_VERSION);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
    if (fetch_dataset(curl, base, "CO2Emis", from, to, (unsigned)limit) == 0 &&
        fetch_dataset(curl, base, "CO2EmisProg", from, to, (unsigned)limit) == 0)
        rc = CLI_EXIT_OK;
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc;
}
