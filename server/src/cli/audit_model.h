/*
 * audit_model — what `klimaspejl audit` knows of one release of the published datasets, the relations between them,
 * and the attack: for each district-month (the linked cluster) one linear program whose unknowns are the true values
 * of the cells and whose constraints are the published values with their noise bounds and the documented formulas
 * that link the tables; then the interval [min, max] of every hidden cell, every group of hidden cells and every
 * difference between two releases that the p % rule protects. No I/O here: rows come in as (column, text) pairs, so
 * the unit tests build tiny releases by hand.
 */
#ifndef KLIMA_AUDIT_MODEL_H
#define KLIMA_AUDIT_MODEL_H

#include <stddef.h>

/* The household datasets the audit models (index = AUDIT_DS_*). */
enum { AUDIT_DS_HOURLY, AUDIT_DS_DAILY, AUDIT_DS_PEER, AUDIT_DS_WASTE, AUDIT_DS_MOBILITY, AUDIT_DS_FOOTPRINT, AUDIT_NDS };

/* Returns the AUDIT_DS_* index of a dataset id, or -1 for a dataset the audit does not model. */
int audit_ds_index(const char *dataset_id);
const char *audit_ds_id(int ds);

/* The key column of a modelled dataset's cells inside a district-month (which = 0), or its second key column (1:
 * occupant_band of the peer groups); NULL when there is none. */
const char *audit_ds_key_column(int ds, int which);

/* Tells whether the audit models the link "dataset is derived from source" (a derived_from entry of the catalog). */
int audit_link_modelled(const char *dataset, const char *source);

/* How the attacker bounds the noise of a published magnitude from public data (README "klimaspejl audit"). */
typedef enum audit_attacker {
    AUDIT_ATTACKER_JUSTIFIED, /* the scale quantity (largest contribution) is at most the cell's own total */
    AUDIT_ATTACKER_PLAUSIBLE, /* ... at most max_ratio times the cell's mean per household (published count) */
} audit_attacker_t;

/* The published noise parameters of one dataset (GET /v1/datasets/{id} "disclosure_control"). */
typedef struct audit_dc {
    int enabled;    /* 0: no noise (values exact up to their printed digits) */
    int existence;  /* 1: key combinations held by fewer than k households are not listed (a missing row is an unknown
                       with fewer than k households); 0: a missing row has no data (zero) */
    double count_d; /* |published - true| <= count_d for counts */
    double mag_d;   /* |published - true| <= mag_m * mag_d * scale for magnitudes */
    double mag_m;
    int k;        /* minimum households per cell */
    double p_pct; /* the p % rule's p (0: not published) */
} audit_dc_t;

typedef struct audit_options {
    double p_pct; /* the p of the p % rule (15) */
    audit_attacker_t attacker;
    double max_ratio;    /* plausible model: largest contribution <= max_ratio * mean (default 3) */
    double noise_factor; /* multiplies every published noise bound (1; < 1 models a far too weak protection) */
    int k_default;       /* k when the catalog does not give one (10) */
    int all_targets;     /* also list every target with a lower bound above 0 that was NOT narrowed (narrowed = 0),
                            to show how far the attacker reaches (audit --targets) */
} audit_options_t;

void audit_options_init(audit_options_t *o);

typedef struct audit_release audit_release_t;

/* A new, empty release. NULL on allocation failure. */
audit_release_t *audit_release_new(void);
void audit_release_free(audit_release_t *r);

/* Sets the noise parameters of a modelled dataset (default: no noise, the existence rule on, k 10). */
void audit_release_set_dc(audit_release_t *r, int ds, const audit_dc_t *dc);

/* Adds one published row of a modelled dataset: ncols (name, text) pairs as in the CSV download (empty text =
 * NULL). Returns 0, or -1 with a message in err (size errlen) when a needed column is missing or malformed. */
int audit_release_add_row(audit_release_t *r, int ds, size_t ncols, const char *const *names, const char *const *values, char *err,
                          size_t errlen);

/* Adds one hour of grid intensity (hour_utc and hour_dk as published, g CO2e per kWh). The grid's hours are also the
 * calendar of hours (and, through hour_dk, of local days) whose rows the existence rule may leave out; hour_dk may be
 * NULL (the hour is then not part of that calendar). */
int audit_release_add_grid(audit_release_t *r, const char *hour_utc, const char *hour_dk, double g_per_kwh);

/* Adds one value of the published vocabulary of a modelled dataset's key column (the Table Schema's constraints.enum):
 * which = 0 for the cell's key column (dwelling_type, fraction, mode, category), 1 for the second (occupant_band).
 * Under the existence rule every combination of the vocabulary that a district-month does not list is an unknown with
 * fewer than k households; without a vocabulary the audit falls back to the values listed anywhere. */
int audit_release_add_domain(audit_release_t *r, int ds, int which, const char *value);

/* Adds one emission factor as published (unit such as "g CO2e/kWh", "kg CO2e/kg"; valid_to may be NULL). */
int audit_release_add_factor(audit_release_t *r, const char *factor_id, const char *unit, double value, const char *valid_from,
                             const char *valid_to);

/* One finding. Strings belong to the finding list. */
typedef struct audit_finding {
    char kind[24]; /* cell, group, household, revision, existence, unmodelled */
    char dataset[64];
    char key[160];    /* "district=3 hour_utc=2025-10-08T02:00:00Z" */
    char measure[32]; /* column, or "" */
    double lo, hi, estimate;
    char how[400]; /* how it was derived */
    int narrowed;  /* 1: a finding (within +/- p %, or an existence disclosure); 0: a target listed for information
                      (audit_options_t.all_targets) */
} audit_finding_t;

typedef struct audit_findings {
    audit_finding_t *v;
    size_t n, cap;
} audit_findings_t;

/* Appends a finding (copied). Returns 0 or -1 on allocation failure. */
int audit_findings_add(audit_findings_t *f, const audit_finding_t *x);
void audit_findings_free(audit_findings_t *f);

/* Statistics of a run, for the closing line. */
typedef struct audit_stats {
    size_t clusters, lps, targets, vars, relations, infeasible;
    double calibrated_max; /* largest noise calibration factor applied to an infeasible cluster (1 = none) */
} audit_stats_t;

/* Runs the attack on release cur (and the differences against prev, which may be NULL) and appends the findings.
 * Returns 0, or -1 on a solver or allocation failure (message in err). */
int audit_run(audit_release_t *cur, audit_release_t *prev, const audit_options_t *opt, audit_findings_t *out, audit_stats_t *stats,
              char *err, size_t errlen);

#endif
