/*
 * cli/audit — `klimaspejl audit`: plays the attacker against the published datasets from the public HTTP API only.
 * It downloads every modelled dataset (catalog, CSV downloads, emission factors, grid intensity), writes down the
 * relations between them, solves one linear program per district-month with the published noise bounds
 * (audit_fetch.c reads the release, audit_model.c holds it, audit_relations.c writes each district-month's linear
 * program, audit_attack.c attacks it, audit_lp.c wraps GLPK) and reports every hidden cell, group of fewer than k households and
 * single household's contribution it can narrow to within +/- p % (tau-Argus' p % rule). With --previous it also attacks the
 * difference between two consecutive releases. README.md "klimaspejl audit" states the attacker model and its assumptions.
 *
 * Exit status: 0 no findings, 1 findings, 2 errors (bad usage, unreachable server, malformed data).
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cli/audit_fetch.h"
#include "cli/audit_model.h"
#include "cli/cli.h"
#include "core/time.h"

#define AUDIT_EXIT_FINDINGS 1
#define AUDIT_EXIT_ERROR 2

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
                 "                   within P %% (\"target\" lines: how far the attacker reaches)\n"
                 "  Exit status: 0 no findings, 1 findings (printed), 2 errors.\n");
}

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

/* Reads one dataset of the catalog: its metadata (links, disclosure control) and, for a modelled household dataset,
 * its CSV download. Notes the grid and factor datasets in *have (bit 1 grid, bit 2 factors). Returns 0 or -1. */
/* ---------------------------------------------------------------------------------------------------------------- */
/* Options and the report */

typedef struct audit_args {
    const char *url, *save, *previous, *json_path;
    audit_options_t opt;
    int p_given;
} audit_args_t;

enum { OPT_TEXT, OPT_NUMBER, OPT_ATTACKER };

/* The options, each with a value: text kept as given, a number in [min, max) (above min when min_open), or the
 * attacker model; `given` (when not 0) is the offset of a flag set when the option appears. */
static const struct {
    const char *name;
    int kind;
    size_t offset, given;
    double min;
    int min_open;
    double max;
    const char *expected;
} options[] = {
    {"--url", OPT_TEXT, offsetof(audit_args_t, url), 0, 0, 0, 0, NULL},
    {"--save", OPT_TEXT, offsetof(audit_args_t, save), 0, 0, 0, 0, NULL},
    {"--previous", OPT_TEXT, offsetof(audit_args_t, previous), 0, 0, 0, 0, NULL},
    {"--json", OPT_TEXT, offsetof(audit_args_t, json_path), 0, 0, 0, 0, NULL},
    {"--p", OPT_NUMBER, offsetof(audit_args_t, opt.p_pct), offsetof(audit_args_t, p_given), 0, 1, 100,
     "a percentage above 0 and below 100"},
    {"--attacker", OPT_ATTACKER, offsetof(audit_args_t, opt.attacker), 0, 0, 0, 0, "justified or plausible"},
    {"--max-ratio", OPT_NUMBER, offsetof(audit_args_t, opt.max_ratio), 0, 1, 0, INFINITY, "a number of at least 1"},
    {"--noise-factor", OPT_NUMBER, offsetof(audit_args_t, opt.noise_factor), 0, 0, 0, INFINITY, "a number of at least 0"},
};

/* Reads one option's value into a; returns 0, or -1 after saying what was wrong (unknown options included). */
static int parse_option(audit_args_t *a, const char *o, const char *v)
{
    size_t i = 0, n = sizeof(options) / sizeof(options[0]);
    double x;
    while (i < n && strcmp(options[i].name, o) != 0)
        ++i;
    if (i == n) {
        fprintf(stderr, "audit: unknown option %s\n", o);
        audit_usage(stderr);
        return -1;
    }
    char *field = (char *)a + options[i].offset;
    if (options[i].kind == OPT_TEXT)
        *(const char **)field = v;
    else if (options[i].kind == OPT_ATTACKER && (strcmp(v, "justified") == 0 || strcmp(v, "plausible") == 0))
        *(audit_attacker_t *)field = strcmp(v, "justified") == 0 ? AUDIT_ATTACKER_JUSTIFIED : AUDIT_ATTACKER_PLAUSIBLE;
    else if (options[i].kind == OPT_NUMBER && parse_positive(v, &x) == 0 && x >= options[i].min &&
             !(options[i].min_open && x == options[i].min) && x < options[i].max)
        *(double *)field = x;
    else {
        fprintf(stderr, "audit: %s: expected %s\n", o, options[i].expected);
        return -1;
    }
    if (options[i].given != 0)
        *(int *)((char *)a + options[i].given) = 1;
    return 0;
}

/* Returns 1 on --help, 0 when the options are complete, -1 after saying what was wrong. */
static int parse_args(int argc, char **argv, audit_args_t *a)
{
    memset(a, 0, sizeof(*a));
    audit_options_init(&a->opt);
    for (int i = 1; i < argc; ++i) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0)
            return 1;
        if (strcmp(o, "--targets") == 0) {
            a->opt.all_targets = 1;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "audit: %s needs a value (or is unknown)\n", o);
            audit_usage(stderr);
            return -1;
        }
        ++i;
        if (parse_option(a, o, v) < 0)
            return -1;
    }
    if (a->url == NULL) {
        fprintf(stderr, "audit: --url is required\n");
        audit_usage(stderr);
        return -1;
    }
    if (a->save != NULL && mkdir(a->save, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "audit: --save: cannot create %s: %s\n", a->save, strerror(errno));
        return -1;
    }
    return 0;
}

/* Links the audit does not model, and personal datasets it does not know, are findings in themselves. */
static int add_unmodelled(const audit_loaded_t *cur, audit_findings_t *fs)
{
    for (size_t i = 0; i < cur->nissues + cur->nunmodelled; ++i) {
        audit_finding_t f = {0};
        f.narrowed = 1;
        snprintf(f.kind, sizeof(f.kind), "unmodelled");
        if (i < cur->nissues) {
            snprintf(f.dataset, sizeof(f.dataset), "%s", cur->issues[i].dataset);
            snprintf(f.key, sizeof(f.key), "derived_from=%s", cur->issues[i].source);
            snprintf(f.how, sizeof(f.how),
                     "the catalog links these datasets, but the audit models no relation between "
                     "them: an attacker's equations may be missing");
        } else {
            snprintf(f.dataset, sizeof(f.dataset), "%s", cur->unmodelled[i - cur->nissues]);
            snprintf(f.key, sizeof(f.key), "dataset");
            snprintf(f.how, sizeof(f.how), "a household dataset the audit does not model");
        }
        if (audit_findings_add(fs, &f) < 0)
            return -1;
    }
    return 0;
}

/* Prints every finding (and listed target) and the closing lines; returns the number of findings (narrowed). */
static size_t print_report(const audit_findings_t *fs, const audit_stats_t *st, const audit_options_t *opt,
                           const audit_loaded_t *cur, int two_releases, double secs)
{
    static const char *const kinds[] = {"cell", "group", "household", "revision", "existence", "unmodelled"};
    static const char *const onoff[4] = {"?", "off", "on", "mixed"};
    size_t nfound = 0;
    for (size_t i = 0; i < fs->n; ++i) {
        print_finding(i + 1, &fs->v[i]);
        nfound += fs->v[i].narrowed != 0;
    }
    printf("audit: %zu finding%s (", nfound, nfound == 1 ? "" : "s");
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); ++k) {
        size_t n = 0;
        for (size_t i = 0; i < fs->n; ++i)
            n += fs->v[i].narrowed && strcmp(fs->v[i].kind, kinds[k]) == 0;
        printf("%s%s %zu", k ? ", " : "", kinds[k], n);
    }
    printf("); p = %g %%, attacker %s%s, noise %s, existence rule %s, %s; %zu district-months, %zu linear programs "
           "(%zu unknowns, %zu relations), %zu targets, %.1f s\n",
           opt->p_pct, opt->attacker == AUDIT_ATTACKER_JUSTIFIED ? "justified" : "plausible",
           opt->noise_factor != 1.0 ? " (noise x factor)" : "", onoff[cur->noise_on[0] + 2 * cur->noise_on[1]],
           onoff[cur->existence_on[0] + 2 * cur->existence_on[1]], two_releases ? "two releases" : "one release", st->clusters,
           st->lps, st->vars, st->relations, st->targets, secs);
    if (st->calibrated_max > 1.0 && opt->attacker == AUDIT_ATTACKER_PLAUSIBLE)
        printf("audit: the plausible bounds contradicted the published values in some district-month (a cell holds a "
               "contribution above %g x its mean): bounds widened up to x%.3g there\n",
               opt->max_ratio, st->calibrated_max);
    else if (st->calibrated_max > 1.0)
        printf("audit: the published values contradicted the documented noise bounds in some district-month: bounds "
               "widened up to x%.3g there (the noise is larger than documented: a defect of the protection or of the "
               "documentation)\n",
               st->calibrated_max);
    return nfound;
}

int cli_audit_main(int argc, char **argv)
{
    audit_args_t a;
    int parsed = parse_args(argc, argv, &a), exit_code = AUDIT_EXIT_ERROR;
    if (parsed != 0) {
        if (parsed == 1)
            audit_usage(stdout);
        return parsed == 1 ? CLI_EXIT_OK : AUDIT_EXIT_ERROR;
    }
    size_t ul = strlen(a.url);
    char base[1024], err[256];
    snprintf(base, sizeof(base), "%.*s", (int)(ul > 0 && a.url[ul - 1] == '/' ? ul - 1 : ul), a.url);
    double t0 = time_mono_s();
    audit_loaded_t cur = {0}, prev = {0};
    audit_findings_t fs = {0};
    audit_stats_t st;
    audit_source_t sp = {.load_dir = a.previous}, sc = {.base = base, .save_dir = a.save};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if ((sc.curl = curl_easy_init()) == NULL || (a.previous != NULL && audit_load_release(&sp, &prev) < 0) ||
        audit_load_release(&sc, &cur) < 0)
        goto done;
    if (!a.p_given && cur.p_pct > 0)
        a.opt.p_pct = cur.p_pct;
    if (add_unmodelled(&cur, &fs) < 0)
        goto done;
    if (audit_run(cur.rel, prev.rel, &a.opt, &fs, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "audit: %s\n", err);
        goto done;
    }
    double secs = time_mono_s() - t0;
    size_t nfound = print_report(&fs, &st, &a.opt, &cur, prev.rel != NULL, secs);
    if (a.json_path != NULL && write_json(a.json_path, &fs, &st, secs) < 0)
        goto done;
    exit_code = nfound > 0 ? AUDIT_EXIT_FINDINGS : CLI_EXIT_OK;
done:
    audit_findings_free(&fs);
    audit_release_free(cur.rel);
    audit_release_free(prev.rel);
    if (sc.curl != NULL)
        curl_easy_cleanup(sc.curl);
    curl_global_cleanup();
    return exit_code;
}
