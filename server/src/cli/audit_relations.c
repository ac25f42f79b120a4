/*
 * audit_relations — the linear program of one district-month (see cli/audit_cluster.h and README.md "klimaspejl
 * audit").
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

#include "cli/audit_cluster.h"

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

double audit_magnitude_ratio(const model_t *M, int ds, const cell_t *x)
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

void audit_magnitude_bounds(const model_t *M, int ds, const cell_t *x, int m, double *lo, double *hi)
{
    double r = audit_magnitude_ratio(M, ds, x);
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

int audit_dc_k(const model_t *M, int ds)
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
            for (int m = 0; m < audit_ds_defs[ds].nm; ++m) {
                double lo = 0, hi = INFINITY;
                if (x->listed && !x->suppressed && x->has_v[m])
                    audit_magnitude_bounds(M, ds, x, m, &lo, &hi);
                x->var[m] = audit_lp_var(M->lp, lo, hi);
                if (x->var[m] < 0)
                    return -1;
            }
            double lo = 0, hi = INFINITY;
            if (!x->listed)
                hi = audit_dc_k(M, ds) - 1;
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
    if (audit_grow(&t->v, t->n, &cap, sizeof(*t->v), 64) < 0 || audit_grow(&t->c, t->n, &t->cap, sizeof(*t->c), 64) < 0)
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

/* hours -> day per measure (Wh -> kWh for electricity and heat), an hour's households at most its day's, and the days
 * of the month = the sum of the peer groups. Returns 0 or -1 (out of memory). */
static int relations_energy(model_t *M, terms_t *t)
{
    cluster_t *c = M->c;
    table_t *H = &c->t[AUDIT_DS_HOURLY], *D = &c->t[AUDIT_DS_DAILY], *P = &c->t[AUDIT_DS_PEER];

    for (size_t d = 0; d < D->n; ++d) {
        cell_t *day = &D->c[d];
        for (int m = 0; m < 3; ++m) {
            double k = m < 2 ? 1.0 / 1000.0 : 1.0;
            size_t nh = 0;
            for (size_t h = 0; h < H->n; ++h)
                if (strcmp(H->c[h].day, day->sub) == 0) {
                    if (terms_add(t, H->c[h].var[m], k) < 0)
                        return -1;
                    ++nh;
                }
            if (nh == 0)
                continue;
            if (terms_add(t, day->var[m], -1.0) < 0 || relate(M, REL_HOURS_DAY, t, 0, 0) < 0)
                return -1;
        }
        /* an hour has at most the households of its day */
        for (size_t h = 0; h < H->n; ++h)
            if (strcmp(H->c[h].day, day->sub) == 0)
                if (terms_add(t, H->c[h].nvar, 1) < 0 || terms_add(t, day->nvar, -1) < 0 ||
                    relate(M, REL_N_PART, t, -INFINITY, 0) < 0)
                    return -1;
    }
    /* days -> month = sum of the peer groups */
    if (D->n > 0 && P->n > 0)
        for (int m = 0; m < 3; ++m) {
            for (size_t d = 0; d < D->n; ++d)
                if (terms_add(t, D->c[d].var[m], 1) < 0)
                    return -1;
            for (size_t g = 0; g < P->n; ++g)
                if (terms_add(t, P->c[g].var[m], -1) < 0)
                    return -1;
            if (relate(M, REL_DAYS_PEER, t, 0, 0) < 0)
                return -1;
        }
    return 0;
}

/* The footprint's electricity (hourly Wh x grid intensity), heat and water (daily amounts x factor). */
static int relations_footprint_energy(model_t *M, terms_t *t, const char *month_start)
{
    cluster_t *c = M->c;
    audit_release_t *r = M->r;
    table_t *H = &c->t[AUDIT_DS_HOURLY], *D = &c->t[AUDIT_DS_DAILY];
    cell_t *fe = audit_fp_cell(c, "electricity"), *fh = audit_fp_cell(c, "district_heating"), *fw = audit_fp_cell(c, "water");

    /* footprint electricity = sum of hourly Wh x grid intensity (g/kWh) / 1e6 */
    if (fe != NULL && H->n > 0) {
        double fallback = factor_g(r, "electricity", month_start);
        int ok = 1;
        for (size_t h = 0; h < H->n && ok; ++h) {
            double g = audit_grid_g(r, H->c[h].sub, fallback);
            ok = isfinite(g);
            if (ok && terms_add(t, H->c[h].var[0], g) < 0)
                return -1;
        }
        if (ok) {
            if (terms_add(t, fe->var[0], -1e6) < 0 || relate(M, REL_FP_ELEC, t, 0, 0) < 0)
                return -1;
        } else {
            t->n = 0;
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
            if (terms_add(t, D->c[d].var[daily_links[i].m], g) < 0)
                return -1;
        if (terms_add(t, daily_links[i].fp->var[0], -1000) < 0 || relate(M, daily_links[i].name, t, 0, 0) < 0)
            return -1;
    }
    return 0;
}

/* The footprint's waste and mobility (amount x factor of the fraction / mode) and its total (sum of categories). */
static int relations_footprint_rest(model_t *M, terms_t *t, const char *month_start)
{
    cluster_t *c = M->c;
    table_t *W = &c->t[AUDIT_DS_WASTE], *MO = &c->t[AUDIT_DS_MOBILITY], *F = &c->t[AUDIT_DS_FOOTPRINT];
    cell_t *fwa = audit_fp_cell(c, "waste"), *fm = audit_fp_cell(c, "mobility"), *ft = audit_fp_cell(c, "total");
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
            double g = factor_g(M->r, item, month_start);
            ok = isfinite(g);
            if (ok && terms_add(t, amount_links[i].tab->c[j].var[amount_links[i].m], g) < 0)
                return -1;
        }
        if (!ok) {
            t->n = 0;
            continue;
        }
        if (terms_add(t, amount_links[i].fp->var[0], -1000) < 0 || relate(M, amount_links[i].name, t, 0, 0) < 0)
            return -1;
    }
    /* footprint total = sum of the categories */
    if (ft != NULL && F->n > 1) {
        for (size_t j = 0; j < F->n; ++j)
            if (terms_add(t, F->c[j].var[0], &F->c[j] == ft ? -1.0 : 1.0) < 0)
                return -1;
        if (relate(M, REL_FP_TOTAL, t, 0, 0) < 0)
            return -1;
    }
    return 0;
}

/* The household counts: peer groups add up to the footprint's energy households, a part has at most its whole's. */
static int relations_households(model_t *M, terms_t *t)
{
    cluster_t *c = M->c;
    table_t *D = &c->t[AUDIT_DS_DAILY], *P = &c->t[AUDIT_DS_PEER];
    table_t *W = &c->t[AUDIT_DS_WASTE], *MO = &c->t[AUDIT_DS_MOBILITY], *F = &c->t[AUDIT_DS_FOOTPRINT];
    cell_t *fe = audit_fp_cell(c, "electricity"), *fh = audit_fp_cell(c, "district_heating"), *fw = audit_fp_cell(c, "water");
    cell_t *fwa = audit_fp_cell(c, "waste"), *fm = audit_fp_cell(c, "mobility"), *ft = audit_fp_cell(c, "total");

    if (fe != NULL && P->n > 0) {
        for (size_t g = 0; g < P->n; ++g)
            if (terms_add(t, P->c[g].nvar, 1) < 0)
                return -1;
        if (terms_add(t, fe->nvar, -1) < 0 || relate(M, REL_N_PEER, t, 0, 0) < 0)
            return -1;
    }
    cell_t *same[] = {fh, fw};
    for (size_t i = 0; i < 2; ++i)
        if (fe != NULL && same[i] != NULL)
            if (terms_add(t, fe->nvar, 1) < 0 || terms_add(t, same[i]->nvar, -1) < 0 || relate(M, REL_N_PEER, t, 0, 0) < 0)
                return -1;
    if (fe != NULL)
        for (size_t d = 0; d < D->n; ++d)
            if (terms_add(t, D->c[d].nvar, 1) < 0 || terms_add(t, fe->nvar, -1) < 0 || relate(M, REL_N_PART, t, -INFINITY, 0) < 0)
                return -1;
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
            if (terms_add(t, parts[i].tab->c[j].nvar, 1) < 0 || terms_add(t, parts[i].whole->nvar, -1) < 0 ||
                relate(M, REL_N_PART, t, -INFINITY, 0) < 0)
                return -1;
        }
    }
    if (ft != NULL) {
        cell_t *wholes[] = {fe, fwa, fm};
        int any = 0;
        for (size_t i = 0; i < 3; ++i)
            if (wholes[i] != NULL) {
                any = 1;
                if (terms_add(t, wholes[i]->nvar, -1) < 0)
                    return -1;
            }
        if (any && (terms_add(t, ft->nvar, 1) < 0 || relate(M, REL_N_PART, t, -INFINITY, 0) < 0))
            return -1;
    }
    return 0;
}

/* Writes every relation of the cluster. */
static int model_relations(model_t *M)
{
    terms_t t = {0};
    char month_start[11];
    snprintf(month_start, sizeof(month_start), "%s-01", M->c->month);
    int rc = relations_energy(M, &t) < 0 || relations_footprint_energy(M, &t, month_start) < 0 ||
                     relations_footprint_rest(M, &t, month_start) < 0 || relations_households(M, &t) < 0
                 ? -1
                 : 0;
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

/* Rebuilds the model with every bound widened by scale; the LP's feasibility, or AUDIT_LP_ERROR on failure. */
static audit_lp_status_t feasible_at(model_t *M, double scale)
{
    M->scale = scale;
    if (model_build(M) < 0)
        return AUDIT_LP_ERROR;
    return audit_lp_feasible(M->lp);
}

int audit_model_build(model_t *M, audit_stats_t *st)
{
    audit_lp_status_t s = feasible_at(M, 1.0);
    if (s != AUDIT_LP_INFEASIBLE)
        return s == AUDIT_LP_OK ? 0 : -1;
    double lo = 1.0, hi = 2.0;
    while ((s = feasible_at(M, hi)) == AUDIT_LP_INFEASIBLE) {
        lo = hi;
        hi *= 4;
        if (hi > 1e4) {
            ++st->infeasible;
            return 1;
        }
    }
    if (s == AUDIT_LP_ERROR)
        return -1;
    for (int i = 0; i < 12; ++i) {
        double mid = sqrt(lo * hi);
        s = feasible_at(M, mid);
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
