/*
 * http/metrics — flat per-worker arrays of 64-bit slots, one cache-line-aligned block per family and worker so that two
 * workers never write the same cache line.
 */
#include <stdlib.h>
#include <string.h>

#include "core/strutil.h"
#include "http/metrics.h"

#define SLOTS_PER_LINE (64 / sizeof(uint64_t))

typedef struct family {
    metrics_family_t def;
    size_t nseries;
    size_t per_series; /* slots per series: 1, or for histograms nbuckets + 1 (+Inf) + 1 (sum) */
    size_t stride;     /* slots per worker, rounded up to a cache line */
    uint64_t *data;    /* nworkers * stride slots */
} family_t;

struct metrics {
    unsigned nworkers;
    size_t nfamilies, cap;
    family_t *families;
};

metrics_t *metrics_create(unsigned nworkers)
{
    metrics_t *m;

    if (nworkers == 0 || (m = calloc(1, sizeof(*m))) == NULL)
        return NULL;
    m->nworkers = nworkers;
    return m;
}

/* duplicate: the create/destroy idiom every owner of memory here follows (destroy accepts NULL). */
void metrics_destroy(metrics_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nfamilies; ++i)
        free(m->families[i].data);
    free(m->families);
    free(m);
}

int metrics_register(metrics_t *m, const metrics_family_t *f)
{
    family_t *fam;
    size_t nseries = 1, per_series, stride, bytes;
    uint64_t *data;

    if (f->name == NULL || f->help == NULL || f->nlabels > METRICS_MAX_LABELS || f->nbuckets > METRICS_MAX_BUCKETS ||
        (f->type == METRICS_HISTOGRAM && f->nbuckets == 0))
        return -1;
    for (size_t i = 0; i < f->nlabels; ++i) {
        if (f->labels[i].name == NULL || f->labels[i].values == NULL || f->labels[i].nvalues == 0 ||
            nseries > SIZE_MAX / 64 / f->labels[i].nvalues)
            return -1;
        nseries *= f->labels[i].nvalues;
    }
    for (size_t i = 1; i < f->nbuckets; ++i) {
        if (f->buckets[i] <= f->buckets[i - 1])
            return -1;
    }
    per_series = f->type == METRICS_HISTOGRAM ? f->nbuckets + 2 : 1;
    stride = (nseries * per_series + SLOTS_PER_LINE - 1) / SLOTS_PER_LINE * SLOTS_PER_LINE;
    bytes = stride * sizeof(uint64_t) * m->nworkers;
    if (m->nfamilies == m->cap) {
        size_t cap = m->cap != 0 ? m->cap * 2 : 16;
        family_t *grown = realloc(m->families, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        m->families = grown;
        m->cap = cap;
    }
    if ((data = aligned_alloc(64, bytes)) == NULL)
        return -1;
    memset(data, 0, bytes);
    fam = &m->families[m->nfamilies];
    fam->def = *f;
    fam->nseries = nseries;
    fam->per_series = per_series;
    fam->stride = stride;
    fam->data = data;
    return (int)m->nfamilies++;
}

/* The first slot of series in worker's block, or NULL when out of range. */
static uint64_t *slot_of(metrics_t *m, unsigned worker, int id, size_t series)
{
    family_t *f;
    if (m == NULL || id < 0 || (size_t)id >= m->nfamilies || worker >= m->nworkers)
        return NULL;
    f = &m->families[id];
    if (series >= f->nseries)
        return NULL;
    return f->data + (size_t)worker * f->stride + series * f->per_series;
}

/* One writer per slot: a relaxed load and store is enough, and cheaper than a locked add. */
static inline void slot_add(uint64_t *p, uint64_t n)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

void metrics_add(metrics_t *m, unsigned worker, int id, size_t series, uint64_t n)
{
    uint64_t *p = slot_of(m, worker, id, series);
    if (p != NULL && m->families[id].def.type != METRICS_HISTOGRAM)
        slot_add(p, n);
}

void metrics_set(metrics_t *m, unsigned worker, int id, size_t series, int64_t value)
{
    uint64_t *p = slot_of(m, worker, id, series);
    if (p != NULL && m->families[id].def.type != METRICS_HISTOGRAM)
        __atomic_store_n(p, (uint64_t)value, __ATOMIC_RELAXED);
}

void metrics_observe(metrics_t *m, unsigned worker, int id, size_t series, uint64_t value)
{
    uint64_t *p = slot_of(m, worker, id, series);
    const family_t *f;
    size_t b = 0;

    if (p == NULL || (f = &m->families[id])->def.type != METRICS_HISTOGRAM)
        return;
    while (b < f->def.nbuckets && value > f->def.buckets[b])
        ++b;
    slot_add(p + b, 1);                       /* non-cumulative; b == nbuckets is +Inf */
    slot_add(p + f->def.nbuckets + 1, value); /* the sum */
}

/* The merged value of slot k of series across workers. */
static int64_t merged(const metrics_t *m, const family_t *f, size_t series, size_t k)
{
    int64_t v = 0;
    for (unsigned w = 0; w < m->nworkers; ++w) {
        int64_t x = (int64_t)__atomic_load_n(f->data + (size_t)w * f->stride + series * f->per_series + k, __ATOMIC_RELAXED);
        if (f->def.type == METRICS_GAUGE && f->def.merge == METRICS_MERGE_MAX)
            v = (w == 0 || x > v) ? x : v;
        else
            v += x;
    }
    return v;
}

/* --- rendering ------------------------------------------------------------------------------------------------------ */

static void put_escaped(sbuf_t *out, const char *s, int quote)
{
    const char *run = s;
    for (; *s != '\0'; ++s) {
        const char *rep = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : (quote && *s == '"') ? "\\\"" : NULL;
        if (rep == NULL)
            continue;
        sbuf_append(out, run, (size_t)(s - run));
        sbuf_puts(out, rep);
        run = s + 1;
    }
    sbuf_append(out, run, (size_t)(s - run));
}

/* An integer, or with scale as a fixed-point number with as many decimals as the unit needs (1e-6 -> 6). */
static void put_number(sbuf_t *out, const family_t *f, int64_t v)
{
    int decimals = 0;
    if (f->def.scale == 0) {
        sbuf_printf(out, "%lld", (long long)v);
        return;
    }
    for (double s = f->def.scale; s < 0.999999 && decimals < 12; s *= 10)
        ++decimals;
    sbuf_printf(out, "%.*f", decimals, (double)v * f->def.scale);
}

/* `{a="x",b="y"` for series s, plus `,` + extra when given; closes the brace. Nothing at all for no labels. */
static void put_labels(sbuf_t *out, const family_t *f, size_t s, const char *extra_name, const char *extra_value)
{
    unsigned idx[METRICS_MAX_LABELS];

    if (f->def.nlabels == 0 && extra_name == NULL)
        return;
    for (size_t i = f->def.nlabels; i-- > 0;) {
        idx[i] = (unsigned)(s % f->def.labels[i].nvalues);
        s /= f->def.labels[i].nvalues;
    }
    sbuf_putc(out, '{');
    for (size_t i = 0; i < f->def.nlabels; ++i) {
        sbuf_printf(out, "%s%s=\"", i > 0 ? "," : "", f->def.labels[i].name);
        put_escaped(out, f->def.labels[i].values[idx[i]], 1);
        sbuf_putc(out, '"');
    }
    if (extra_name != NULL) {
        sbuf_printf(out, "%s%s=\"", f->def.nlabels > 0 ? "," : "", extra_name);
        put_escaped(out, extra_value, 1);
        sbuf_putc(out, '"');
    }
    sbuf_putc(out, '}');
}

static void render_histogram_series(const metrics_t *m, const family_t *f, size_t s, sbuf_t *out)
{
    int64_t cumulative = 0;
    char le[32];

    for (size_t b = 0; b <= f->def.nbuckets; ++b) {
        cumulative += merged(m, f, s, b);
        if (b == f->def.nbuckets)
            memcpy(le, "+Inf", 5);
        else if (f->def.scale == 0)
            str_fmt(le, sizeof(le), "%llu", (unsigned long long)f->def.buckets[b]);
        else
            str_fmt(le, sizeof(le), "%.9g", (double)f->def.buckets[b] * f->def.scale);
        sbuf_printf(out, "%s_bucket", f->def.name);
        put_labels(out, f, s, "le", le);
        sbuf_printf(out, " %lld\n", (long long)cumulative);
    }
    sbuf_printf(out, "%s_sum", f->def.name);
    put_labels(out, f, s, NULL, NULL);
    sbuf_putc(out, ' ');
    put_number(out, f, merged(m, f, s, f->def.nbuckets + 1));
    sbuf_printf(out, "\n%s_count", f->def.name);
    put_labels(out, f, s, NULL, NULL);
    sbuf_printf(out, " %lld\n", (long long)cumulative);
}

int metrics_render(const metrics_t *m, sbuf_t *out)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};

    for (size_t i = 0; i < m->nfamilies; ++i) {
        const family_t *f = &m->families[i];
        int skip_zero = f->def.type != METRICS_GAUGE && f->def.nlabels > 0 && !f->def.show_zero;

        sbuf_printf(out, "# HELP %s ", f->def.name);
        put_escaped(out, f->def.help, 0);
        sbuf_printf(out, "\n# TYPE %s %s\n", f->def.name, type_names[f->def.type]);
        for (size_t s = 0; s < f->nseries; ++s) {
            if (f->def.type == METRICS_HISTOGRAM) {
                if (skip_zero) {
                    int64_t count = 0;
                    for (size_t b = 0; b <= f->def.nbuckets; ++b)
                        count += merged(m, f, s, b);
                    if (count == 0)
                        continue;
                }
                render_histogram_series(m, f, s, out);
                continue;
            }
            int64_t v = merged(m, f, s, 0);
            if (skip_zero && v == 0)
                continue;
            sbuf_puts(out, f->def.name);
            put_labels(out, f, s, NULL, NULL);
            sbuf_putc(out, ' ');
            put_number(out, f, v);
            sbuf_putc(out, '\n');
        }
    }
    return sbuf_failed(out) ? -1 : 0;
}
