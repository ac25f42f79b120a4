/*
 * cli/ingest_source — `klimaspejl ingest eds-co2 FILE [--dataset CO2Emis|CO2EmisProg]` and `klimaspejl ingest
 * eloverblik FILE --household ID`: one file of a real source, checked record by record (cli/source.c), applied in one
 * transaction by core.eds_load / core.eloverblik_load. The file is read whole (these exports are small: a month of
 * 5-minute points in both price areas is about 2 MB); its SHA-256 and modification time are its provenance.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/keyring.h"
#include "cli/cli.h"
#include "cli/ingest.h"
#include "cli/source.h"
#include "core/strutil.h"

#define SOURCE_FILE_MAX ((size_t)512 * 1024 * 1024)

static const char source_usage[] =
    "usage: klimaspejl ingest eds-co2 FILE [--dataset CO2Emis|CO2EmisProg]\n"
    "       klimaspejl ingest eloverblik FILE --household UUID\n"
    "eds-co2: Energi Data Service's CO2Emis (realised) or CO2EmisProg (forecast), as the API's JSON or the portal's CSV\n"
    "  download; the dataset comes from --dataset, else the JSON's \"dataset\", else the file name (CO2Emis*.json).\n"
    "eloverblik: Eloverblik's MyEnergyData_MarketDocument JSON (PT1H or PT15M) for the household's metering point.\n"
    "One transaction per file; errors as FILE: PATH: reason. Formats: sql/README.md, \"Loading real data\".\n";

/* Reads path ("-": standard input) into a NUL-terminated buffer. Returns it (the caller frees), or NULL after printing
 * why. *mtime is the file's modification time (now for standard input). */
static char *read_all(const char *path, size_t *len, time_t *mtime)
{
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    size_t cap = 1 << 16, n = 0;
    char *buf = NULL;

    if (fd < 0) {
        fprintf(stderr, "klimaspejl ingest: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    *mtime = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? st.st_mtime : time(NULL);
    for (;;) {
        if (n + 1 >= cap || buf == NULL) {
            char *nb = cap > SOURCE_FILE_MAX ? NULL : realloc(buf, cap *= 2);
            if (nb == NULL) {
                fprintf(stderr, "klimaspejl ingest: %s: larger than %zu MB or out of memory\n", path, SOURCE_FILE_MAX >> 20);
                goto fail;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, "klimaspejl ingest: %s: %s\n", path, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    if (fd != STDIN_FILENO)
        close(fd);
    return buf;
fail:
    if (fd != STDIN_FILENO)
        close(fd);
    free(buf);
    return NULL;
}

/* Parses a JSON document; prints FILE: line L, column C: reason on failure. */
static json_t *parse_json(const char *path, const char *data, size_t len)
{
    json_error_t err;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (doc == NULL)
        fprintf(stderr, "%s: line %d, column %d: %s\n", path, err.line, err.column, err.text);
    return doc;
}

static const char *skip_bom_space(const char *s)
{
    if (strncmp(s, "\xef\xbb\xbf", 3) == 0)
        s += 3;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        ++s;
    return s;
}

/* The option value after name in argv[2..], or NULL; -1 in *bad for an unknown option. */
static const char *option(int argc, char **argv, const char *name, const char *other, int *bad)
{
    const char *v = NULL;
    for (int i = 2; i < argc; ++i) {
        if (strcmp(argv[i], name) == 0 && i + 1 < argc)
            v = argv[++i];
        else if (other != NULL && strcmp(argv[i], other) == 0 && i + 1 < argc)
            ++i;
        else
            *bad = 1;
    }
    return v;
}

/* Stages the EDS file and names its dataset. Returns 0, -1 after printing, or -2 (usage). */
static int stage_eds(cli_source_load_t *l, const char *path, const char *data, size_t len, const char *given, const char **dataset,
                     size_t *records)
{
    const char *base = strrchr(path, '/');
    base = base != NULL ? base + 1 : path;
    *dataset = given != NULL ? cli_eds_dataset_named(given) : NULL;
    if (given != NULL && (*dataset == NULL || strlen(given) != strlen(*dataset)))
        return -2;
    if (*skip_bom_space(data) == '{') {
        json_t *doc = parse_json(path, data, len);
        if (doc == NULL)
            return -1;
        if (*dataset == NULL)
            *dataset = cli_eds_dataset_named(json_string_value(json_object_get(doc, "dataset")));
        if (*dataset == NULL)
            *dataset = cli_eds_dataset_named(base);
        int rc = *dataset == NULL ? -2 : cli_eds_stage_json(l, doc, "", records);
        json_decref(doc);
        return rc;
    }
    if (*dataset == NULL)
        *dataset = cli_eds_dataset_named(base);
    return *dataset == NULL ? -2 : cli_eds_stage_csv(l, data, len, records);
}

/* The summary line: the load function's row is (batch, points or hours, hours or skipped hours, new batch). */
static void report(const char *kind, const char *path, const char *dataset, size_t records, char *row)
{
    char *f[4] = {row, "", "", "f"};
    for (int i = 1; i < 4; ++i) {
        char *tab = strchr(f[i - 1], '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        f[i] = tab + 1;
    }
    const char *again = strcmp(f[3], "t") == 0 ? "" : " (these bytes were loaded before: nothing changed)";
    if (dataset != NULL)
        printf("ingest %s: %s: %s, %zu records, %s points, %s hours, batch %s%s\n", kind, path, dataset, records, f[1], f[2], f[0],
               again);
    else
        printf("ingest %s: %s: %zu points, %s hours, %s incomplete hours skipped, batch %s%s\n", kind, path, records, f[1], f[2],
               f[0], again);
}

int cli_ingest_source_main(int argc, char **argv)
{
    cli_source_load_t l = {0};
    const char *kind = argv[0], *path = argc > 1 ? argv[1] : NULL, *dataset = NULL, *household = NULL;
    char *data = NULL, sha[65], fetched[32], url[160], summary[256];
    unsigned char md[32];
    size_t len = 0, records = 0;
    time_t mtime;
    int bad = 0, eds = strcmp(kind, "eds-co2") == 0, rc = CLI_EXIT_FAIL, st;
    uint8_t uuid[16];

    if (eds)
        dataset = option(argc, argv, "--dataset", NULL, &bad);
    else
        household = option(argc, argv, "--household", NULL, &bad);
    if (path == NULL || bad || (!eds && (household == NULL || ingest_parse_uuid(household, strlen(household), uuid) != 0))) {
        fprintf(stderr, "klimaspejl ingest %s: %s\n%s", kind,
                path == NULL ? "expected FILE"
                : !eds       ? "expected --household UUID"
                             : "unknown option",
                source_usage);
        return CLI_EXIT_USAGE;
    }
    if ((data = read_all(path, &len, &mtime)) == NULL)
        return CLI_EXIT_FAIL;
    auth_sha256(data, len, md);
    str_hex(md, 32, sha);
    strftime(fetched, sizeof fetched, "%Y-%m-%dT%H:%M:%SZ", gmtime(&mtime));
    if (cli_source_begin(&l, eds ? "eds" : "eloverblik") != 0) {
        fprintf(stderr, "klimaspejl ingest: %s", l.why);
        goto out;
    }
    if (eds) {
        st = stage_eds(&l, path, data, len, dataset, &dataset, &records);
        if (st == -2) {
            fprintf(stderr, "klimaspejl ingest eds-co2: %s: name the dataset with --dataset CO2Emis or CO2EmisProg\n%s", path,
                    source_usage);
            rc = CLI_EXIT_USAGE;
            goto out;
        }
        str_fmt(url, sizeof url, "https://api.energidataservice.dk/dataset/%s", dataset);
        const char *params[] = {dataset, path, sha, fetched, url};
        if (st != 0 || cli_source_finish(&l, "SELECT batch_id, points, hours, new_batch FROM core.eds_load($1, $2, $3, $4, $5)", 5,
                                         params, summary, sizeof summary) != 0)
            goto failed;
    } else {
        json_t *doc = *skip_bom_space(data) == '{' ? parse_json(path, data, len) : NULL;
        if (doc == NULL) {
            if (*skip_bom_space(data) != '{')
                fprintf(stderr, "%s: $: expected a JSON object (Eloverblik's MyEnergyData answer)\n", path);
            goto out;
        }
        st = cli_eloverblik_stage_json(&l, doc, &records);
        json_decref(doc);
        const char *params[] = {household, path, sha, fetched};
        if (st != 0 || cli_source_finish(&l, "SELECT * FROM core.eloverblik_load($1::uuid, $2, $3, $4)", 4, params, summary,
                                         sizeof summary) != 0)
            goto failed;
    }
    report(kind, path, dataset, records, summary);
    rc = CLI_EXIT_OK;
    goto out;
failed:
    if (l.path[0] != '\0')
        fprintf(stderr, "%s: %s: %s\n", path, l.path, l.why);
    else
        fprintf(stderr, "%s: %s%s", path, l.why, l.why[0] != '\0' && l.why[strlen(l.why) - 1] == '\n' ? "" : "\n");
out:
    cli_source_end(&l);
    free(data);
    return rc;
}
