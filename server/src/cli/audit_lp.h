/*
 * audit_lp — a small linear program over non-negative unknowns, for `klimaspejl audit`: columns with bounds, linear
 * relations (lo <= sum c_i x_i <= hi) and the interval [min, max] of a linear target over the feasible set. A thin
 * wrapper over GLPK's simplex that keeps the basis between targets (warm start), so many targets of one model are
 * cheap.
 */
#ifndef KLIMA_AUDIT_LP_H
#define KLIMA_AUDIT_LP_H

#include <stddef.h>

typedef struct audit_lp audit_lp_t;

/* Result of audit_lp_interval. */
typedef enum audit_lp_status {
    AUDIT_LP_OK = 0,         /* lo and hi are set (either may be -/+INFINITY when the LP is unbounded that way) */
    AUDIT_LP_INFEASIBLE = 1, /* no point satisfies the bounds and relations */
    AUDIT_LP_ERROR = -1,     /* the solver failed */
} audit_lp_status_t;

/* A new, empty model. Returns NULL on allocation failure. Free with audit_lp_free. */
audit_lp_t *audit_lp_new(void);
void audit_lp_free(audit_lp_t *lp);

/* Adds an unknown with lo <= x <= hi (hi may be INFINITY; lo may be -INFINITY). Returns its index (0-based), or -1 on
 * allocation failure. */
int audit_lp_var(audit_lp_t *lp, double lo, double hi);

/* Adds the relation lo <= sum coefs[i] * x[vars[i]] <= hi (lo == hi: an equation; either may be infinite). Repeated
 * variables are added up. name (copied; may be NULL) says where the relation comes from, for the report. Returns the
 * relation's index, or -1 on failure. */
int audit_lp_relation(audit_lp_t *lp, const char *name, size_t n, const int *vars, const double *coefs, double lo, double hi);

/* The names of the relations in which unknown v appears (at most max, deduplicated), for "how it was derived".
 * Returns how many were written to out; the strings belong to lp. */
size_t audit_lp_relations_of(const audit_lp_t *lp, int v, const char **out, size_t max);

/* The interval of the target sum coefs[i] * x[vars[i]] over the feasible set: *lo = its minimum, *hi = its maximum. */
audit_lp_status_t audit_lp_interval(audit_lp_t *lp, size_t n, const int *vars, const double *coefs, double *lo, double *hi);

/* The same, but the maximum is only computed when the minimum exceeds min_lo (else *hi = +INFINITY, not computed): an
 * attack whose target can be as low as 0 learns nothing relative, so half of the work is saved. */
audit_lp_status_t audit_lp_interval_from(audit_lp_t *lp, size_t n, const int *vars, const double *coefs, double min_lo, double *lo,
                                         double *hi);

/* Tells whether the model has a feasible point at all. */
audit_lp_status_t audit_lp_feasible(audit_lp_t *lp);

/* Number of unknowns and relations (for the statistics line). */
int audit_lp_nvars(const audit_lp_t *lp);
int audit_lp_nrelations(const audit_lp_t *lp);

#endif
