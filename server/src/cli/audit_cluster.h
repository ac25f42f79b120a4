/*
 * audit_cluster — the internals `klimaspejl audit`'s model shares between its three files: the release's tables as
 * clusters of cells (cli/audit_model.c: reading and completing a release), one cluster's linear program
 * (cli/audit_relations.c: unknowns, bounds and the documented relations) and the attack on it (cli/audit_attack.c).
 * Nothing outside those files includes this header; cli/audit_model.h is the interface.
 */
#ifndef KLIMA_AUDIT_CLUSTER_H
#define KLIMA_AUDIT_CLUSTER_H

#include <stddef.h>

#include "cli/audit_lp.h"
#include "cli/audit_model.h"

#define MAXM 3 /* measures per dataset */

/* A modelled dataset: how its rows map to cells of a cluster. */
typedef struct ds_def {
    const char *id;
    const char *sub_col;  /* the cell's key inside its cluster */
    const char *sub_col2; /* a second key column (peer groups), or NULL */
    const char *time_col; /* gives the local month (and, for hours, the local day) */
    int nm;
    const char *m[MAXM];
    const char *sibling_parent; /* what a group of hidden siblings sums to, for the report */
} ds_def_t;

/* The modelled datasets, by AUDIT_DS_* index (cli/audit_model.c). */
extern const ds_def_t audit_ds_defs[AUDIT_NDS];

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
    int sorted; /* cells in key order (set by audit_release_prepare; adding a row clears it) */
} table_t;

/* One district and one local month: every documented relation stays inside it. */
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

/* A list of key values (a published vocabulary). */
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

/* The model of one cluster. */
typedef struct model {
    audit_lp_t *lp;
    audit_release_t *r;
    cluster_t *c;
    const audit_options_t *opt;
    double scale; /* calibration factor on every bound (1 unless the cluster was infeasible) */
} model_t;

/* --- cli/audit_model.c ------------------------------------------------------------------------------------------ */

/* Makes room for one more element in the array *arr of n elements of size elem (capacity *cap, doubling from
 * first). Returns 0, or -1 on allocation failure (the array is kept). */
int audit_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first);

/* The cluster of (district, month), created when create is set and it is missing; NULL when missing (or out of
 * memory). Owned by r. */
cluster_t *audit_cluster_get(audit_release_t *r, int district, const char *month, int create);

/* The cell of t whose key is sub, or NULL: by binary search once the table is sorted (after audit_release_prepare),
 * by scanning before. */
cell_t *audit_table_find(table_t *t, const char *sub);

/* The footprint cell of a category ("electricity", ..., "total") of cluster c, or NULL. */
cell_t *audit_fp_cell(cluster_t *c, const char *category);

/* The published grid intensity of an hour (hour_utc as published), or fallback when the hour has none. The release
 * must have been prepared (audit_release_prepare). */
double audit_grid_g(audit_release_t *r, const char *hour, double fallback);

/* Sorts the grid hours and every table by key (hours in time order), and completes the key spaces of datasets under the
 * existence rule: every key of the published vocabulary (or the grid's calendar of hours and days, or listed by any
 * district) that a district-month lacks becomes an unlisted unknown with fewer than k households. Returns 0 or -1 (out
 * of memory). */
int audit_release_prepare(audit_release_t *r);

/* --- cli/audit_relations.c -------------------------------------------------------------------------------------- */

/* The relative noise bound r of a published magnitude, |P - x| <= r * x (plus rounding): noise_factor * m * D * scale,
 * the unpublished scale bounded by the cell's total (justified) or by max_ratio times its mean (plausible). */
double audit_magnitude_ratio(const model_t *M, int ds, const cell_t *x);

/* The bounds [lo, hi] an attacker can justify for the true value of a published magnitude of a cell. */
void audit_magnitude_bounds(const model_t *M, int ds, const cell_t *x, int m, double *lo, double *hi);

/* The minimum households per cell of dataset ds. */
int audit_dc_k(const model_t *M, int ds);

/* Builds M->c's model into M->lp (replacing any earlier one); when the published values contradict the noise bounds
 * (the noise is larger than assumed), the attacker widens every bound by the smallest factor that makes them
 * consistent, as an attacker who sees the contradiction would. Returns 0 (M->scale says the factor), 1 when no factor
 * up to 1e4 helps, -1 on failure. The caller frees M->lp. */
int audit_model_build(model_t *M, audit_stats_t *st);

#endif
