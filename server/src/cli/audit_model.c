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

const char *audit_ds_key_column(int ds, int which)
{
    if (ds < 0 || ds >= AUDIT_NDS)
        return NULL;
    return which == 0 ? audit_ds_defs[ds].sub_col : which == 1 ? audit_ds_defs[ds].sub_col2 : NULL;
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
    o->all_targets = 0;
}

audit_release_t *audit_release_new(void)
{
    audit_release_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    for (int i = 0; i < AUDIT_NDS; ++i) {
        r->dc[i].k = 10;
        r->dc[i].existence = 1;
    }
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
    for (int d = 0; d < AUDIT_NDS; ++d)
        for (int w = 0; w < 2; ++w)
            free(r->dom[d][w].v);
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
    t->sorted = 0;
    cell_t *c = &t->c[t->n++];
    memset(c, 0, sizeof(*c));
    for (int m = 0; m < MAXM; ++m)
        c->var[m] = -1;
    c->nvar = -1;
    return c;
}

static int cell_cmp(const void *a, const void *b)
{
    return strcmp(((const cell_t *)a)->sub, ((const cell_t *)b)->sub);
}

cell_t *audit_table_find(table_t *t, const char *sub)
{
    if (t->sorted) {
        cell_t key;
        str_fmt(key.sub, sizeof(key.sub), "%s", sub);
        return t->n ? bsearch(&key, t->c, t->n, sizeof(key), cell_cmp) : NULL;
    }
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

int audit_release_add_grid(audit_release_t *r, const char *hour_utc, const char *hour_dk, double g)
{
    if (audit_grow(&r->grid, r->ngrid, &r->capgrid, sizeof(*r->grid), 1024) < 0)
        return -1;
    grid_hour_t *x = &r->grid[r->ngrid++];
    str_fmt(x->hour, sizeof(x->hour), "%s", hour_utc);
    str_fmt(x->day, sizeof(x->day), "%s", hour_dk != NULL && strlen(hour_dk) >= 10 ? hour_dk : "");
    x->g = g;
    r->grid_sorted = 0;
    return 0;
}

int audit_release_add_domain(audit_release_t *r, int ds, int which, const char *value)
{
    if (ds < 0 || ds >= AUDIT_NDS || which < 0 || which > 1)
        return -1;
    keylist_t *l = &r->dom[ds][which];
    if (audit_grow(&l->v, l->n, &l->cap, sizeof(*l->v), 16) < 0)
        return -1;
    str_fmt(l->v[l->n++], sizeof(l->v[0]), "%s", value);
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
/* Existence rule: rows that a release does not list are unknowns (fewer than k households), not zeros */

/* One possible key of a dataset's cells: the key and, for hours and days, the local day it belongs to. */
typedef struct key_entry {
    char sub[48];
    char day[11];
} key_entry_t;

typedef struct key_set {
    key_entry_t *v;
    size_t n, cap;
} key_set_t;

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const key_entry_t *)a)->sub, ((const key_entry_t *)b)->sub);
}

static int key_add(key_set_t *k, const char *sub, const char *day)
{
    if (audit_grow(&k->v, k->n, &k->cap, sizeof(*k->v), 64) < 0)
        return -1;
    str_fmt(k->v[k->n].sub, sizeof(k->v[0].sub), "%s", sub);
    str_fmt(k->v[k->n].day, sizeof(k->v[0].day), "%s", day);
    ++k->n;
    return 0;
}

/* Sorts the set and drops repeated keys. */
static void key_unique(key_set_t *k)
{
    if (k->n == 0)
        return;
    qsort(k->v, k->n, sizeof(*k->v), key_cmp);
    size_t w = 1;
    for (size_t i = 1; i < k->n; ++i)
        if (strcmp(k->v[i].sub, k->v[w - 1].sub) != 0)
            k->v[w++] = k->v[i];
    k->n = w;
}

/* The keys of the published vocabulary of ds (peer groups: every dwelling type with every occupant band); for hours
 * and days the grid's calendar (every hour of every local day, as hour_utc with its hour_dk; the local days). */
static int key_space_published(const audit_release_t *r, int ds, key_set_t *out)
{
    int timed = ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY;
    for (size_t i = 0; timed && i < r->ngrid; ++i)
        if (r->grid[i].day[0] != '\0' && key_add(out, ds == AUDIT_DS_HOURLY ? r->grid[i].hour : r->grid[i].day, r->grid[i].day) < 0)
            return -1;
    const keylist_t *a = &r->dom[ds][0], *b = &r->dom[ds][1];
    for (size_t i = 0; !timed && i < a->n; ++i) {
        if (ds != AUDIT_DS_PEER) {
            if (key_add(out, a->v[i], "") < 0)
                return -1;
            continue;
        }
        for (size_t j = 0; j < b->n; ++j) {
            char sub[48];
            snprintf(sub, sizeof(sub), "%s|%s", a->v[i], b->v[j]);
            if (key_add(out, sub, "") < 0)
                return -1;
        }
    }
    return 0;
}

/* Every key a dataset's cells can have: the published ones (key_space_published) plus every key any district lists
 * (and, for days, the days of the listed hours). Sorted, unique. */
static int key_space(const audit_release_t *r, int ds, key_set_t *out)
{
    int timed = ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY;
    if (key_space_published(r, ds, out) < 0)
        return -1;
    for (size_t ci = 0; ci < r->ncl; ++ci) {
        const table_t *t = &r->cl[ci].t[ds];
        for (size_t i = 0; i < t->n; ++i)
            if (key_add(out, t->c[i].sub, timed ? t->c[i].day : "") < 0)
                return -1;
        /* the days of the listed hours are days too */
        const table_t *H = &r->cl[ci].t[AUDIT_DS_HOURLY];
        for (size_t i = 0; ds == AUDIT_DS_DAILY && i < H->n; ++i)
            if (key_add(out, H->c[i].day, H->c[i].day) < 0)
                return -1;
    }
    key_unique(out);
    return 0;
}

static void table_sort(table_t *t)
{
    if (t->n > 1)
        qsort(t->c, t->n, sizeof(*t->c), cell_cmp);
    t->sorted = 1;
}

/* Adds to cluster c's table of ds every key of ks it does not list (hours and days: of its local month), as an
 * unlisted unknown; leaves the table sorted. Returns 0 or -1 (out of memory). */
static int complete_cluster(cluster_t *c, int ds, const key_set_t *ks)
{
    int timed = ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY;
    table_t *t = &c->t[ds];
    size_t listed = t->n;
    for (size_t i = 0; i < ks->n; ++i) {
        if (timed && strncmp(ks->v[i].day, c->month, 7) != 0)
            continue;
        cell_t key;
        str_fmt(key.sub, sizeof(key.sub), "%s", ks->v[i].sub);
        if (listed > 0 && bsearch(&key, t->c, listed, sizeof(key), cell_cmp) != NULL)
            continue;
        cell_t *x = table_add(t);
        if (x == NULL)
            return -1;
        str_fmt(x->sub, sizeof(x->sub), "%s", ks->v[i].sub);
        str_fmt(x->day, sizeof(x->day), "%s", timed ? ks->v[i].day : c->month);
        x->listed = 0;
    }
    table_sort(t);
    return 0;
}

/* Under the existence rule a key combination held by fewer than k households is not listed: every key of the
 * dataset's key space that a district-month lacks is added as an unknown with fewer than k households. Without the
 * rule a missing row has no data and stays out (zero). Leaves every table sorted by key. */
static int complete_key_spaces(audit_release_t *r)
{
    for (int ds = 0; ds < AUDIT_NDS; ++ds) {
        for (size_t ci = 0; ci < r->ncl; ++ci)
            table_sort(&r->cl[ci].t[ds]);
        if (!r->dc[ds].existence)
            continue;
        key_set_t ks = {0};
        int rc = key_space(r, ds, &ks);
        for (size_t ci = 0; ci < r->ncl && rc == 0; ++ci)
            rc = complete_cluster(&r->cl[ci], ds, &ks);
        free(ks.v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int audit_release_prepare(audit_release_t *r)
{
    if (!r->grid_sorted && r->ngrid > 0) {
        qsort(r->grid, r->ngrid, sizeof(*r->grid), grid_cmp);
        r->grid_sorted = 1;
    }
    /* also sorts every table by key: hours in time order (the hours of a day contiguous, for the group pass), and
     * audit_table_find by binary search */
    return complete_key_spaces(r);
}
