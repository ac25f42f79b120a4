/*
 * audit_lp — GLPK behind a small interface (see audit_lp.h). Columns and rows go straight into a glp_prob; the
 * relations' names and entries are also kept here so the report can say which relations a target took part in.
 */
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/audit_lp.h"

typedef struct lp_row {
    char *name;
    size_t first, n; /* entries [first, first + n) of lp->ent_var */
} lp_row_t;

typedef struct lp_ent {
    int var;
    double coef;
} lp_ent_t;

static int ent_cmp(const void *a, const void *b)
{
    int x = ((const lp_ent_t *)a)->var, y = ((const lp_ent_t *)b)->var;
    return (x > y) - (x < y);
}

struct audit_lp {
    glp_prob *prob;
    lp_row_t *rows;
    size_t nrows, rows_cap;
    int *ent_var;
    size_t nent, ent_cap;
    int solved_once; /* a basis exists: warm start from it */
};

audit_lp_t *audit_lp_new(void)
{
    audit_lp_t *lp = calloc(1, sizeof(*lp));
    if (lp == NULL)
        return NULL;
    glp_term_out(GLP_OFF); /* GLPK's progress messages would interleave with the report */
    lp->prob = glp_create_prob();
    glp_set_obj_dir(lp->prob, GLP_MIN);
    return lp;
}

void audit_lp_free(audit_lp_t *lp)
{
    if (lp == NULL)
        return;
    glp_delete_prob(lp->prob);
    for (size_t i = 0; i < lp->nrows; ++i)
        free(lp->rows[i].name);
    free(lp->rows);
    free(lp->ent_var);
    free(lp);
}

/* GLPK's bound type for [lo, hi]. */
static int bound_type(double lo, double hi)
{
    int has_lo = isfinite(lo), has_hi = isfinite(hi);
    if (has_lo && has_hi)
        return lo == hi ? GLP_FX : GLP_DB;
    if (has_lo)
        return GLP_LO;
    if (has_hi)
        return GLP_UP;
    return GLP_FR;
}

/* Sets the bounds of unknown v. */
static void set_bounds(audit_lp_t *lp, int v, double lo, double hi)
{
    if (isfinite(lo) && isfinite(hi) && hi < lo) {
        /* inconsistent published bounds (possible only when the noise model is wrong): keep them as a point so that
         * the model reports itself infeasible through the relations rather than GLPK refusing the bounds */
        double mid = (lo + hi) / 2;
        lo = hi = mid;
    }
    glp_set_col_bnds(lp->prob, v + 1, bound_type(lo, hi), isfinite(lo) ? lo : 0.0, isfinite(hi) ? hi : 0.0);
}

int audit_lp_var(audit_lp_t *lp, double lo, double hi)
{
    int j = glp_add_cols(lp->prob, 1);
    set_bounds(lp, j - 1, lo, hi);
    return j - 1;
}

int audit_lp_relation(audit_lp_t *lp, const char *name, size_t n, const int *vars, const double *coefs, double lo, double hi)
{
    if (n == 0)
        return -1;
    if (lp->nrows == lp->rows_cap) {
        size_t cap = lp->rows_cap ? lp->rows_cap * 2 : 64;
        lp_row_t *r = realloc(lp->rows, cap * sizeof(*r));
        if (r == NULL)
            return -1;
        lp->rows = r;
        lp->rows_cap = cap;
    }
    if (lp->nent + n > lp->ent_cap) {
        size_t cap = lp->ent_cap ? lp->ent_cap : 256;
        while (cap < lp->nent + n)
            cap *= 2;
        int *e = realloc(lp->ent_var, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        lp->ent_var = e;
        lp->ent_cap = cap;
    }
    /* GLPK wants 1-based arrays without repeated columns: sort by column and merge repeats. */
    lp_ent_t *e = malloc(n * sizeof(*e));
    int *ind = malloc((n + 1) * sizeof(*ind));
    double *val = malloc((n + 1) * sizeof(*val));
    if (e == NULL || ind == NULL || val == NULL) {
        free(e);
        free(ind);
        free(val);
        return -1;
    }
    for (size_t i = 0; i < n; ++i) {
        e[i].var = vars[i];
        e[i].coef = coefs[i];
    }
    qsort(e, n, sizeof(*e), ent_cmp);
    int len = 0;
    for (size_t i = 0; i < n; ++i) {
        if (len > 0 && ind[len] == e[i].var + 1) {
            val[len] += e[i].coef;
        } else {
            ++len;
            ind[len] = e[i].var + 1;
            val[len] = e[i].coef;
        }
    }
    free(e);
    int i = glp_add_rows(lp->prob, 1);
    glp_set_mat_row(lp->prob, i, len, ind, val);
    glp_set_row_bnds(lp->prob, i, bound_type(lo, hi), isfinite(lo) ? lo : 0.0, isfinite(hi) ? hi : 0.0);
    lp_row_t *row = &lp->rows[lp->nrows++];
    row->name = name != NULL ? strdup(name) : NULL;
    row->first = lp->nent;
    row->n = (size_t)len;
    for (int j = 1; j <= len; ++j)
        lp->ent_var[lp->nent++] = ind[j] - 1;
    free(ind);
    free(val);
    lp->solved_once = 0;
    return i - 1;
}

size_t audit_lp_relations_of(const audit_lp_t *lp, int v, const char **out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < lp->nrows && k < max; ++i) {
        const lp_row_t *r = &lp->rows[i];
        if (r->name == NULL)
            continue;
        int in = 0;
        for (size_t j = 0; j < r->n && !in; ++j)
            in = lp->ent_var[r->first + j] == v;
        if (!in)
            continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; ++j)
            dup = strcmp(out[j], r->name) == 0;
        if (!dup)
            out[k++] = r->name;
    }
    return k;
}

/* Runs the simplex from the current basis (a standard one first, or after a failure). Returns the GLPK status of the
 * solution, or -1 when the solver failed twice. */
static int solve(audit_lp_t *lp)
{
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.meth = GLP_DUALP;
    if (!lp->solved_once) {
        glp_scale_prob(lp->prob, GLP_SF_AUTO);
        glp_adv_basis(lp->prob, 0);
    }
    int rc = glp_simplex(lp->prob, &parm);
    if (rc != 0) {
        glp_std_basis(lp->prob);
        rc = glp_simplex(lp->prob, &parm);
        if (rc != 0)
            return -1;
    }
    lp->solved_once = 1;
    return glp_get_status(lp->prob);
}

audit_lp_status_t audit_lp_feasible(audit_lp_t *lp)
{
    int ncols = glp_get_num_cols(lp->prob);
    for (int j = 1; j <= ncols; ++j)
        glp_set_obj_coef(lp->prob, j, 0.0);
    int st = solve(lp);
    if (st < 0)
        return AUDIT_LP_ERROR;
    if (st == GLP_NOFEAS || st == GLP_INFEAS)
        return AUDIT_LP_INFEASIBLE;
    return st == GLP_OPT || st == GLP_FEAS ? AUDIT_LP_OK : AUDIT_LP_ERROR;
}

/* Optimizes the target in direction dir; *out is the optimum or an infinity when unbounded. */
static audit_lp_status_t optimize(audit_lp_t *lp, int dir, double *out)
{
    glp_set_obj_dir(lp->prob, dir);
    int st = solve(lp);
    if (st < 0)
        return AUDIT_LP_ERROR;
    if (st == GLP_UNBND) {
        *out = dir == GLP_MAX ? INFINITY : -INFINITY;
        return AUDIT_LP_OK;
    }
    if (st == GLP_NOFEAS || st == GLP_INFEAS)
        return AUDIT_LP_INFEASIBLE;
    if (st != GLP_OPT)
        return AUDIT_LP_ERROR;
    *out = glp_get_obj_val(lp->prob);
    return AUDIT_LP_OK;
}

audit_lp_status_t audit_lp_interval(audit_lp_t *lp, size_t n, const int *vars, const double *coefs, double *lo, double *hi)
{
    return audit_lp_interval_from(lp, n, vars, coefs, -INFINITY, lo, hi);
}

audit_lp_status_t audit_lp_interval_from(audit_lp_t *lp, size_t n, const int *vars, const double *coefs, double min_lo, double *lo,
                                         double *hi)
{
    for (size_t i = 0; i < n; ++i)
        glp_set_obj_coef(lp->prob, vars[i] + 1, glp_get_obj_coef(lp->prob, vars[i] + 1) + coefs[i]);
    audit_lp_status_t st = optimize(lp, GLP_MIN, lo);
    if (st == AUDIT_LP_OK) {
        if (*lo > min_lo)
            st = optimize(lp, GLP_MAX, hi);
        else
            *hi = INFINITY;
    }
    for (size_t i = 0; i < n; ++i)
        glp_set_obj_coef(lp->prob, vars[i] + 1, 0.0);
    return st;
}

int audit_lp_nvars(const audit_lp_t *lp)
{
    return glp_get_num_cols(lp->prob);
}

int audit_lp_nrelations(const audit_lp_t *lp)
{
    return glp_get_num_rows(lp->prob);
}
