/*
 * http/metrics — a registry of counters, gauges and histograms rendered in the Prometheus text exposition format
 * (version 0.0.4). Families are described once at start-up; each label takes its values from a fixed table, so a series
 * is addressed by a small integer (its label value indices, row-major) and the storage is a flat array per worker.
 * Each worker writes only its own array (relaxed atomic loads and stores, no lock, no read-modify-write bus lock); the
 * renderer — on any thread — sums (or takes the maximum of) the workers' values as it reads them.
 */
#ifndef KLIMA_HTTP_METRICS_H
#define KLIMA_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "core/sbuf.h"

#define METRICS_MAX_LABELS 3
#define METRICS_MAX_BUCKETS 16

typedef struct metrics metrics_t;

typedef enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM } metrics_type_t;

/* How the workers' values of a gauge combine; counters and histograms always add up. */
typedef enum metrics_merge { METRICS_MERGE_SUM, METRICS_MERGE_MAX } metrics_merge_t;

/* A label and every value it can take; a series names a value by its index. values must outlive the registry. */
typedef struct metrics_label {
    const char *name;
    const char *const *values;
    size_t nvalues;
} metrics_label_t;

/* A family of series. name and help must outlive the registry. */
typedef struct metrics_family {
    const char *name; /* e.g. "klimaspejl_http_requests_total" (histograms: the base name, without _bucket) */
    const char *help;
    metrics_type_t type;
    metrics_merge_t merge; /* gauges only */
    /* Values are kept as integers in some unit (e.g. microseconds); scale converts them to the exposed unit (1e-6 for
     * seconds). 0 means 1: the value is exposed as an integer. */
    double scale;
    size_t nlabels;
    metrics_label_t labels[METRICS_MAX_LABELS];
    /* histograms: the upper bounds of the buckets, ascending, in the value unit; +Inf is implied */
    size_t nbuckets;
    uint64_t buckets[METRICS_MAX_BUCKETS];
    /* counters and histograms: 1 = render a series even when it is zero. Labelled families normally show only the
     * series that have been touched (a route table times every status would be thousands of zeros). */
    int show_zero;
} metrics_family_t;

/* A registry for nworkers workers (ids 0..nworkers-1). NULL when out of memory. */
metrics_t *metrics_create(unsigned nworkers);

/* Releases the registry; no worker may use it any more. */
void metrics_destroy(metrics_t *m);

/* Adds a family (copied) and its zeroed per-worker storage. Call before the workers start. Returns the family's id, or
 * -1 when out of memory or when the description is invalid (too many labels or buckets, a label without values,
 * unsorted buckets). */
int metrics_register(metrics_t *m, const metrics_family_t *f);

/* Called on worker `worker`'s thread only (each series of a worker has one writer). Out-of-range ids, workers or
 * series are ignored. */
void metrics_add(metrics_t *m, unsigned worker, int id, size_t series, uint64_t n);         /* counters (and gauges) */
void metrics_set(metrics_t *m, unsigned worker, int id, size_t series, int64_t value);      /* gauges, mirrored counters */
void metrics_observe(metrics_t *m, unsigned worker, int id, size_t series, uint64_t value); /* histograms */

/* Appends the exposition text of every family, in registration order, to out: `# HELP` and `# TYPE` lines, then one
 * line per series (`name{label="value",...} value`; histograms as cumulative `_bucket{...,le="..."}`, `_sum` and
 * `_count`). Label values escape backslash, double quote and newline; help text escapes backslash and newline. Safe
 * to call from any thread while workers write. Returns 0, or -1 when out->failed. */
int metrics_render(const metrics_t *m, sbuf_t *out);

#endif
