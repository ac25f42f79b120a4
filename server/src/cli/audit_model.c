/*
 * audit_model — the relations between the published tables and the attack on them (see audit_model.h and README.md
 * "klimaspejl audit").
 *
 * A cluster is one district and one local month: every relation the service documents stays inside it (hours sum to
 * their local day, days to the month that the peer groups split, the month's hours times the grid intensity give the
 * footprint's electricity CO2e, kWh/litres/kg/km times their factor the other categories, the categories the total).
 * So each cluster is one small linear program, solved on its own.
 *
 * Unknowns are the true values of the cells (non-negative: every measure is a sum of non-negative readings). A
 * published value P with noise bound b gives |P - x| <= tol + b, where tol is half a unit of the last printed digit
 * (values are rounded) and b = noise_factor * m * D * scale for magnitudes (the scale, the cell's largest
 * contribution, is not public: the attacker bounds it by x itself — justified — or by max_ratio * x / n — plausible),
 * noise_factor * D for counts. Since b is linear in x the bounds stay linear: x in [(P - tol) / (1 + r), (P + tol) /
 * (1 - r)].
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_lp.h"
#include "cli/audit_model.h"

#define MAXM 3     /* measures per dataset */
#define HOW_MAX 12 /* relation names listed per finding */

typedef struct ds_def {
    const char *id;
    const char *sub_col;  /* the cell's key inside its cluster */
    const char *sub_col2; /* a second key column (peer groups), or NULL */
    const char *time_col; /* gives the local month (and, for hours, the local day) */
    int nm;
    const char *m[MAXM];
    const char *sibling_parent; /* what a group of hidden siblings sums to, for the report */
} ds_def_t;

static const ds_def_t DS[AUDIT_NDS] = {
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
    {"energy-district-daily", "energy-district-hourly"},      {"energy-peergroup-monthly", "energy-district-daily"},
    {"energy-peergroup-monthly", "energy-district-hourly"},   {"footprint-district-monthly", "energy-district-hourly"},
    {"footprint-district-monthly", "energy-district-daily"},  {"footprint-district-monthly", "energy-peergroup-monthly"},
    {"footprint-district-monthly", "grid-intensity-hourly"},  {"footprint-district-monthly", "emission-factors"},
    {"footprint-district-monthly", "waste-district-monthly"}, {"footprint-district-monthly", "mobility-district-monthly"},
    {"waste-district-monthly", "emission-factors"},           {"mobility-district-monthly", "emission-factors"},
    {"energy-district-hourly", "grid-intensity-hourly"},
};

int audit_ds_index(const char *id)
{
    for (int i = 0; i < AUDIT_NDS; ++i)
        if (strcmp(DS[i].id, id) == 0)
            return i;
    return -1;
}

const char *audit_ds_id(int ds)
{
    return ds >= 0 && ds < AUDIT_NDS ? DS[ds].id : "?";
}

const char *audit_ds_key_column(int ds, int which)
{
    if (ds < 0 || ds >= AUDIT_NDS)
        return NULL;
    return which == 0 ? DS[ds].sub_col : which == 1 ? DS[ds].sub_col2 : NULL;
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

/* ---------------------------------------------------------------------------------------------------------------- */
/* Data */

typedef struct cell {
    char sub[48];
    char day[11]; /* hours: the local day */
    int listed;   /* 0: a row the release does not list (existence rule), modelled as unknown */
    int suppressed;
    int has_n;
    double n;
    int has_v[MAXM];
    double v[MAXM], tol[MAXM];
    int var[MAXM], nvar; /* LP unknowns of the measures and of the count; -1 when not in the model */
    int has_iv[MAXM];
    double lo[MAXM], hi[MAXM];
} cell_t;

typedef struct table {
    cell_t *c;
    size_t n, cap;
    int sorted; /* cells in key order (set by prepare; adding a row clears it) */
} table_t;

typedef struct cluster {
    int district;
    char month[8];
    table_t t[AUDIT_NDS];
} cluster_t;

typedef struct grid_hour {
    char hour[24];
    char day[11]; /* the local day (from hour_dk), "" when not published */
    double g;
} grid_hour_t;

/* A list of key values (a published vocabulary, or the calendar of a time key). */
typedef struct keylist {
    char (*v)[48];
    size_t n, cap;
} keylist_t;

typedef struct factor {
    char id[48], unit[32], from[11], to[11];
    double value;
} factor_t;

struct audit_release {
    cluster_t *cl;
    size_t ncl, capcl;
    size_t last;
    audit_dc_t dc[AUDIT_NDS];
    grid_hour_t *grid;
    size_t ngrid, capgrid;
    int grid_sorted;
    factor_t *f;
    size_t nf, capf;
    keylist_t dom[AUDIT_NDS][2]; /* published vocabularies of the key columns (audit_release_add_domain) */
};

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

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Makes room for one more element in the array *arr of *n elements of size elem (capacity *cap, doubling from
 * first). Returns 0, or -1 on allocation failure (the array is kept). */
static int grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first)
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

static cluster_t *cluster_get(audit_release_t *r, int district, const char *month, int create)
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
    if (grow(&r->cl, r->ncl, &r->capcl, sizeof(*r->cl), 64) < 0)
        return NULL;
    cluster_t *c = &r->cl[r->ncl];
    memset(c, 0, sizeof(*c));
    c->district = district;
    copy_str(c->month, sizeof(c->month), month);
    r->last = r->ncl++;
    return c;
}

static cell_t *table_add(table_t *t)
{
    if (grow(&t->c, t->n, &t->cap, sizeof(*t->c), 32) < 0)
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

/* The cell with key sub: by binary search once the table is sorted (after prepare), by scanning before. */
static cell_t *table_find(table_t *t, const char *sub)
{
    if (t->sorted) {
        cell_t key;
        copy_str(key.sub, sizeof(key.sub), sub);
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
    const ds_def_t *d = &DS[ds];
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
    copy_str(month, sizeof(month), tcol);
    cluster_t *c = cluster_get(r, (int)strtol(district, NULL, 10), month, 1);
    cell_t *x = c != NULL ? table_add(&c->t[ds]) : NULL;
    if (x == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (d->sub_col2 != NULL)
        snprintf(x->sub, sizeof(x->sub), "%s|%s", sub, sub2);
    else
        copy_str(x->sub, sizeof(x->sub), sub);
    copy_str(x->day, sizeof(x->day), tcol);
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
    if (grow(&r->grid, r->ngrid, &r->capgrid, sizeof(*r->grid), 1024) < 0)
        return -1;
    grid_hour_t *x = &r->grid[r->ngrid++];
    copy_str(x->hour, sizeof(x->hour), hour_utc);
    copy_str(x->day, sizeof(x->day), hour_dk != NULL && strlen(hour_dk) >= 10 ? hour_dk : "");
    x->g = g;
    r->grid_sorted = 0;
    return 0;
}

static int keylist_add(keylist_t *l, const char *v)
{
    if (grow(&l->v, l->n, &l->cap, sizeof(*l->v), 16) < 0)
        return -1;
    copy_str(l->v[l->n++], sizeof(l->v[0]), v);
    return 0;
}

int audit_release_add_domain(audit_release_t *r, int ds, int which, const char *value)
{
    if (ds < 0 || ds >= AUDIT_NDS || which < 0 || which > 1)
        return -1;
    return keylist_add(&r->dom[ds][which], value);
}

int audit_release_add_factor(audit_release_t *r, const char *id, const char *unit, double value, const char *valid_from,
                             const char *valid_to)
{
    if (grow(&r->f, r->nf, &r->capf, sizeof(*r->f), 64) < 0)
        return -1;
    factor_t *f = &r->f[r->nf++];
    copy_str(f->id, sizeof(f->id), id);
    copy_str(f->unit, sizeof(f->unit), unit);
    copy_str(f->from, sizeof(f->from), valid_from != NULL ? valid_from : "");
    copy_str(f->to, sizeof(f->to), valid_to != NULL ? valid_to : "");
    f->value = value;
    return 0;
}

static int grid_cmp(const void *a, const void *b)
{
    return strcmp(((const grid_hour_t *)a)->hour, ((const grid_hour_t *)b)->hour);
}

/* The factor of an item on a date in grams CO2e per base unit (kWh, litre, kg, passenger-km), chosen as the server
 * documents it (sql/README.md): the item's own id or the id with a year suffix, valid on the date, latest validity
 * first; before the first validity the earliest. NAN when the item has none. */
static double factor_g(const audit_release_t *r, const char *item, const char *date)
{
    const factor_t *best = NULL;
    int best_valid = 0;
    size_t il = strlen(item);
    for (size_t i = 0; i < r->nf; ++i) {
        const factor_t *f = &r->f[i];
        int match = strcmp(f->id, item) == 0;
        if (!match && strncmp(f->id, item, il) == 0 && f->id[il] == '-' && strlen(f->id + il + 1) == 4) {
            match = 1;
            for (int k = 1; k <= 4; ++k)
                match &= isdigit((unsigned char)f->id[il + k]) != 0;
        }
        if (!match)
            continue;
        int valid = strcmp(f->from, date) <= 0 && (f->to[0] == '\0' || strcmp(f->to, date) >= 0);
        int better;
        if (best == NULL)
            better = 1;
        else if (valid != best_valid)
            better = valid;
        else {
            int fb = strcmp(f->from, date) <= 0, bb = strcmp(best->from, date) <= 0;
            if (fb != bb)
                better = fb;
            else if (fb)
                better = strcmp(f->from, best->from) > 0;
            else
                better = strcmp(f->from, best->from) < 0;
        }
        if (better) {
            best = f;
            best_valid = valid;
        }
    }
    if (best == NULL)
        return NAN;
    double num = 1.0, den = 1.0;
    if (strncmp(best->unit, "kg ", 3) == 0)
        num = 1000.0;
    else if (strncmp(best->unit, "t ", 2) == 0)
        num = 1e6;
    const char *slash = strchr(best->unit, '/');
    if (slash != NULL && (strcmp(slash + 1, "MWh") == 0 || strcmp(slash + 1, "m3") == 0 || strcmp(slash + 1, "t") == 0))
        den = 1000.0;
    return best->value * num / den;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Findings */

int audit_findings_add(audit_findings_t *f, const audit_finding_t *x)
{
    if (grow(&f->v, f->n, &f->cap, sizeof(*f->v), 64) < 0)
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

/* The p % rule: the attacker's interval lies within +/- p % of its midpoint (the estimate), which is not zero. */
static int within_p(double lo, double hi, double p_pct)
{
    if (!isfinite(lo) || !isfinite(hi))
        return 0;
    double mid = (lo + hi) / 2;
    if (fabs(mid) < 1e-9)
        return 0;
    return (hi - lo) / 2 <= p_pct / 100.0 * fabs(mid) * (1 + 1e-12);
}

static void cell_key(char *out, size_t cap, const cluster_t *c, int ds, const cell_t *x)
{
    const ds_def_t *d = &DS[ds];
    if (d->sub_col2 != NULL) {
        const char *bar = strchr(x->sub, '|');
        int l = bar != NULL ? (int)(bar - x->sub) : (int)strlen(x->sub);
        snprintf(out, cap, "district=%d month=%s %s=%.*s %s=%s", c->district, c->month, d->sub_col, l, x->sub, d->sub_col2,
                 bar != NULL ? bar + 1 : "");
    } else if (ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY) {
        snprintf(out, cap, "district=%d %s=%s", c->district, d->sub_col, x->sub);
    } else {
        snprintf(out, cap, "district=%d month=%s %s=%s", c->district, c->month, d->sub_col, x->sub);
    }
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* The model of one cluster */

typedef struct model {
    audit_lp_t *lp;
    audit_release_t *r;
    cluster_t *c;
    const audit_options_t *opt;
    double scale;             /* calibration factor on every bound (1 unless the cluster was infeasible) */
    int existence[AUDIT_NDS]; /* missing rows are unknowns (protection on), not zeros */
} model_t;

/* The bounds [lo, hi] an attacker can justify for a published magnitude of a cell. */
/* The relative noise bound r of a published magnitude, |P - x| <= r * x (plus rounding): m * D with the scale bounded
 * by the cell's total (justified), or by max_ratio times its mean (plausible). */
static double magnitude_ratio(const model_t *M, int ds, const cell_t *x)
{
    const audit_dc_t *dc = &M->r->dc[ds];
    if (!dc->enabled)
        return 0.0;
    double sigma = 1.0;
    if (M->opt->attacker == AUDIT_ATTACKER_PLAUSIBLE && x->has_n) {
        double n = x->n - M->opt->noise_factor * dc->count_d;
        if (n >= 1.0 && M->opt->max_ratio / n < 1.0)
            sigma = M->opt->max_ratio / n;
    }
    return M->opt->noise_factor * dc->mag_m * dc->mag_d * sigma * M->scale;
}

static void magnitude_bounds(const model_t *M, int ds, const cell_t *x, int m, double *lo, double *hi)
{
    double r = magnitude_ratio(M, ds, x);
    double tol = x->tol[m] * M->scale;
    *lo = (x->v[m] - tol) / (1.0 + r);
    if (*lo < 0)
        *lo = 0;
    *hi = r < 1.0 ? (x->v[m] + tol) / (1.0 - r) : INFINITY;
}

static void count_bounds(const model_t *M, int ds, const cell_t *x, double *lo, double *hi)
{
    const audit_dc_t *dc = &M->r->dc[ds];
    double b = dc->enabled ? M->opt->noise_factor * dc->count_d * M->scale : 0.0;
    b += 1e-9 * M->scale;
    *lo = x->n - b < 0 ? 0 : x->n - b;
    *hi = x->n + b;
}

static int dc_k(const model_t *M, int ds)
{
    int k = M->r->dc[ds].k;
    return k > 0 ? k : M->opt->k_default;
}

/* Creates the unknowns of every cell of the cluster. */
static int model_vars(model_t *M)
{
    for (int ds = 0; ds < AUDIT_NDS; ++ds) {
        table_t *t = &M->c->t[ds];
        for (size_t i = 0; i < t->n; ++i) {
            cell_t *x = &t->c[i];
            for (int m = 0; m < DS[ds].nm; ++m) {
                double lo = 0, hi = INFINITY;
                if (x->listed && !x->suppressed && x->has_v[m])
                    magnitude_bounds(M, ds, x, m, &lo, &hi);
                x->var[m] = audit_lp_var(M->lp, lo, hi);
                if (x->var[m] < 0)
                    return -1;
            }
            double lo = 0, hi = INFINITY;
            if (!x->listed)
                hi = dc_k(M, ds) - 1;
            else if (x->has_n)
                count_bounds(M, ds, x, &lo, &hi);
            else
                lo = 1; /* a listed row has at least one household */
            x->nvar = audit_lp_var(M->lp, lo, hi);
            if (x->nvar < 0)
                return -1;
        }
    }
    return 0;
}

/* A growing list of (unknown, coefficient) pairs for one relation. */
typedef struct terms {
    int *v;
    double *c;
    size_t n, cap;
} terms_t;

static int terms_add(terms_t *t, int v, double c)
{
    if (v < 0)
        return 0;
    size_t cap = t->cap;
    if (grow(&t->v, t->n, &cap, sizeof(*t->v), 64) < 0 || grow(&t->c, t->n, &t->cap, sizeof(*t->c), 64) < 0)
        return -1;
    t->v[t->n] = v;
    t->c[t->n++] = c;
    return 0;
}

static int relate(model_t *M, const char *name, terms_t *t, double lo, double hi)
{
    int rc = 0;
    if (t->n > 0 && audit_lp_relation(M->lp, name, t->n, t->v, t->c, lo, hi) < 0)
        rc = -1;
    t->n = 0;
    return rc;
}

static const char *const REL_HOURS_DAY = "hours->day (hourly sums to daily)";
static const char *const REL_DAYS_PEER = "days->month = sum of peer groups (daily, peergroup)";
static const char *const REL_FP_ELEC = "footprint electricity = hourly Wh x grid intensity";
static const char *const REL_FP_HEAT = "footprint district_heating = heat kWh x factor";
static const char *const REL_FP_WATER = "footprint water = litres x factor";
static const char *const REL_FP_WASTE = "footprint waste = kg x factor per fraction";
static const char *const REL_FP_MOB = "footprint mobility = km x factor per mode";
static const char *const REL_FP_TOTAL = "footprint total = sum of categories";
static const char *const REL_N_PEER = "households: peer groups add up to the footprint's energy households";
static const char *const REL_N_PART = "households: a part has at most the households of its whole";

static cell_t *fp_cell(cluster_t *c, const char *category)
{
    return table_find(&c->t[AUDIT_DS_FOOTPRINT], category);
}

static double grid_g(audit_release_t *r, const char *hour, double fallback)
{
    grid_hour_t key;
    copy_str(key.hour, sizeof(key.hour), hour);
    grid_hour_t *g = r->ngrid ? bsearch(&key, r->grid, r->ngrid, sizeof(key), grid_cmp) : NULL;
    return g != NULL ? g->g : fallback;
}

/* Writes every relation of the cluster. */
static int model_relations(model_t *M)
{
    cluster_t *c = M->c;
    audit_release_t *r = M->r;
    table_t *H = &c->t[AUDIT_DS_HOURLY], *D = &c->t[AUDIT_DS_DAILY], *P = &c->t[AUDIT_DS_PEER];
    table_t *W = &c->t[AUDIT_DS_WASTE], *MO = &c->t[AUDIT_DS_MOBILITY], *F = &c->t[AUDIT_DS_FOOTPRINT];
    terms_t t = {0};
    int rc = -1;
    char month_start[11];
    snprintf(month_start, sizeof(month_start), "%s-01", c->month);

    /* hours -> day, per measure (Wh -> kWh for electricity and heat) */
    for (size_t d = 0; d < D->n; ++d) {
        cell_t *day = &D->c[d];
        for (int m = 0; m < 3; ++m) {
            double k = m < 2 ? 1.0 / 1000.0 : 1.0;
            size_t nh = 0;
            for (size_t h = 0; h < H->n; ++h)
                if (strcmp(H->c[h].day, day->sub) == 0) {
                    if (terms_add(&t, H->c[h].var[m], k) < 0)
                        goto done;
                    ++nh;
                }
            if (nh == 0)
                continue;
            if (terms_add(&t, day->var[m], -1.0) < 0 || relate(M, REL_HOURS_DAY, &t, 0, 0) < 0)
                goto done;
        }
        /* an hour has at most the households of its day */
        for (size_t h = 0; h < H->n; ++h)
            if (strcmp(H->c[h].day, day->sub) == 0)
                if (terms_add(&t, H->c[h].nvar, 1) < 0 || terms_add(&t, day->nvar, -1) < 0 ||
                    relate(M, REL_N_PART, &t, -INFINITY, 0) < 0)
                    goto done;
    }
    /* days -> month = sum of the peer groups */
    if (D->n > 0 && P->n > 0)
        for (int m = 0; m < 3; ++m) {
            for (size_t d = 0; d < D->n; ++d)
                if (terms_add(&t, D->c[d].var[m], 1) < 0)
                    goto done;
            for (size_t g = 0; g < P->n; ++g)
                if (terms_add(&t, P->c[g].var[m], -1) < 0)
                    goto done;
            if (relate(M, REL_DAYS_PEER, &t, 0, 0) < 0)
                goto done;
        }
    cell_t *fe = fp_cell(c, "electricity"), *fh = fp_cell(c, "district_heating"), *fw = fp_cell(c, "water");
    cell_t *fwa = fp_cell(c, "waste"), *fm = fp_cell(c, "mobility"), *ft = fp_cell(c, "total");
    /* footprint electricity = sum of hourly Wh x grid intensity (g/kWh) / 1e6 */
    if (fe != NULL && H->n > 0) {
        double fallback = factor_g(r, "electricity", month_start);
        int ok = 1;
        for (size_t h = 0; h < H->n && ok; ++h) {
            double g = grid_g(r, H->c[h].sub, fallback);
            ok = isfinite(g);
            if (ok && terms_add(&t, H->c[h].var[0], g) < 0)
                goto done;
        }
        if (ok) {
            if (terms_add(&t, fe->var[0], -1e6) < 0 || relate(M, REL_FP_ELEC, &t, 0, 0) < 0)
                goto done;
        } else {
            t.n = 0;
        }
    }
    /* footprint heat and water from the days (kWh x g/kWh / 1000, L x g/L / 1000) */
    struct {
        cell_t *fp;
        int m;
        const char *item;
        const char *name;
    } daily_links[] = {{fh, 1, "district-heating", REL_FP_HEAT}, {fw, 2, "water", REL_FP_WATER}};
    for (size_t i = 0; i < 2; ++i) {
        if (daily_links[i].fp == NULL || D->n == 0)
            continue;
        double g = factor_g(r, daily_links[i].item, month_start);
        if (!isfinite(g))
            continue;
        for (size_t d = 0; d < D->n; ++d)
            if (terms_add(&t, D->c[d].var[daily_links[i].m], g) < 0)
                goto done;
        if (terms_add(&t, daily_links[i].fp->var[0], -1000) < 0 || relate(M, daily_links[i].name, &t, 0, 0) < 0)
            goto done;
    }
    /* footprint waste and mobility: amount x factor of the fraction / mode */
    struct {
        cell_t *fp;
        table_t *tab;
        int m;
        const char *prefix;
        const char *name;
    } amount_links[] = {{fwa, W, 0, "waste-", REL_FP_WASTE}, {fm, MO, 1, "", REL_FP_MOB}};
    for (size_t i = 0; i < 2; ++i) {
        if (amount_links[i].fp == NULL || amount_links[i].tab->n == 0)
            continue;
        int ok = 1;
        for (size_t j = 0; j < amount_links[i].tab->n && ok; ++j) {
            char item[96];
            snprintf(item, sizeof(item), "%s%s", amount_links[i].prefix, amount_links[i].tab->c[j].sub);
            double g = factor_g(r, item, month_start);
            ok = isfinite(g);
            if (ok && terms_add(&t, amount_links[i].tab->c[j].var[amount_links[i].m], g) < 0)
                goto done;
        }
        if (!ok) {
            t.n = 0;
            continue;
        }
        if (terms_add(&t, amount_links[i].fp->var[0], -1000) < 0 || relate(M, amount_links[i].name, &t, 0, 0) < 0)
            goto done;
    }
    /* footprint total = sum of the categories */
    if (ft != NULL && F->n > 1) {
        for (size_t j = 0; j < F->n; ++j)
            if (terms_add(&t, F->c[j].var[0], &F->c[j] == ft ? -1.0 : 1.0) < 0)
                goto done;
        if (relate(M, REL_FP_TOTAL, &t, 0, 0) < 0)
            goto done;
    }
    /* households */
    if (fe != NULL && P->n > 0) {
        for (size_t g = 0; g < P->n; ++g)
            if (terms_add(&t, P->c[g].nvar, 1) < 0)
                goto done;
        if (terms_add(&t, fe->nvar, -1) < 0 || relate(M, REL_N_PEER, &t, 0, 0) < 0)
            goto done;
    }
    cell_t *same[] = {fh, fw};
    for (size_t i = 0; i < 2; ++i)
        if (fe != NULL && same[i] != NULL)
            if (terms_add(&t, fe->nvar, 1) < 0 || terms_add(&t, same[i]->nvar, -1) < 0 || relate(M, REL_N_PEER, &t, 0, 0) < 0)
                goto done;
    if (fe != NULL)
        for (size_t d = 0; d < D->n; ++d)
            if (terms_add(&t, D->c[d].nvar, 1) < 0 || terms_add(&t, fe->nvar, -1) < 0 ||
                relate(M, REL_N_PART, &t, -INFINITY, 0) < 0)
                goto done;
    struct {
        table_t *tab;
        cell_t *whole;
    } parts[] = {{W, fwa}, {MO, fm}, {F, ft}};
    for (size_t i = 0; i < 3; ++i) {
        if (parts[i].whole == NULL)
            continue;
        for (size_t j = 0; j < parts[i].tab->n; ++j) {
            if (&parts[i].tab->c[j] == parts[i].whole)
                continue;
            if (terms_add(&t, parts[i].tab->c[j].nvar, 1) < 0 || terms_add(&t, parts[i].whole->nvar, -1) < 0 ||
                relate(M, REL_N_PART, &t, -INFINITY, 0) < 0)
                goto done;
        }
    }
    if (ft != NULL) {
        cell_t *wholes[] = {fe, fwa, fm};
        int any = 0;
        for (size_t i = 0; i < 3; ++i)
            if (wholes[i] != NULL) {
                any = 1;
                if (terms_add(&t, wholes[i]->nvar, -1) < 0)
                    goto done;
            }
        if (any && (terms_add(&t, ft->nvar, 1) < 0 || relate(M, REL_N_PART, &t, -INFINITY, 0) < 0))
            goto done;
    }
    rc = 0;
done:
    free(t.v);
    free(t.c);
    return rc;
}

static void reset_vars(cluster_t *c)
{
    for (int ds = 0; ds < AUDIT_NDS; ++ds)
        for (size_t i = 0; i < c->t[ds].n; ++i) {
            for (int m = 0; m < MAXM; ++m)
                c->t[ds].c[i].var[m] = -1;
            c->t[ds].c[i].nvar = -1;
        }
}

static int model_build(model_t *M)
{
    audit_lp_free(M->lp);
    reset_vars(M->c);
    M->lp = audit_lp_new();
    if (M->lp == NULL || model_vars(M) < 0 || model_relations(M) < 0)
        return -1;
    return 0;
}

/* Builds the cluster's model; when the published values contradict the noise bounds (the noise is larger than
 * assumed), the attacker widens every bound by the smallest factor that makes them consistent, as an attacker who
 * sees the contradiction would. Returns 0 (M->scale says the factor), 1 when no factor up to 1e4 helps, -1 on
 * failure. */
static int model_build_consistent(model_t *M, audit_stats_t *st)
{
    M->scale = 1.0;
    if (model_build(M) < 0)
        return -1;
    audit_lp_status_t s = audit_lp_feasible(M->lp);
    if (s == AUDIT_LP_ERROR)
        return -1;
    if (s == AUDIT_LP_OK)
        return 0;
    double lo = 1.0, hi = 2.0;
    for (;;) {
        M->scale = hi;
        if (model_build(M) < 0)
            return -1;
        s = audit_lp_feasible(M->lp);
        if (s == AUDIT_LP_ERROR)
            return -1;
        if (s == AUDIT_LP_OK)
            break;
        lo = hi;
        hi *= 4;
        if (hi > 1e4) {
            ++st->infeasible;
            return 1;
        }
    }
    for (int i = 0; i < 12; ++i) {
        double mid = sqrt(lo * hi);
        M->scale = mid;
        if (model_build(M) < 0)
            return -1;
        s = audit_lp_feasible(M->lp);
        if (s == AUDIT_LP_ERROR)
            return -1;
        if (s == AUDIT_LP_OK)
            hi = mid;
        else
            lo = mid;
    }
    M->scale = hi;
    if (model_build(M) < 0)
        return -1;
    if (hi > st->calibrated_max)
        st->calibrated_max = hi;
    return 0;
}

static void how_text(model_t *M, const int *vars, size_t nvars, const char *prefix, char *out, size_t cap)
{
    const char *names[HOW_MAX];
    size_t n = 0;
    for (size_t i = 0; i < nvars && n < HOW_MAX; ++i) {
        const char *one[HOW_MAX];
        size_t k = audit_lp_relations_of(M->lp, vars[i], one, HOW_MAX);
        for (size_t j = 0; j < k && n < HOW_MAX; ++j) {
            int dup = 0;
            for (size_t q = 0; q < n && !dup; ++q)
                dup = names[q] == one[j];
            if (!dup)
                names[n++] = one[j];
        }
    }
    size_t len = (size_t)snprintf(out, cap, "%s", prefix);
    for (size_t i = 0; i < n && len < cap; ++i)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "; " : "", names[i]);
    if (M->scale > 1.0 && len < cap)
        snprintf(out + len, cap - len, " [noise bounds widened x%.3g to fit the published values]", M->scale);
}

/* Is a cell hidden (a target): listed as suppressed, or not listed at all under the existence rule. */
static int hidden(const cell_t *x)
{
    return !x->listed || x->suppressed;
}

static int report(audit_findings_t *out, const char *kind, int ds, const char *key, const char *measure, double lo, double hi,
                  const char *how)
{
    audit_finding_t f;
    memset(&f, 0, sizeof(f));
    f.narrowed = 1;
    copy_str(f.kind, sizeof(f.kind), kind);
    copy_str(f.dataset, sizeof(f.dataset), audit_ds_id(ds));
    copy_str(f.key, sizeof(f.key), key);
    copy_str(f.measure, sizeof(f.measure), measure);
    f.lo = lo;
    f.hi = hi;
    f.estimate = (lo + hi) / 2;
    copy_str(f.how, sizeof(f.how), how);
    return audit_findings_add(out, &f);
}

/* Reports an attacked target: a finding when its interval is within +/- p %, else (with all_targets, and a lower bound
 * above 0) a target listed for information. Returns 0 or -1 on allocation failure. */
static int report_target(audit_findings_t *out, const audit_options_t *opt, const char *kind, int ds, const char *key,
                         const char *measure, double lo, double hi, const char *how)
{
    int narrowed = within_p(lo, hi, opt->p_pct);
    if (!narrowed && !(opt->all_targets && lo > 0 && isfinite(hi)))
        return 0;
    if (report(out, kind, ds, key, measure, lo, hi, how) < 0)
        return -1;
    out->v[out->n - 1].narrowed = narrowed;
    return 0;
}

/* The largest count the households of a set of cells (and of their whole) can have. */
static int count_bound(model_t *M, const int *nvars, size_t n, int whole_nvar, double *bound, audit_stats_t *st)
{
    double lo, hi;
    double *ones = malloc((n ? n : 1) * sizeof(*ones));
    if (ones == NULL)
        return -1;
    for (size_t i = 0; i < n; ++i)
        ones[i] = 1;
    audit_lp_status_t s = audit_lp_interval(M->lp, n, nvars, ones, &lo, &hi);
    free(ones);
    ++st->lps;
    if (s != AUDIT_LP_OK)
        return s == AUDIT_LP_ERROR ? -1 : 1;
    *bound = hi;
    if (whole_nvar >= 0) {
        double one = 1, wlo, whi;
        s = audit_lp_interval(M->lp, 1, &whole_nvar, &one, &wlo, &whi);
        ++st->lps;
        if (s == AUDIT_LP_OK && whi < *bound)
            *bound = whi;
    }
    return 0;
}

/* The whole a group of sibling cells adds up to (its count unknown), or NULL. */
static cell_t *sibling_whole(cluster_t *c, int ds, const char *day)
{
    switch (ds) {
    case AUDIT_DS_HOURLY:
        return table_find(&c->t[AUDIT_DS_DAILY], day);
    case AUDIT_DS_PEER:
        return fp_cell(c, "electricity");
    case AUDIT_DS_WASTE:
        return fp_cell(c, "waste");
    case AUDIT_DS_MOBILITY:
        return fp_cell(c, "mobility");
    case AUDIT_DS_FOOTPRINT:
        return fp_cell(c, "total");
    default:
        return NULL;
    }
}

/* Attacks the group of hidden siblings among cells [start, end) of table ds: their sum, when the group provably has
 * fewer than k households. */
static int attack_group(model_t *M, int ds, size_t start, size_t end, audit_findings_t *out, audit_stats_t *st)
{
    cluster_t *c = M->c;
    table_t *t = &c->t[ds];
    char key[160], how[400];
    size_t cap = end - start;
    int *mv = malloc(cap * sizeof(*mv)), *nv = malloc(cap * sizeof(*nv));
    size_t *members = malloc(cap * sizeof(*members));
    double *ones = malloc(cap * sizeof(*ones));
    int rc = -1;
    if (mv == NULL || nv == NULL || members == NULL || ones == NULL)
        goto done;
    size_t nmem = 0;
    for (size_t i = start; i < end; ++i) {
        cell_t *x = &t->c[i];
        if (ds == AUDIT_DS_FOOTPRINT && strcmp(x->sub, "total") == 0)
            continue;
        if (hidden(x)) {
            nv[nmem] = x->nvar;
            ones[nmem] = 1;
            members[nmem++] = i;
        }
    }
    rc = 0;
    if (nmem < 2)
        goto done;
    cell_t *whole = sibling_whole(c, ds, t->c[start].day);
    double b;
    int cb = count_bound(M, nv, nmem, whole != NULL ? whole->nvar : -1, &b, st);
    if (cb != 0 || b >= dc_k(M, ds) - 1e-6) {
        rc = cb < 0 ? -1 : 0;
        goto done;
    }
    for (int m = 0; m < DS[ds].nm; ++m) {
        for (size_t j = 0; j < nmem; ++j)
            mv[j] = t->c[members[j]].var[m];
        double lo, hi;
        ++st->targets;
        ++st->lps;
        audit_lp_status_t s = audit_lp_interval_from(M->lp, nmem, mv, ones, 0.0, &lo, &hi);
        if (s == AUDIT_LP_ERROR) {
            rc = -1;
            goto done;
        }
        if (s != AUDIT_LP_OK || (!within_p(lo, hi, M->opt->p_pct) && !(M->opt->all_targets && lo > 0 && isfinite(hi))))
            continue;
        size_t len = (size_t)snprintf(key, sizeof(key), "district=%d month=%s %s=", c->district, c->month, DS[ds].sub_col);
        for (size_t j = 0; j < nmem && len < sizeof(key); ++j)
            len += (size_t)snprintf(key + len, sizeof(key) - len, "%s%s", j ? "+" : "", t->c[members[j]].sub);
        char prefix[96];
        snprintf(prefix, sizeof(prefix), "%zu hidden cells of at most %.0f households, from: ", nmem, floor(b + 1e-6));
        how_text(M, mv, nmem, prefix, how, sizeof(how));
        if (report_target(out, M->opt, "group", ds, key, DS[ds].m[m], lo, hi, how) < 0) {
            rc = -1;
            goto done;
        }
    }
done:
    free(mv);
    free(nv);
    free(members);
    free(ones);
    return rc;
}

/* Attacks one cluster: every hidden cell, every group of hidden siblings with fewer than k households, and every
 * listed hidden row whose household count is provably below k. */
static int attack_cluster(model_t *M, audit_findings_t *out, audit_stats_t *st)
{
    cluster_t *c = M->c;
    const double p = M->opt->p_pct;
    char key[160], how[400];
    double one = 1.0;
    /* a district-month whose total over all its households is suppressed, yet listed: its rows disclose that the
     * district has households (and when) though fewer than k */
    cell_t *ft = fp_cell(c, "total");
    if (ft != NULL && ft->listed && ft->suppressed) {
        size_t listed = 0;
        for (int ds = 0; ds < AUDIT_NDS; ++ds)
            listed += c->t[ds].n;
        snprintf(key, sizeof(key), "district=%d month=%s", c->district, c->month);
        snprintf(how, sizeof(how),
                 "the district-month's footprint total (all its households) is suppressed, yet %zu rows of it are "
                 "listed: fewer than k households (or two dominating), whose existence and active hours are published",
                 listed);
        if (report(out, "existence", AUDIT_DS_FOOTPRINT, key, "", 0, 0, how) < 0)
            return -1;
    }
    for (int ds = 0; ds < AUDIT_NDS; ++ds) {
        table_t *t = &c->t[ds];
        for (size_t i = 0; i < t->n; ++i) {
            cell_t *x = &t->c[i];
            if (!hidden(x))
                continue;
            cell_key(key, sizeof(key), c, ds, x);
            for (int m = 0; m < DS[ds].nm; ++m) {
                double lo, hi;
                ++st->targets;
                ++st->lps;
                /* a target whose minimum is 0 is not narrowed relatively (its maximum is not needed) */
                audit_lp_status_t s = audit_lp_interval_from(M->lp, 1, &x->var[m], &one, 0.0, &lo, &hi);
                if (s == AUDIT_LP_ERROR)
                    return -1;
                if (s != AUDIT_LP_OK)
                    continue;
                x->has_iv[m] = 1;
                x->lo[m] = lo;
                x->hi[m] = hi;
                if (within_p(lo, hi, p) || (M->opt->all_targets && lo > 0 && isfinite(hi))) {
                    how_text(M, &x->var[m], 1,
                             x->listed ? "suppressed cell recovered from: " : "unlisted cell recovered from: ", how, sizeof(how));
                    if (report_target(out, M->opt, "cell", ds, key, DS[ds].m[m], lo, hi, how) < 0)
                        return -1;
                }
            }
            /* a listed suppressed row of a monthly table whose households provably number fewer than k */
            if (x->listed && ds >= AUDIT_DS_PEER && !(ds == AUDIT_DS_FOOTPRINT && x == ft)) {
                double b;
                int rc = count_bound(M, &x->nvar, 1, -1, &b, st);
                if (rc < 0)
                    return -1;
                if (rc == 0 && b < dc_k(M, ds) - 1e-6) {
                    snprintf(how, sizeof(how),
                             "listed although its households number at most %.0f (< k = %d), from the household "
                             "counts of linked cells",
                             floor(b + 1e-6), dc_k(M, ds));
                    if (report(out, "existence", ds, key, "n_households", 0, b, how) < 0)
                        return -1;
                }
            }
        }
        /* groups of hidden siblings: the hours of a day, the peer groups, fractions, modes, categories of a month */
        if (ds == AUDIT_DS_DAILY)
            continue;
        size_t start = 0;
        while (start < t->n) {
            /* the hours of one local day are contiguous (sorted by hour); the monthly tables form one group */
            size_t end = t->n;
            if (ds == AUDIT_DS_HOURLY)
                for (end = start + 1; end < t->n && strcmp(t->c[end].day, t->c[start].day) == 0; ++end)
                    ;
            int rc = attack_group(M, ds, start, end, out, st);
            if (rc < 0)
                return -1;
            start = end;
        }
    }
    return 0;
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
    if (grow(&k->v, k->n, &k->cap, sizeof(*k->v), 64) < 0)
        return -1;
    copy_str(k->v[k->n].sub, sizeof(k->v[0].sub), sub);
    copy_str(k->v[k->n].day, sizeof(k->v[0].day), day);
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

/* Every key a dataset's cells can have: the published vocabulary of its key columns (peer groups: every dwelling type
 * with every occupant band), for hours the grid's calendar of hours (every hour of every local day, as hour_utc with
 * its hour_dk), for days the local days of that calendar; plus every key any district lists. Sorted, unique. */
static int key_space(const audit_release_t *r, int ds, key_set_t *out)
{
    if (ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY)
        for (size_t i = 0; i < r->ngrid; ++i)
            if (r->grid[i].day[0] != '\0' &&
                key_add(out, ds == AUDIT_DS_HOURLY ? r->grid[i].hour : r->grid[i].day, r->grid[i].day) < 0)
                return -1;
    const keylist_t *a = &r->dom[ds][0], *b = &r->dom[ds][1];
    if (ds == AUDIT_DS_PEER) {
        for (size_t i = 0; i < a->n; ++i)
            for (size_t j = 0; j < b->n; ++j) {
                char sub[48];
                snprintf(sub, sizeof(sub), "%s|%s", a->v[i], b->v[j]);
                if (key_add(out, sub, "") < 0)
                    return -1;
            }
    } else if (ds != AUDIT_DS_HOURLY && ds != AUDIT_DS_DAILY) {
        for (size_t i = 0; i < a->n; ++i)
            if (key_add(out, a->v[i], "") < 0)
                return -1;
    }
    for (size_t ci = 0; ci < r->ncl; ++ci) {
        const table_t *t = &r->cl[ci].t[ds];
        for (size_t i = 0; i < t->n; ++i)
            if (key_add(out, t->c[i].sub, ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY ? t->c[i].day : "") < 0)
                return -1;
        /* the days of the listed hours are days too */
        if (ds == AUDIT_DS_DAILY)
            for (size_t i = 0; i < r->cl[ci].t[AUDIT_DS_HOURLY].n; ++i) {
                const cell_t *h = &r->cl[ci].t[AUDIT_DS_HOURLY].c[i];
                if (key_add(out, h->day, h->day) < 0)
                    return -1;
            }
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

/* Under the existence rule a key combination held by fewer than k households is not listed: every key of the
 * dataset's key space that a district-month lacks (for hours and days: of that local month) is added as an unknown
 * with fewer than k households. Without the rule a missing row has no data and stays out (zero). Leaves every table
 * sorted by key. */
static int complete_key_spaces(audit_release_t *r)
{
    for (int ds = 0; ds < AUDIT_NDS; ++ds) {
        for (size_t ci = 0; ci < r->ncl; ++ci)
            table_sort(&r->cl[ci].t[ds]);
        if (!r->dc[ds].existence)
            continue;
        key_set_t ks = {0};
        if (key_space(r, ds, &ks) < 0) {
            free(ks.v);
            return -1;
        }
        int timed = ds == AUDIT_DS_HOURLY || ds == AUDIT_DS_DAILY;
        for (size_t ci = 0; ci < r->ncl; ++ci) {
            cluster_t *c = &r->cl[ci];
            table_t *t = &c->t[ds];
            size_t listed = t->n;
            for (size_t i = 0; i < ks.n; ++i) {
                if (timed && strncmp(ks.v[i].day, c->month, 7) != 0)
                    continue;
                cell_t key;
                copy_str(key.sub, sizeof(key.sub), ks.v[i].sub);
                if (listed > 0 && bsearch(&key, t->c, listed, sizeof(key), cell_cmp) != NULL)
                    continue;
                cell_t *x = table_add(t);
                if (x == NULL) {
                    free(ks.v);
                    return -1;
                }
                copy_str(x->sub, sizeof(x->sub), ks.v[i].sub);
                copy_str(x->day, sizeof(x->day), timed ? ks.v[i].day : c->month);
                x->listed = 0;
            }
            table_sort(t);
        }
        free(ks.v);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */
/* Two releases */

/* The interval of d = x2 - x1 for a cell published in two releases, x1 in [lo1, hi1] (release 1's bounds) and release
 * 2's value P2 (printed to +/- tol2). The plausible attacker bounds release 2's noise by a * x2 (a = m * D * R / n); but a
 * cell that changed between the releases may hold a contribution that changed by d itself (a late household's day, a
 * corrected reading), so the noise of release 2 is only bounded by a * x2 + c * |d| (c = m * D) — and, always, by
 * c * x2 (the justified bound). The set of d is cut along the sign of d (each half is linear) and the two halves
 * joined; the justified interval is intersected with it (an over-approximation of the feasible d: sound). */
static void difference_interval(double lo1, double hi1, double p2, double tol2, double a, double c, double *lo, double *hi)
{
    double jlo = (p2 - tol2) / (1.0 + c) - hi1, jhi = c < 1.0 ? (p2 + tol2) / (1.0 - c) - lo1 : INFINITY;
    *lo = jlo;
    *hi = jhi;
    if (a >= c || c <= 0)
        return;
    double rlo = INFINITY, rhi = -INFINITY;
    for (int s = -1; s <= 1; s += 2) {
        /* |P2 - x1 - d| <= tol2 + a (x1 + d) + c s d, with s d >= 0 */
        double dmin = (p2 - tol2 - (1.0 + a) * hi1) / (1.0 + a + c * s);
        double den = 1.0 - a - c * s;
        double dmax = den > 0 ? (p2 + tol2 - (1.0 - a) * lo1) / den : INFINITY;
        if (s > 0 && dmin < 0)
            dmin = 0;
        if (s < 0 && dmax > 0)
            dmax = 0;
        if (dmin > dmax)
            continue;
        if (dmin < rlo)
            rlo = dmin;
        if (dmax > rhi)
            rhi = dmax;
    }
    if (rlo > rhi)
        return;
    if (rlo > *lo)
        *lo = rlo;
    if (rhi < *hi)
        *hi = rhi;
}

/* The differences of the cells listed and published in both releases: a cell whose households changed by fewer than
 * k discloses what those households contributed (one household: a late day, an erasure); a cell whose households
 * did not change but whose value did discloses a revision. */
static int attack_differences(audit_release_t *cur, audit_release_t *prev, const audit_options_t *opt, audit_findings_t *out,
                              audit_stats_t *st)
{
    model_t M1 = {.r = prev, .opt = opt, .scale = 1.0}, M2 = {.r = cur, .opt = opt, .scale = 1.0};
    char key[160], how[400];
    for (size_t ci = 0; ci < cur->ncl; ++ci) {
        cluster_t *c2 = &cur->cl[ci];
        cluster_t *c1 = cluster_get(prev, c2->district, c2->month, 0);
        if (c1 == NULL)
            continue;
        for (int ds = 0; ds < AUDIT_NDS; ++ds) {
            table_t *t2 = &c2->t[ds];
            int k = cur->dc[ds].k > 0 ? cur->dc[ds].k : opt->k_default;
            for (size_t i = 0; i < t2->n; ++i) {
                cell_t *x2 = &t2->c[i];
                if (!x2->listed || x2->suppressed || !x2->has_n)
                    continue;
                cell_t *x1 = table_find(&c1->t[ds], x2->sub);
                if (x1 == NULL || !x1->listed || x1->suppressed || !x1->has_n)
                    continue;
                double dn = x2->n - x1->n;
                if (fabs(dn) >= k)
                    continue;
                for (int m = 0; m < DS[ds].nm; ++m) {
                    if (!x1->has_v[m] || !x2->has_v[m])
                        continue;
                    if (x1->v[m] == x2->v[m])
                        continue;
                    double lo1, hi1, lo, hi;
                    M1.c = c1;
                    M2.c = c2;
                    magnitude_bounds(&M1, ds, x1, m, &lo1, &hi1);
                    const audit_dc_t *dc2 = &cur->dc[ds];
                    double c = dc2->enabled ? opt->noise_factor * dc2->mag_m * dc2->mag_d : 0.0;
                    difference_interval(lo1, hi1, x2->v[m], x2->tol[m], magnitude_ratio(&M2, ds, x2), c, &lo, &hi);
                    ++st->targets;
                    if (dn == 0 && lo <= 0 && hi >= 0)
                        continue;
                    if (!within_p(lo, hi, opt->p_pct) && !(opt->all_targets && lo > 0))
                        continue;
                    cell_key(key, sizeof(key), c2, ds, x2);
                    if (dn != 0)
                        snprintf(how, sizeof(how),
                                 "difference of two releases: households %.0f -> %.0f, so %.0f household%s "
                                 "contributed this",
                                 x1->n, x2->n, fabs(dn), fabs(dn) == 1 ? "" : "s");
                    else
                        snprintf(how, sizeof(how),
                                 "difference of two releases with the same %.0f households: a revision of their "
                                 "readings, published to within its bounds",
                                 x2->n);
                    if (report_target(out, opt, dn != 0 ? "household" : "revision", ds, key, DS[ds].m[m], lo, hi, how) < 0)
                        return -1;
                }
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------------- */

static int prepare(audit_release_t *r)
{
    if (!r->grid_sorted && r->ngrid > 0) {
        qsort(r->grid, r->ngrid, sizeof(*r->grid), grid_cmp);
        r->grid_sorted = 1;
    }
    /* also sorts every table by key: hours in time order (the hours of a day contiguous, for the group pass), and
     * table_find by binary search */
    return complete_key_spaces(r);
}

int audit_run(audit_release_t *cur, audit_release_t *prev, const audit_options_t *opt, audit_findings_t *out, audit_stats_t *stats,
              char *err, size_t errlen)
{
    memset(stats, 0, sizeof(*stats));
    stats->calibrated_max = 1.0;
    if (prepare(cur) < 0 || (prev != NULL && prepare(prev) < 0)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    model_t M = {.r = cur, .opt = opt, .scale = 1.0};
    for (size_t ci = 0; ci < cur->ncl; ++ci) {
        M.c = &cur->cl[ci];
        int rc = model_build_consistent(&M, stats);
        if (rc < 0) {
            snprintf(err, errlen, "the linear program of district %d, %s failed", M.c->district, M.c->month);
            audit_lp_free(M.lp);
            return -1;
        }
        ++stats->clusters;
        if (rc > 0) {
            fprintf(stderr,
                    "audit: district %d, %s: the published values contradict the noise bounds even when "
                    "widened 10,000 times; cluster skipped\n",
                    M.c->district, M.c->month);
            continue;
        }
        stats->vars += (size_t)audit_lp_nvars(M.lp);
        stats->relations += (size_t)audit_lp_nrelations(M.lp);
        if (attack_cluster(&M, out, stats) < 0) {
            snprintf(err, errlen, "the solver failed on district %d, %s", M.c->district, M.c->month);
            audit_lp_free(M.lp);
            return -1;
        }
    }
    audit_lp_free(M.lp);
    if (prev != NULL && attack_differences(cur, prev, opt, out, stats) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int audit_cell_interval(audit_release_t *r, int ds, int district, const char *month, const char *sub, const char *measure,
                        double *lo, double *hi)
{
    cluster_t *c = cluster_get(r, district, month, 0);
    if (c == NULL)
        return -1;
    cell_t *x = table_find(&c->t[ds], sub);
    if (x == NULL)
        return -1;
    for (int m = 0; m < DS[ds].nm; ++m)
        if (strcmp(DS[ds].m[m], measure) == 0 && x->has_iv[m]) {
            *lo = x->lo[m];
            *hi = x->hi[m];
            return 0;
        }
    return -1;
}
