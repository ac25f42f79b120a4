/*
 * audit_model — a release of the published datasets as the audit reads it: the modelled datasets, their rows as cells
 * of district-month clusters, grid intensities, emission factors, the findings list, and the completion of the key
 * spaces under the existence rule (see audit_model.h, cli/audit_cluster.h and README.md "klimaspejl audit"). The
 * model of a cluster is cli/audit_relations.c, the attack cli/audit_attack.c.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/audit_cluster.h"
#include "core/strutil.h"
#include "cli/audit_model.h"

const ds_def_t audit_ds_defs[AUDIT_NDS] = {
    {"energy-district-hourly", "hour_utc", NULL, "hour_dk", 3, {"electricity_wh", "heat_wh", "water_l"}, "day"},
    {"energy-district-daily", "day", NULL, "day", 3, {"electricity_kwh", "heat_kwh", "water_l"}, NULL},
    {"energy-peergroup-monthly",
     "dwelling_type",
     "occupant_band",
     "month",
     3,
     {"electricity_kwh", "heat_kwh", "water_l"},
     "district-month"},
    {"waste-district-monthly", "fraction", NULL, "month", 1, {"kg"}, "district-month"},
    {"mobility-district-monthly", "mode", NULL, "month", 2, {"trips", "km"}, "district-month"},
    {"footprint-district-monthly", "category", NULL, "month", 1, {"co2e_kg"}, "total"},
};

/* The links of the catalog's derived_from that the relations below model (either direction). */
static const char *const LINKS[][2] = {
    {"energy-district-daily", "energy-district-hourly"},
    {"energy-peergroup-monthly", "energy-district-daily"},
    {"energy-peergroup-monthly", "energy-district-hourly"},
    {"footprint-district-monthly", "energy-district-hourly"},
    {"footprint-district-monthly", "energy-district-daily"},
    {"footprint-district-monthly", "energy-peergroup-monthly"},
    {"footprint-district-monthly", "grid-intensity-hourly"},
    {"footprint-district-monthly", "emission-factors"},
    {"footprint-district-monthly", "waste-district-monthly"},
    {"footprint-district-monthly", "mobility-district-monthly"},
    {"waste-district-monthly", "emission-factors"},
    {"mobility-district-monthly", "emission-factors"},
    {"energy-district-hourly", "grid-intensity-hourly"},
    /* two datasets without household data: nothing of a household to solve for */
    {"grid-intensity-forecast", "grid-intensity-hourly"},
};

int audit_ds_index(const char *id)
{
    for (int i = 0; i < AUDIT_NDS; ++i)
        if (strcmp(audit_ds_defs[i].id, id) == 0)
            return i;
    return -1;
}

const char *audit_ds_id(int ds)
{
    return ds >= 0 && ds < AUDIT_NDS ? audit_ds_defs[ds].id : "?";
}

int audit_link_modelled(const char *dataset, const char *source)
{
    if (strcmp(dataset, source) == 0)
        return 1;
    for (size_t i = 0; i < sizeof(LINKS) / sizeof(LINKS[0]); ++i)
        if ((strcmp(LINKS[i][0], dataset) == 0 && strcmp(LINKS[i][1], source) == 0) ||
            (strcmp(LINKS[i][1], dataset) == 0 && strcmp(LINKS[i][0], source) == 0))
            return 1;
    return 0;
}

void audit_options_init(audit_options_t *o)
{
    o->p_pct = 15.0;
    o->attacker = AUDIT_ATTACKER_JUSTIFIED;
    o->max_ratio = 3.0;
    o->noise_factor = 1.0;
    o->k_default = 10;
}

audit_release_t *audit_release_new(void)
{
    audit_release_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    for (int i = 0; i < AUDIT_NDS; ++i)
        r->dc[i].k = 10;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(r->today, sizeof(r->today), "%Y-%m-%d", &tm);
    return r;
}

void audit_release_free(audit_release_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ncl; ++i)
        for (int d = 0; d < AUDIT_NDS; ++d)
            free(r->cl[i].t[d].c);
    free(r->cl);
    free(r->grid);
    free(r->f);
    free(r);
}

void audit_release_set_dc(audit_release_t *r, int ds, const audit_dc_t *dc)
{
    if (ds >= 0 && ds < AUDIT_NDS)
        r->dc[ds] = *dc;
}

/* Makes room for one more element in the array *arr of *n elements of size elem (capacity *cap, doubling from
 * first). Returns 0, or -1 on allocation failure (the array is kept). */
int audit_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
{
    void **a = arr;
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : first;
    void *x = realloc(*a, c * elem);
    if (x == NULL)
        return -1;
    *a = x;
    *cap = c;
    return 0;
}

cluster_t *audit_cluster_get(audit_release_t *r, int district, const char *month, int create)
{
    if (r->last < r->ncl && r->cl[r->last].district == district && strcmp(r->cl[r->last].month, month) == 0)
        return &r->cl[r->last];
    for (size_t i = 0; i < r->ncl; ++i)
        if (r->cl[i].district == district && strcmp(r->cl[i].month, month) == 0) {
            r->last = i;
            return &r->cl[i];
        }
    if (!create)
        return NULL;
    if (audit_grow(&r->cl, r->ncl, &r->capcl, sizeof(*r->cl), 64) < 0)
        return NULL;
    cluster_t *c = &r->cl[r->ncl];
    memset(c, 0, sizeof(*c));
    c->district = district;
    str_fmt(c->month, sizeof(c->month), "%s", month);
    r->last = r->ncl++;
    return c;
}

static cell_t *table_add(table_t *t)
{
    if (audit_grow(&t->c, t->n, &t->cap, sizeof(*t->c), 32) < 0)
        return NULL;
    cell_t *c = &t->c[t->n++];
    memset(c, 0, sizeof(*c));
    for (int m = 0; m < MAXM; ++m)
        c->var[m] = -1;
    c->nvar = -1;
    return c;
}

cell_t *audit_table_find(table_t *t, const char *sub)
{
    for (size_t i = 0; i < t->n; ++i)
        if (strcmp(t->c[i].sub, sub) == 0)
            return &t->c[i];
    return NULL;
}

/* Half a unit of the last printed digit of a decimal number, plus a relative 1e-7 for binary floating point. */
static double print_tolerance(const char *s, double v)
{
    const char *dot = strchr(s, '.');
    int decimals = 0;
    if (dot != NULL)
        for (const char *p = dot + 1; isdigit((unsigned char)*p); ++p)
            ++decimals;
    if (strchr(s, 'e') != NULL || strchr(s, 'E') != NULL)
        return 1e-7 * fabs(v) + 1e-9;
    return 0.5 * pow(10.0, -decimals) + 1e-7 * fabs(v);
}

static int parse_double(const char *s, double *out)
{
    if (s == NULL || *s == '\0')
        return 0;
    char *end;
    double v = strtod(s, &end);
    if (*end != '\0' || !isfinite(v))
        return -1;
    *out = v;
    return 1;
}

static const char *col(size_t n, const char *const *names, const char *const *values, const char *name)
{
    for (size_t i = 0; i < n; ++i)
        if (strcmp(names[i], name) == 0)
            return values[i] != NULL ? values[i] : "";
    return NULL;
}

int audit_release_add_row(audit_release_t *r, int ds, size_t ncols, const char *const *names, const char *const *values, char *err,
                          size_t errlen)
{
    const ds_def_t *d = &audit_ds_defs[ds];
    const char *district = col(ncols, names, values, "district_id");
    const char *sub = col(ncols, names, values, d->sub_col);
    const char *sub2 = d->sub_col2 != NULL ? col(ncols, names, values, d->sub_col2) : "";
    const char *tcol = col(ncols, names, values, d->time_col);
    const char *supp = col(ncols, names, values, "suppressed");
    const char *n = col(ncols, names, values, "n_households");
    if (district == NULL || sub == NULL || sub2 == NULL || tcol == NULL || strlen(tcol) < 10) {
        snprintf(err, errlen, "%s: a row lacks district_id, %s or %s", d->id, d->sub_col, d->time_col);
        return -1;
    }
    char month[8];
    str_fmt(month, sizeof(month), "%s", tcol);
    cluster_t *c = audit_cluster_get(r, (int)strtol(district, NULL, 10), month, 1);
    cell_t *x = c != NULL ? table_add(&c->t[ds]) : NULL;
    if (x == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (d->sub_col2 != NULL)
        snprintf(x->sub, sizeof(x->sub), "%s|%s", sub, sub2);
    else
        str_fmt(x->sub, sizeof(x->sub), "%s", sub);
    str_fmt(x->day, sizeof(x->day), "%s", tcol);
    x->listed = 1;
    x->suppressed = supp != NULL && (strcmp(supp, "true") == 0 || strcmp(supp, "t") == 0);
    double v;
    int rc = parse_double(n, &v);
    if (rc < 0) {
        snprintf(err, errlen, "%s: n_households '%s' is not a number", d->id, n);
        return -1;
    }
    if (rc > 0) {
        x->has_n = 1;
        x->n = v;
    }
    for (int m = 0; m < d->nm; ++m) {
        const char *s = col(ncols, names, values, d->m[m]);
        if (s == NULL) {
            snprintf(err, errlen, "%s: column %s is missing", d->id, d->m[m]);
            return -1;
        }
        rc = parse_double(s, &v);
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s '%s' is not a number", d->id, d->m[m], s);
            return -1;
        }
        if (rc > 0) {
            x->has_v[m] = 1;
            x->v[m] = v;
            x->tol[m] = print_tolerance(s, v);
        }
    }
    /* a row with every measure NULL is hidden even when the flag is missing */
    int any = 0;
    for (int m = 0; m < d->nm; ++m)
        any |= x->has_v[m];
    if (!any)
        x->suppressed = 1;
    return 0;
}

int audit_release_add_grid(audit_release_t *r, const char *hour_utc, double g)
{
    if (audit_grow(&r->grid, r->ngrid, &r->capgrid, sizeof(*r->grid), 1024) < 0)
        return -1;
    str_fmt(r->grid[r->ngrid].hour, sizeof(r->grid[0].hour), "%s", hour_utc);
    r->grid[r->ngrid++].g = g;
    r->grid_sorted = 0;
    return 0;
}

int audit_release_add_factor(audit_release_t *r, const char *id, const char *unit, double value, const char *valid_from,
                             const char *valid_to)
{
    if (audit_grow(&r->f, r->nf, &r->capf, sizeof(*r->f), 64) < 0)
        return -1;
    factor_t *f = &r->f[r->nf++];
    str_fmt(f->id, sizeof(f->id), "%s", id);
    str_fmt(f->unit, sizeof(f->unit), "%s", unit);
    str_fmt(f->from, sizeof(f->from), "%s", valid_from != NULL ? valid_from : "");
    str_fmt(f->to, sizeof(f->to), "%s", valid_to != NULL ? valid_to : "");
    f->value = value;
    return 0;
}

static int grid_cmp(const void *a, const void *b)
{
    return strcmp(((const grid_hour_t *)a)->hour, ((const grid_hour_t *)b)->hour);
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Findings */

int audit_findings_add(audit_findings_t *f, const audit_finding_t *x)
{
    if (audit_grow(&f->v, f->n, &f->cap, sizeof(*f->v), 64) < 0)
        return -1;
    f->v[f->n++] = *x;
    return 0;
}

void audit_findings_free(audit_findings_t *f)
{
    free(f->v);
    f->v = NULL;
    f->n = f->cap = 0;
}

cell_t *audit_fp_cell(cluster_t *c, const char *category)
{
    return audit_table_find(&c->t[AUDIT_DS_FOOTPRINT], category);
}

double audit_grid_g(audit_release_t *r, const char *hour, double fallback)
{
    grid_hour_t key;
    str_fmt(key.hour, sizeof(key.hour), "%s", hour);
    grid_hour_t *g = r->ngrid ? bsearch(&key, r->grid, r->ngrid, sizeof(key), grid_cmp) : NULL;
    return g != NULL ? g->g : fallback;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Existence rule: rows that a protected release does not list are unknowns, not zeros */

static int add_missing(audit_release_t *r, int ds, const char *const *subs, size_t nsubs, const char *const *days,
                       const cluster_t *only)
{
    for (size_t ci = 0; ci < r->ncl; ++ci) {
        cluster_t *c = &r->cl[ci];
        if (only != NULL && c != only)
            continue;
        for (size_t i = 0; i < nsubs; ++i) {
            if (days != NULL && strncmp(days[i], c->month, 7) != 0)
                continue;
            if (audit_table_find(&c->t[ds], subs[i]) != NULL)
                continue;
            if (ds == AUDIT_DS_HOURLY && audit_table_find(&c->t[AUDIT_DS_DAILY], days[i]) == NULL)
                continue;
            cell_t *x = table_add(&c->t[ds]);
            if (x == NULL)
                return -1;
            str_fmt(x->sub, sizeof(x->sub), "%s", subs[i]);
            str_fmt(x->day, sizeof(x->day), "%s", days != NULL ? days[i] : subs[i]);
            x->listed = 0;
        }
    }
    return 0;
}

/* Under an enabled disclosure control a key combination held by fewer than k households is not listed: add every
 * combination seen anywhere in the release (same dataset, any district) that a cluster lacks, as an unknown with
 * fewer than k households. */
static int complete_key_spaces(audit_release_t *r)
{
    for (int ds = 0; ds < AUDIT_NDS; ++ds) {
        if (!r->dc[ds].enabled)
            continue;
        size_t cap = 0;
        for (size_t ci = 0; ci < r->ncl; ++ci)
            cap += r->cl[ci].t[ds].n;
        const char **subs = malloc((cap ? cap : 1) * sizeof(*subs));
        const char **days = malloc((cap ? cap : 1) * sizeof(*days));
        char(*sub_copy)[48] = malloc((cap ? cap : 1) * sizeof(*sub_copy));
        char(*day_copy)[11] = malloc((cap ? cap : 1) * sizeof(*day_copy));
        if (subs == NULL || days == NULL || sub_copy == NULL || day_copy == NULL) {
            free(subs);
            free(days);
            free(sub_copy);
            free(day_copy);
            return -1;
        }
        size_t n = 0;
        for (size_t ci = 0; ci < r->ncl; ++ci)
            for (size_t i = 0; i < r->cl[ci].t[ds].n; ++i) {
                const cell_t *x = &r->cl[ci].t[ds].c[i];
                int dup = 0;
                for (size_t j = 0; j < n && !dup; ++j)
                    dup = strcmp(sub_copy[j], x->sub) == 0;
                if (dup)
                    continue;
                str_fmt(sub_copy[n], sizeof(sub_copy[n]), "%s", x->sub);
                str_fmt(day_copy[n], sizeof(day_copy[n]), "%s", x->day);
                ++n;
            }
        for (size_t j = 0; j < n; ++j) {
            subs[j] = sub_copy[j];
            days[j] = day_copy[j];
        }
        int rc = add_missing(r, ds, subs, n, ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY ? days : NULL, NULL);
        free(subs);
        free(days);
        free(sub_copy);
        free(day_copy);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int cell_cmp_hour(const void *a, const void *b)
{
    return strcmp(((const cell_t *)a)->sub, ((const cell_t *)b)->sub);
}

int audit_release_prepare(audit_release_t *r)
{
    if (!r->grid_sorted && r->ngrid > 0) {
        qsort(r->grid, r->ngrid, sizeof(*r->grid), grid_cmp);
        r->grid_sorted = 1;
    }
    if (complete_key_spaces(r) < 0)
        return -1;
    /* hours in time order, so the hours of a day are contiguous for the group pass */
    for (size_t ci = 0; ci < r->ncl; ++ci)
        if (r->cl[ci].t[AUDIT_DS_HOURLY].n > 0)
            qsort(r->cl[ci].t[AUDIT_DS_HOURLY].c, r->cl[ci].t[AUDIT_DS_HOURLY].n, sizeof(cell_t), cell_cmp_hour);
    return 0;
}
