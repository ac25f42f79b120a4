/*
 * audit_attack — the attack on each district-month's linear program and on the differences of two releases: the
 * interval of every hidden cell, of every group of hidden siblings with fewer than k households and of every change of
 * fewer than k households between releases, reported when the p % rule is broken (see audit_model.h, README.md
 * "klimaspejl audit").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_cluster.h"
#include "core/strutil.h"
#include "cli/audit_model.h"

#define HOW_MAX 12 /* relation names listed per finding */

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
    const ds_def_t *d = &audit_ds_defs[ds];
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
    str_fmt(f.kind, sizeof(f.kind), "%s", kind);
    str_fmt(f.dataset, sizeof(f.dataset), "%s", audit_ds_id(ds));
    str_fmt(f.key, sizeof(f.key), "%s", key);
    str_fmt(f.measure, sizeof(f.measure), "%s", measure);
    f.lo = lo;
    f.hi = hi;
    f.estimate = (lo + hi) / 2;
    str_fmt(f.how, sizeof(f.how), "%s", how);
    return audit_findings_add(out, &f);
}

/* Is an attacked target listed: within +/- p % (a finding), or, with all_targets, bounded away from 0 (a target
 * listed for information). */
static int listed_target(const audit_options_t *opt, double lo, double hi)
{
    return within_p(lo, hi, opt->p_pct) || (opt->all_targets && lo > 0 && isfinite(hi));
}

/* Reports an attacked target: a finding when its interval is within +/- p %, else (with all_targets, and a lower bound
 * above 0) a target listed for information. Returns 0 or -1 on allocation failure. */
static int report_target(audit_findings_t *out, const audit_options_t *opt, const char *kind, int ds, const char *key,
                         const char *measure, double lo, double hi, const char *how)
{
    if (!listed_target(opt, lo, hi))
        return 0;
    if (report(out, kind, ds, key, measure, lo, hi, how) < 0)
        return -1;
    out->v[out->n - 1].narrowed = within_p(lo, hi, opt->p_pct);
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
        return audit_table_find(&c->t[AUDIT_DS_DAILY], day);
    case AUDIT_DS_PEER:
        return audit_fp_cell(c, "electricity");
    case AUDIT_DS_WASTE:
        return audit_fp_cell(c, "waste");
    case AUDIT_DS_MOBILITY:
        return audit_fp_cell(c, "mobility");
    case AUDIT_DS_FOOTPRINT:
        return audit_fp_cell(c, "total");
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
    if (cb != 0 || b >= audit_dc_k(M, ds) - 1e-6) {
        rc = cb < 0 ? -1 : 0;
        goto done;
    }
    for (int m = 0; m < audit_ds_defs[ds].nm; ++m) {
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
        if (s != AUDIT_LP_OK || !listed_target(M->opt, lo, hi))
            continue;
        size_t len =
            (size_t)snprintf(key, sizeof(key), "district=%d month=%s %s=", c->district, c->month, audit_ds_defs[ds].sub_col);
        for (size_t j = 0; j < nmem && len < sizeof(key); ++j)
            len += (size_t)snprintf(key + len, sizeof(key) - len, "%s%s", j ? "+" : "", t->c[members[j]].sub);
        char prefix[96];
        snprintf(prefix, sizeof(prefix), "%zu hidden cells of at most %.0f households, from: ", nmem, floor(b + 1e-6));
        how_text(M, mv, nmem, prefix, how, sizeof(how));
        if (report_target(out, M->opt, "group", ds, key, audit_ds_defs[ds].m[m], lo, hi, how) < 0) {
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

/* A district-month whose total over all its households is suppressed, yet listed: its rows disclose that the
 * district has households (and when) though fewer than k. Returns 0 or -1 on allocation failure. */
static int attack_total_existence(cluster_t *c, audit_findings_t *out)
{
    char key[160], how[400];
    cell_t *ft = audit_fp_cell(c, "total");
    if (ft == NULL || !ft->listed || !ft->suppressed)
        return 0;
    size_t listed = 0;
    for (int ds = 0; ds < AUDIT_NDS; ++ds)
        for (size_t i = 0; i < c->t[ds].n; ++i)
            listed += c->t[ds].c[i].listed != 0;
    snprintf(key, sizeof(key), "district=%d month=%s", c->district, c->month);
    snprintf(how, sizeof(how),
             "the district-month's footprint total (all its households) is suppressed, yet %zu rows of it are "
             "listed: fewer than k households (or two dominating), whose existence and active hours are published",
             listed);
    return report(out, "existence", AUDIT_DS_FOOTPRINT, key, "", 0, 0, how);
}

/* Attacks one cluster: every hidden cell, every group of hidden siblings with fewer than k households, and every
 * listed hidden row whose household count is provably below k. */
static int attack_cluster(model_t *M, audit_findings_t *out, audit_stats_t *st)
{
    cluster_t *c = M->c;
    char key[160], how[400];
    double one = 1.0;
    cell_t *ft = audit_fp_cell(c, "total");
    if (attack_total_existence(c, out) < 0)
        return -1;
    for (int ds = 0; ds < AUDIT_NDS; ++ds) {
        table_t *t = &c->t[ds];
        for (size_t i = 0; i < t->n; ++i) {
            cell_t *x = &t->c[i];
            if (!hidden(x))
                continue;
            cell_key(key, sizeof(key), c, ds, x);
            for (int m = 0; m < audit_ds_defs[ds].nm; ++m) {
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
                if (listed_target(M->opt, lo, hi)) {
                    how_text(M, &x->var[m], 1,
                             x->listed ? "suppressed cell recovered from: " : "unlisted cell recovered from: ", how, sizeof(how));
                    if (report_target(out, M->opt, "cell", ds, key, audit_ds_defs[ds].m[m], lo, hi, how) < 0)
                        return -1;
                }
            }
            /* a listed suppressed row of a monthly table whose households provably number fewer than k */
            if (x->listed && ds >= AUDIT_DS_PEER && !(ds == AUDIT_DS_FOOTPRINT && x == ft)) {
                double b;
                int rc = count_bound(M, &x->nvar, 1, -1, &b, st);
                if (rc < 0)
                    return -1;
                if (rc == 0 && b < audit_dc_k(M, ds) - 1e-6) {
                    snprintf(how, sizeof(how),
                             "listed although its households number at most %.0f (< k = %d), from the household "
                             "counts of linked cells",
                             floor(b + 1e-6), audit_dc_k(M, ds));
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
        cluster_t *c1 = audit_cluster_get(prev, c2->district, c2->month, 0);
        if (c1 == NULL)
            continue;
        for (int ds = 0; ds < AUDIT_NDS; ++ds) {
            table_t *t2 = &c2->t[ds];
            int k = cur->dc[ds].k > 0 ? cur->dc[ds].k : opt->k_default;
            for (size_t i = 0; i < t2->n; ++i) {
                cell_t *x2 = &t2->c[i];
                if (!x2->listed || x2->suppressed || !x2->has_n)
                    continue;
                cell_t *x1 = audit_table_find(&c1->t[ds], x2->sub);
                if (x1 == NULL || !x1->listed || x1->suppressed || !x1->has_n)
                    continue;
                double dn = x2->n - x1->n;
                if (fabs(dn) >= k)
                    continue;
                for (int m = 0; m < audit_ds_defs[ds].nm; ++m) {
                    if (!x1->has_v[m] || !x2->has_v[m])
                        continue;
                    if (x1->v[m] == x2->v[m])
                        continue;
                    double lo1, hi1, lo, hi;
                    M1.c = c1;
                    M2.c = c2;
                    audit_magnitude_bounds(&M1, ds, x1, m, &lo1, &hi1);
                    const audit_dc_t *dc2 = &cur->dc[ds];
                    double c = dc2->enabled ? opt->noise_factor * dc2->mag_m * dc2->mag_d : 0.0;
                    difference_interval(lo1, hi1, x2->v[m], x2->tol[m], audit_magnitude_ratio(&M2, ds, x2), c, &lo, &hi);
                    ++st->targets;
                    if (dn == 0 && lo <= 0 && hi >= 0)
                        continue;
                    if (!listed_target(opt, lo, hi))
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
                    if (report_target(out, opt, dn != 0 ? "household" : "revision", ds, key, audit_ds_defs[ds].m[m], lo, hi, how) <
                        0)
                        return -1;
                }
            }
        }
    }
    return 0;
}

int audit_run(audit_release_t *cur, audit_release_t *prev, const audit_options_t *opt, audit_findings_t *out, audit_stats_t *stats,
              char *err, size_t errlen)
{
    memset(stats, 0, sizeof(*stats));
    stats->calibrated_max = 1.0;
    if (audit_release_prepare(cur) < 0 || (prev != NULL && audit_release_prepare(prev) < 0)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    model_t M = {.r = cur, .opt = opt, .scale = 1.0};
    for (size_t ci = 0; ci < cur->ncl; ++ci) {
        M.c = &cur->cl[ci];
        int rc = audit_model_build(&M, stats);
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
