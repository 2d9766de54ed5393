/*
 * The compiled fast paths of modelyard.drift: bin counting, sorting, the KS and Wasserstein
 * distances of many sorted windows against one reference, and the exact KS p-value for unequal
 * sizes. All are optional: the NumPy implementations (_binning.py, _monitor_counts.py,
 * _ks_pvalue.py) give the same results (the same integers; floating-point values to rounding)
 * and are used when this module was not built.
 *
 * count_below(values, edges, out) reads a (rows, width) float64 array and, for every column c,
 * adds to out[k, c] the number of values strictly below edges[k, c] (k < n_edges), then to the
 * next three rows of out the numbers of NaN, -inf and +inf values. NumPy needs one comparison
 * pass over the data per edge; here a block of rows is compared with every edge while it is in
 * the cache, eight columns at a time with their counters in vector registers. The comparisons
 * are the IEEE comparisons NumPy makes, so the counts are identical. With transposed=True the
 * values are given column by column (a Fortran-ordered array, transposed), and each column is
 * read once against every edge.
 *
 * sort_rows(values) sorts each row of a 2-D float64 array in place, NaN last, with a radix sort
 * on keys whose unsigned order is the numeric order: about 3.5 times as fast as NumPy's sort on
 * rows of 10,000 values or more. Sorted arrays of numbers are unique, so the result equals
 * NumPy's (-0.0 and 0.0, which compare equal, may come in either order in both).
 *
 * segment_distances(reference, current, centre, offsets, numerator, w1) computes, for every
 * sorted segment of current, the KS numerator n m D and the Wasserstein-1 distance against the
 * sorted reference, by the formulas of _monitor_counts._segments; all segments walk the
 * reference together, a block at a time, so that it is read from memory about once.
 *
 * ks_exact_unequal(m, n, numerator, out) sums the first exits of lattice paths from the band, as
 * _ks_pvalue._exact_unequal does row by row in NumPy, here cell by cell.
 *
 * The GIL is released while working: callers run separate rows on separate threads. Buffers are
 * taken through the buffer protocol, so building needs no NumPy headers.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* Several instruction sets are compiled and the best one is chosen when the module loads. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MULTIVERSION
#endif

/* Columns counted together: eight doubles, one 512-bit vector (two or four narrower ones). */
#define STRIP 8
/* Most edges compared in one pass over a block of rows; their counters stay in registers. */
#define MAX_GROUP 12
/* One function per group size, from 1 to MAX_GROUP edges. */
#define DEFINE_GROUPS(define)                                                                  \
    define(1) define(2) define(3) define(4) define(5) define(6) define(7) define(8) define(9)  \
        define(10) define(11) define(12)
/* Bytes of rows in one block: a block is read from memory once, then from the cache. */
#define BLOCK_BYTES (256 * 1024)

typedef double vdouble __attribute__((vector_size(STRIP * sizeof(double))));
typedef int64_t vint __attribute__((vector_size(STRIP * sizeof(int64_t))));

typedef struct {
    const double *values;
    Py_ssize_t rows, width;
    const double *edges; /* (n_edges, width) */
    Py_ssize_t n_edges;
    int64_t *out; /* (n_edges + 3, width): below each edge, then NaN, -inf, +inf */
} Task;

static inline __attribute__((always_inline)) vdouble load(const double *p)
{
    vdouble v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void add_to(int64_t *p, vint v)
{
    vint old;
    memcpy(&old, p, sizeof old);
    old += v;
    memcpy(p, &old, sizeof old);
}

/* Count, for the STRIP columns starting at `column` and rows [first, last), the values below the
 * G edges starting at `edge`. G is a constant in each expansion, so the loops unroll and the
 * counters live in registers. A vector comparison gives -1 where true, hence the subtraction. */
#define DEFINE_GROUP(G)                                                                          \
    static inline __attribute__((always_inline)) void group_##G(                                 \
        const Task *t, Py_ssize_t column, Py_ssize_t first, Py_ssize_t last, Py_ssize_t edge)    \
    {                                                                                            \
        vint acc[G];                                                                             \
        vdouble cut[G];                                                                          \
        for (int k = 0; k < G; k++) {                                                            \
            acc[k] = (vint){0};                                                                  \
            cut[k] = load(t->edges + (edge + k) * t->width + column);                           \
        }                                                                                        \
        const double *x = t->values + first * t->width + column;                                 \
        for (Py_ssize_t r = first; r < last; r++, x += t->width) {                               \
            const vdouble v = load(x);                                                           \
            for (int k = 0; k < G; k++)                                                          \
                acc[k] -= (vint)(v < cut[k]);                                                    \
        }                                                                                        \
        for (int k = 0; k < G; k++)                                                              \
            add_to(t->out + (edge + k) * t->width + column, acc[k]);                             \
    }

DEFINE_GROUPS(DEFINE_GROUP)

/* Call name_G(...) for the G of a run-time group size (1 to MAX_GROUP). */
#define CALL_GROUP(name, group, ...)                                                           \
    switch (group) {                                                                           \
    case 1: name##_1(__VA_ARGS__); break;                                                      \
    case 2: name##_2(__VA_ARGS__); break;                                                      \
    case 3: name##_3(__VA_ARGS__); break;                                                      \
    case 4: name##_4(__VA_ARGS__); break;                                                      \
    case 5: name##_5(__VA_ARGS__); break;                                                      \
    case 6: name##_6(__VA_ARGS__); break;                                                      \
    case 7: name##_7(__VA_ARGS__); break;                                                      \
    case 8: name##_8(__VA_ARGS__); break;                                                      \
    case 9: name##_9(__VA_ARGS__); break;                                                      \
    case 10: name##_10(__VA_ARGS__); break;                                                    \
    case 11: name##_11(__VA_ARGS__); break;                                                    \
    default: name##_12(__VA_ARGS__); break;                                                    \
    }

/* Whether the STRIP-aligned columns of rows [first, last) are all finite. x * 0 is 0 for a
 * finite x and NaN otherwise, so the sums stay 0 exactly when every value is finite. The pass reads
 * the block row after row, which also brings it into the cache for the strip passes. */
static inline __attribute__((always_inline)) int strips_finite(
    const Task *t, Py_ssize_t strips, Py_ssize_t first, Py_ssize_t last)
{
    vdouble sum[4] = {{0}, {0}, {0}, {0}};
    for (Py_ssize_t r = first; r < last; r++) {
        const double *x = t->values + r * t->width;
        Py_ssize_t c = 0;
        for (; c + 4 * STRIP <= strips; c += 4 * STRIP)
            for (int u = 0; u < 4; u++)
                sum[u] += load(x + c + u * STRIP) * 0.0;
        for (; c < strips; c += STRIP)
            sum[0] += load(x + c) * 0.0;
    }
    const vdouble total = sum[0] + sum[1] + sum[2] + sum[3];
    for (int j = 0; j < STRIP; j++)
        if (total[j] != 0.0)
            return 0;
    return 1;
}

/* The NaN, -inf and +inf values of columns [begin, end) in rows [first, last). */
static inline __attribute__((always_inline)) void count_special(
    const Task *t, Py_ssize_t begin, Py_ssize_t end, Py_ssize_t first, Py_ssize_t last)
{
    int64_t *nan = t->out + t->n_edges * t->width, *neg = nan + t->width, *pos = neg + t->width;
    for (Py_ssize_t r = first; r < last; r++) {
        const double *x = t->values + r * t->width;
        for (Py_ssize_t c = begin; c < end; c++) {
            nan[c] += x[c] != x[c];
            neg[c] += x[c] == -INFINITY;
            pos[c] += x[c] == INFINITY;
        }
    }
}

/* Columns [begin, end) of rows [first, last), one value at a time: the columns left over when
 * the width is not a multiple of STRIP. */
static inline __attribute__((always_inline)) void count_scalar(
    const Task *t, Py_ssize_t begin, Py_ssize_t end, Py_ssize_t first, Py_ssize_t last)
{
    for (Py_ssize_t r = first; r < last; r++) {
        const double *x = t->values + r * t->width;
        for (Py_ssize_t c = begin; c < end; c++)
            for (Py_ssize_t k = 0; k < t->n_edges; k++)
                t->out[k * t->width + c] += x[c] < t->edges[k * t->width + c];
    }
    count_special(t, begin, end, first, last);
}

MULTIVERSION
static void count_block(const Task *t, Py_ssize_t first, Py_ssize_t last)
{
    const Py_ssize_t strips = t->width / STRIP * STRIP;
    if (!strips_finite(t, strips, first, last))
        count_special(t, 0, strips, first, last);
    count_scalar(t, strips, t->width, first, last);
    /* Edges split into passes of equal size, each at most MAX_GROUP. */
    const Py_ssize_t passes = (t->n_edges + MAX_GROUP - 1) / MAX_GROUP;
    for (Py_ssize_t column = 0; column < strips; column += STRIP) {
        Py_ssize_t edge = 0;
        for (Py_ssize_t pass = 0; pass < passes; pass++) {
            const Py_ssize_t group = (t->n_edges - edge) / (passes - pass);
            CALL_GROUP(group, group, t, column, first, last, edge);
            edge += group;
        }
    }
}

/* Column-major data (the transpose of a Fortran-ordered array): row c of `values` holds the
 * `rows` values of column c. Count them against the G edges starting at `edge`, eight values at a
 * time, and add the finiteness test of strips_finite into `finite`. */
#define DEFINE_COLUMN_GROUP(G)                                                                  \
    static inline __attribute__((always_inline)) void column_group_##G(                         \
        const Task *t, Py_ssize_t column, Py_ssize_t edge, vdouble *finite)                    \
    {                                                                                           \
        const double *x = t->values + column * t->rows;                                         \
        vint acc[G];                                                                            \
        vdouble cut[G], zeros = {0};                                                            \
        for (int k = 0; k < G; k++) {                                                           \
            acc[k] = (vint){0};                                                                 \
            cut[k] = zeros + t->edges[(edge + k) * t->width + column];                          \
        }                                                                                       \
        Py_ssize_t r = 0;                                                                       \
        for (; r + STRIP <= t->rows; r += STRIP) {                                              \
            const vdouble v = load(x + r);                                                      \
            zeros += v * 0.0;                                                                   \
            for (int k = 0; k < G; k++)                                                         \
                acc[k] -= (vint)(v < cut[k]);                                                   \
        }                                                                                       \
        for (int k = 0; k < G; k++) {                                                           \
            int64_t total = 0;                                                                  \
            for (int j = 0; j < STRIP; j++)                                                     \
                total += acc[k][j];                                                             \
            for (Py_ssize_t tail = r; tail < t->rows; tail++)                                   \
                total += x[tail] < cut[k][0];                                                   \
            t->out[(edge + k) * t->width + column] += total;                                    \
        }                                                                                       \
        for (Py_ssize_t tail = r; tail < t->rows; tail++)                                       \
            zeros[0] += x[tail] * 0.0;                                                          \
        *finite += zeros;                                                                       \
    }

DEFINE_GROUPS(DEFINE_COLUMN_GROUP)

MULTIVERSION
static void count_columns(const Task *t)
{
    const Py_ssize_t passes = (t->n_edges + MAX_GROUP - 1) / MAX_GROUP;
    int64_t *nan = t->out + t->n_edges * t->width, *neg = nan + t->width, *pos = neg + t->width;
    for (Py_ssize_t column = 0; column < t->width; column++) {
        vdouble finite = {0};
        Py_ssize_t edge = 0;
        for (Py_ssize_t pass = 0; pass < passes; pass++) {
            const Py_ssize_t group = (t->n_edges - edge) / (passes - pass);
            CALL_GROUP(column_group, group, t, column, edge, &finite);
            edge += group;
        }
        int all_finite = passes > 0;
        for (int j = 0; j < STRIP; j++)
            all_finite &= finite[j] == 0.0;
        if (all_finite)
            continue;
        const double *x = t->values + column * t->rows;
        for (Py_ssize_t r = 0; r < t->rows; r++) {
            nan[column] += x[r] != x[r];
            neg[column] += x[r] == -INFINITY;
            pos[column] += x[r] == INFINITY;
        }
    }
}

static void count_all(const Task *task)
{
    Py_ssize_t block = BLOCK_BYTES / (8 * (task->width > 0 ? task->width : 1));
    if (block < 16)
        block = 16;
    for (Py_ssize_t first = 0; first < task->rows; first += block) {
        const Py_ssize_t last = task->rows - first < block ? task->rows : first + block;
        count_block(task, first, last);
    }
}

static PyObject *count_below(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *values_obj, *edges_obj, *out_obj;
    int transposed = 0;
    if (!PyArg_ParseTuple(args, "OOO|p:count_below", &values_obj, &edges_obj, &out_obj,
                          &transposed)) {
        return NULL;
    }
    Py_buffer values, edges, out;
    const int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    if (PyObject_GetBuffer(values_obj, &values, flags) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(edges_obj, &edges, flags) < 0) {
        PyBuffer_Release(&values);
        return NULL;
    }
    if (PyObject_GetBuffer(out_obj, &out, flags | PyBUF_WRITABLE) < 0) {
        PyBuffer_Release(&values);
        PyBuffer_Release(&edges);
        return NULL;
    }
    PyObject *result = NULL;
    if (values.ndim != 2 || edges.ndim != 2 || out.ndim != 2 || values.itemsize != 8 ||
        edges.itemsize != 8 || out.itemsize != 8 || strcmp(values.format, "d") != 0 ||
        strcmp(edges.format, "d") != 0 ||
        (strcmp(out.format, "q") != 0 && strcmp(out.format, "l") != 0)) {
        PyErr_SetString(PyExc_TypeError,
                        "count_below takes 2-D float64 values and edges and a 2-D int64 out");
        goto done;
    }
    /* Transposed: values is (width, rows), one column of the data per row. */
    const Py_ssize_t rows = values.shape[transposed ? 1 : 0];
    const Py_ssize_t width = values.shape[transposed ? 0 : 1];
    const Py_ssize_t n_edges = edges.shape[0];
    if (edges.shape[1] != width || out.shape[0] != n_edges + 3 || out.shape[1] != width) {
        PyErr_SetString(PyExc_ValueError,
                        "count_below: edges must be (n_edges, width) and out (n_edges + 3, width)");
        goto done;
    }
    const Task task = {values.buf, rows, width, edges.buf, n_edges, out.buf};
    Py_BEGIN_ALLOW_THREADS
    if (transposed)
        count_columns(&task);
    else
        count_all(&task);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&values);
    PyBuffer_Release(&edges);
    PyBuffer_Release(&out);
    return result;
}

/* ---- Sorting: a least-significant-digit radix sort of float64 keys, NaN last. ---- */

/* A key whose unsigned order is the numeric order of the doubles; every NaN maps to the largest
 * key, so NaN sorts last, as in NumPy. */
static inline uint64_t sort_key(double x)
{
    if (x != x)
        return UINT64_MAX;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits >> 63 ? ~bits : bits | (UINT64_C(1) << 63);
}

static inline double from_key(uint64_t key)
{
    if (key == UINT64_MAX)
        return NAN;
    const uint64_t bits = key >> 63 ? key & ~(UINT64_C(1) << 63) : ~key;
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* Digits of 11 bits (six passes over a 64-bit key) while the arrays fit in the caches; of 8 bits
 * (eight passes, but fewer places written at a time) for longer rows. */
#define MAX_RADIX_SIZE (1 << 11)
#define MAX_RADIX_PASSES 8
#define WIDE_DIGITS_UP_TO 262144

/* Sort values[0 .. n) in place, with two scratch arrays of n keys. A pass where every key has
 * the same digit is skipped. `counts` is scratch of MAX_RADIX_PASSES * MAX_RADIX_SIZE counters. */
static void radix_sort(double *values, uint64_t *keys, uint64_t *spare, Py_ssize_t n,
                       Py_ssize_t *counts)
{
    const int bits = n <= WIDE_DIGITS_UP_TO ? 11 : 8;
    const int passes = (64 + bits - 1) / bits, size = 1 << bits;
    const uint64_t mask = (uint64_t)size - 1;
    memset(counts, 0, (size_t)passes * (size_t)size * sizeof *counts);
    for (Py_ssize_t i = 0; i < n; i++) {
        const uint64_t key = sort_key(values[i]);
        keys[i] = key;
        for (int d = 0; d < passes; d++)
            counts[d * size + ((key >> (bits * d)) & mask)]++;
    }
    uint64_t *source = keys, *target = spare;
    for (int d = 0; d < passes; d++) {
        const int shift = bits * d;
        Py_ssize_t *offset = counts + d * size;
        if (offset[(source[0] >> shift) & mask] == n)
            continue;
        Py_ssize_t running = 0;
        for (int b = 0; b < size; b++) {
            const Py_ssize_t count = offset[b];
            offset[b] = running;
            running += count;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            const uint64_t key = source[i];
            target[offset[(key >> shift) & mask]++] = key;
        }
        uint64_t *swap = source;
        source = target;
        target = swap;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        values[i] = from_key(source[i]);
}

static PyObject *sort_rows(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *values_obj;
    if (!PyArg_ParseTuple(args, "O:sort_rows", &values_obj)) {
        return NULL;
    }
    Py_buffer values;
    if (PyObject_GetBuffer(values_obj, &values,
                           PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    PyObject *result = NULL;
    if (values.ndim != 2 || values.itemsize != 8 || strcmp(values.format, "d") != 0) {
        PyErr_SetString(PyExc_TypeError, "sort_rows takes a writable 2-D float64 array");
        goto done;
    }
    const Py_ssize_t rows = values.shape[0], length = values.shape[1];
    uint64_t *scratch = PyMem_RawMalloc(2 * (size_t)(length > 0 ? length : 1) * sizeof(uint64_t));
    Py_ssize_t *counts = PyMem_RawMalloc(MAX_RADIX_PASSES * MAX_RADIX_SIZE * sizeof(Py_ssize_t));
    if (scratch == NULL || counts == NULL) {
        PyMem_RawFree(scratch);
        PyMem_RawFree(counts);
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < rows && length > 1; r++)
        radix_sort((double *)values.buf + r * length, scratch, scratch + length, length, counts);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(scratch);
    PyMem_RawFree(counts);
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&values);
    return result;
}

/* ---- Distances of sorted window segments against one sorted reference. ---- */

/* A reference value (centred) and the sum of the values before it. */
typedef struct {
    double value, sum;
} Pair;

/* First index in ref[lo .. hi) whose value is > y, or hi: a binary search without branches
 * on the data (they would be mispredicted half the time). */
static inline Py_ssize_t upper_within(const Pair *ref, Py_ssize_t lo, Py_ssize_t hi, double y)
{
    const Pair *base = ref + lo;
    Py_ssize_t length = hi - lo;
    while (length > 1) {
        const Py_ssize_t half = length / 2;
        base += half * (Py_ssize_t)(base[half - 1].value <= y);
        length -= half;
    }
    return (base - ref) + (length == 1 && base->value <= y);
}

/* First index in ref[from .. hi) whose value is > y, or hi (ref[from - 1] <= y): galloping, so
 * that it costs the logarithm of the distance moved. */
static inline Py_ssize_t upper_from(const Pair *ref, Py_ssize_t from, Py_ssize_t hi_bound,
                                    double y)
{
    Py_ssize_t lo = from, step = 1, hi = from;
    while (hi < hi_bound && ref[hi].value <= y) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    return upper_within(ref, lo, hi > hi_bound ? hi_bound : hi, y);
}

/* First index in ref[0 .. upto) whose value is >= y, given ref[upto - 1] == y: galloping down. */
static inline Py_ssize_t lower_before(const Pair *ref, Py_ssize_t upto, double y)
{
    Py_ssize_t hi = upto - 1, step = 1, lo = upto - 1;
    while (lo > 0 && ref[lo - 1].value >= y) {
        hi = lo - 1;
        lo = lo > step ? lo - step : 0;
        step *= 2;
    }
    while (lo < hi) {
        const Py_ssize_t mid = lo + (hi - lo) / 2;
        if (ref[mid].value < y)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Most reference places counted in one step before galloping. */
#define MAX_SPAN 32
#define STEP_SLACK 4

/* upper_from for a query expected about `stride` places on. Where that is only a few places,
 * the next `span` places are counted without a branch on the data (the ending place of a
 * search varies from query to query, so its branches would be mispredicted); otherwise the
 * place `stride` on is probed, then searched below it or galloped beyond it. */
static inline Py_ssize_t step_from(const Pair *ref, Py_ssize_t n, Py_ssize_t from, double y,
                                   Py_ssize_t span, Py_ssize_t stride)
{
    if (span > 0 && from + span <= n) {
        Py_ssize_t below = 0;
        for (Py_ssize_t j = 0; j < span; j++)
            below += ref[from + j].value <= y;
        if (below < span)
            return from + below;
        return upper_from(ref, from + span, n, y);
    }
    const Py_ssize_t probe = from + stride;
    if (probe >= n)
        return upper_within(ref, from, n, y);
    if (ref[probe].value <= y)
        return upper_from(ref, probe + 1, n, y);
    return upper_within(ref, from, probe, y);
}

/* n * integral_a^b F for a <= b, with ka and kb the reference values <= a and <= b. */
static inline double ref_area(const Pair *ref, Py_ssize_t ka, double a, Py_ssize_t kb, double b)
{
    return (double)ka * (b - a) + ((double)(kb - ka) * b - (ref[kb].sum - ref[ka].sum));
}

/* Where one segment's walk stands: at value k, with `here` reference values up to it (`first`
 * up to the segment's first value), the KS numerator and the Wasserstein sum so far (times
 * m n), and the quantile rank of level k / m as k n = quotient m + rest. */
typedef struct {
    int64_t k, quotient, rest, best, here, first;
    double total;
} Walk;

/* Walk one sorted segment y[0 .. m) (centred by `centre`) against the centred reference until
 * the next step would read the reference at `stop` or beyond: the KS numerator and the
 * Wasserstein-1 distance by the formulas of _monitor_counts._segments. The terms between
 * consecutive values are summed times m n, so that no division is left in the loop; the
 * quantile rank ceil((k + 1) n / m) is carried along as a quotient and a rest. */
static void walk(Walk *w, const Pair *ref, Py_ssize_t n, const double *current, Py_ssize_t m,
                 double centre, int64_t stop)
{
    const double mf = (double)m;
    const int64_t n_quotient = n / m, n_rest = n % m;
    /* A little more than the usual move along the reference, in whole vectors; none where
     * moves are long. */
    const Py_ssize_t usual = (n_quotient + 3 * STEP_SLACK) / STEP_SLACK * STEP_SLACK;
    const Py_ssize_t span = usual <= MAX_SPAN ? usual : 0;
    const Py_ssize_t stride = n_quotient > 0 ? n_quotient : 1;
    int64_t k = w->k, quotient = w->quotient, rest = w->rest, best = w->best, here = w->here;
    double total = w->total;
    while (k < m - 1) {
        int64_t next_quotient = quotient + n_quotient, next_rest = rest + n_rest;
        if (next_rest >= m) {
            next_quotient += 1;
            next_rest -= m;
        }
        int64_t rank = next_quotient + (next_rest > 0);
        rank = rank > n ? n : rank;
        const double y = current[k] - centre, nxt = current[k + 1] - centre;
        const Py_ssize_t k_next = step_from(ref, n, here, nxt, span, stride);
        if (k_next >= stop || rank >= stop)
            break;
        /* KS: at the last of tied values G counts them all; just below the first, none. */
        if (nxt != y) {
            const int64_t gap = (int64_t)here * m - (int64_t)(k + 1) * n;
            const int64_t right = gap < 0 ? -gap : gap;
            best = right > best ? right : best;
        }
        if (k == 0 || current[k - 1] - centre != y) {
            const Py_ssize_t below =
                here > 0 && ref[here - 1].value == y ? lower_before(ref, here, y) : here;
            const int64_t gap = (int64_t)below * m - (int64_t)k * n;
            const int64_t left = gap < 0 ? -gap : gap;
            best = left > best ? left : best;
        }
        /* Between y and the next value F crosses the level (k + 1) / m at a quantile. */
        const double quantile = ref[rank - 1].value;
        const double cross = quantile < y ? y : (quantile > nxt ? nxt : quantile);
        /* Reference values up to cross: known without a search but where the quantile is tied
         * with the next reference value (selections rather than branches: which case holds
         * varies from value to value). */
        Py_ssize_t k_cross = rank;
        if (rank < n && ref[rank].value == quantile && quantile > y && quantile < nxt)
            k_cross = upper_from(ref, rank, n, quantile);
        k_cross = quantile >= nxt ? k_next : k_cross;
        k_cross = quantile <= y ? here : k_cross;
        /* (k + 1) / m (cross - y) - I(y, cross) + I(cross, nxt) - (k + 1) / m (nxt - cross) */
        total += (double)((k + 1) * n) * ((cross - y) - (nxt - cross)) +
                 mf * (ref_area(ref, k_cross, cross, k_next, nxt) -
                       ref_area(ref, here, y, k_cross, cross));
        quotient = next_quotient;
        rest = next_rest;
        here = k_next;
        k++;
    }
    w->here = here;
    w->k = k;
    w->quotient = quotient;
    w->rest = rest;
    w->best = best;
    w->total = total;
}

/* The last value of a walked segment: its KS terms, and the tails of the Wasserstein integral
 * below the first value (F alone) and above the last (1 - F). */
static void finish(const Walk *w, const Pair *ref, Py_ssize_t n, const double *current,
                   Py_ssize_t m, double centre, int64_t *numerator, double *w1)
{
    const double nf = (double)n, mf = (double)m;
    const int64_t k = m - 1, here = w->here;
    const double y = current[k] - centre;
    int64_t best = w->best;
    const int64_t gap = here * m - m * (int64_t)n;
    best = (gap < 0 ? -gap : gap) > best ? (gap < 0 ? -gap : gap) : best;
    if (k == 0 || current[k - 1] - centre != y) {
        const Py_ssize_t below =
            here > 0 && ref[here - 1].value == y ? lower_before(ref, here, y) : here;
        const int64_t left_gap = (int64_t)below * m - k * (int64_t)n;
        const int64_t left = left_gap < 0 ? -left_gap : left_gap;
        best = left > best ? left : best;
    }
    const double low = current[0] - centre;
    const int64_t k_low = w->first;
    const double tail = ((ref[n].sum - ref[here].sum) - (double)(n - here) * y) / nf;
    const double head = ((double)k_low * low - ref[k_low].sum) / nf;
    *numerator = best;
    *w1 = w->total / (mf * nf) + head + tail;
}

/* Reference places in one block of the lockstep walk. */
#define WALK_BLOCK 4096

/* Every segment walked against the reference together, a block of places at a time: each
 * segment goes as far as the block lets it, so the block is read from memory about once for
 * all segments, not once per segment (segments of similar data read similar places). */
static void walk_all(const Pair *ref, Py_ssize_t n, const double *current, const int64_t *offsets,
                     Py_ssize_t segments, Walk *walks, double centre, int64_t *numerator,
                     double *w1)
{
    memset(walks, 0, (size_t)segments * sizeof *walks);
    for (Py_ssize_t s = 0; s < segments; s++) {
        if (offsets[s + 1] > offsets[s])
            walks[s].here = walks[s].first = upper_from(ref, 0, n, current[offsets[s]] - centre);
    }
    for (int64_t stop = WALK_BLOCK;; stop += WALK_BLOCK) {
        const int final = stop > n;
        for (Py_ssize_t s = 0; s < segments; s++) {
            const Py_ssize_t m = offsets[s + 1] - offsets[s];
            if (m > 0)
                walk(&walks[s], ref, n, current + offsets[s], m, centre, final ? INT64_MAX : stop);
        }
        if (final)
            break;
    }
    for (Py_ssize_t s = 0; s < segments; s++) {
        const Py_ssize_t m = offsets[s + 1] - offsets[s];
        if (m > 0)
            finish(&walks[s], ref, n, current + offsets[s], m, centre, numerator + s, w1 + s);
    }
}

static PyObject *segment_distances(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objs[6];
    double centre;
    if (!PyArg_ParseTuple(args, "OOdOOO:segment_distances", &objs[0], &objs[1], &centre,
                          &objs[2], &objs[3], &objs[4])) {
        return NULL;
    }
    /* reference, current, (centre), offsets, numerator out, w1 out */
    Py_buffer b[5];
    int taken = 0;
    PyObject *result = NULL;
    Pair *table = NULL;
    Walk *walks = NULL;
    for (; taken < 5; taken++) {
        const int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (taken >= 3 ? PyBUF_WRITABLE : 0);
        if (PyObject_GetBuffer(objs[taken], &b[taken], flags) < 0)
            goto done;
    }
    static const char formats[5] = {'d', 'd', 'q', 'q', 'd'};
    for (int i = 0; i < 5; i++) {
        const int is_int = formats[i] == 'q';
        if (b[i].ndim != 1 || b[i].itemsize != 8 ||
            (is_int ? strcmp(b[i].format, "q") != 0 && strcmp(b[i].format, "l") != 0
                    : strcmp(b[i].format, "d") != 0)) {
            PyErr_SetString(PyExc_TypeError,
                            "segment_distances takes 1-D float64 reference and current, int64 "
                            "offsets and numerator, and a float64 w1");
            goto done;
        }
    }
    const double *reference = b[0].buf, *current = b[1].buf;
    const int64_t *offsets = b[2].buf;
    int64_t *numerator = b[3].buf;
    double *w1 = b[4].buf;
    const Py_ssize_t n = b[0].shape[0], segments = b[3].shape[0], values = b[1].shape[0];
    if (b[2].shape[0] != segments + 1 || b[4].shape[0] != segments || n == 0) {
        PyErr_SetString(PyExc_ValueError,
                        "segment_distances: offsets need one more value than the segments, and "
                        "the reference at least one value");
        goto done;
    }
    for (Py_ssize_t s = 0; s <= segments; s++) {
        if (offsets[s] < 0 || offsets[s] > values || (s > 0 && offsets[s] < offsets[s - 1])) {
            PyErr_SetString(PyExc_ValueError,
                            "segment_distances: offsets must rise within the current values");
            goto done;
        }
    }
    table = PyMem_RawMalloc((size_t)(n + 1) * sizeof(Pair));
    walks = PyMem_RawMalloc((size_t)(segments > 0 ? segments : 1) * sizeof(Walk));
    if (table == NULL || walks == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    /* Each centred value beside the sum of those before it (np.cumsum's order of additions),
     * so that a search and the sum it leads to read one cache line. */
    double sum = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) {
        table[i].value = reference[i] - centre;
        table[i].sum = sum;
        sum += table[i].value;
    }
    table[n].value = INFINITY;
    table[n].sum = sum;
    walk_all(table, n, current, offsets, segments, walks, centre, numerator, w1);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(table);
    PyMem_RawFree(walks);
    for (int i = 0; i < taken; i++)
        PyBuffer_Release(&b[i]);
    return result;
}

/* ---- Exact two-sided KS p-value for unequal sizes (see _ks_pvalue._exact_unequal). ---- */

static inline int64_t floor_div(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static inline double log_binom(double a, double b)
{
    return lgamma(a + 1) - lgamma(b + 1) - lgamma(a - b + 1);
}

static inline double log_add(double a, double b)
{
    if (a == -INFINITY)
        return b;
    if (b == -INFINITY)
        return a;
    return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/* P(D >= d / (m n)) with m <= n, by first exits from the band of probability-weighted paths. */
static double ks_unequal_one(int64_t m, int64_t n, int64_t d, double *row, double *below)
{
    const double log_total = log_binom((double)(m + n), (double)m);
    const double up = (double)n / (double)(m + n), right = (double)m / (double)(m + n);
    const double log_up = log(up), log_right = log(right);
    int64_t width = 2 * d / m + 2;
    if (width > n + 1)
        width = n + 1;
    int64_t lo = 0, hi = floor_div(d + m - 1, m) - 1;
    if (hi > n)
        hi = n;
    for (int64_t t = 0; t < width; t++)
        row[t] = t <= hi ? exp((double)t * log_up) : 0.0;
    double log_scale = 0.0, log_p = -INFINITY;
    for (int64_t i = 0;; i++) {
        if (i > 0) {
            const int64_t new_lo_raw = floor_div(i * n - d, m) + 1;
            const int64_t new_lo = new_lo_raw > 0 ? new_lo_raw : 0;
            hi = floor_div(i * n + d + m - 1, m) - 1;
            if (hi > n)
                hi = n;
            const int64_t shift = new_lo - lo;
            const int64_t most = shift < width ? shift : width;
            /* Cells of row i - 1 left of row i's band: a step right from them leaves it. */
            for (int64_t t = 0; t < most; t++) {
                if (row[t] > 0) {
                    const int64_t cell = lo + t;
                    log_p = log_add(log_p, log(row[t]) + log_scale - (double)(i - 1) * log_right -
                                               (double)cell * log_up +
                                               log_binom((double)(m - i + n - cell),
                                                         (double)(m - i)) -
                                               log_total);
                }
            }
            const int64_t top = hi - new_lo < width - 1 ? hi - new_lo : width - 1;
            for (int64_t t = 0; t < width; t++)
                below[t] = t + shift < width ? row[t + shift] : 0.0;
            double cell = 0.0, peak = 0.0;
            for (int64_t t = 0; t <= top; t++) {
                cell = right * below[t] + up * cell;
                row[t] = cell;
                if (cell > peak)
                    peak = cell;
            }
            for (int64_t t = top + 1 > 0 ? top + 1 : 0; t < width; t++)
                row[t] = 0.0;
            if (peak > 0) {
                const double inverse = 1.0 / peak;
                for (int64_t t = 0; t <= top; t++)
                    row[t] *= inverse;
                log_scale += log(peak);
            }
            lo = new_lo;
        }
        /* From (i, hi) one step up, outside the band, then any way to the end. */
        int64_t at = hi - lo;
        at = at < 0 ? 0 : (at > width - 1 ? width - 1 : at);
        const double value = row[at];
        if (hi < n && hi >= lo && value > 0)
            log_p = log_add(log_p, log(value) + log_scale - (double)i * log_right -
                                       (double)hi * log_up +
                                       log_binom((double)(m - i + n - hi - 1), (double)(m - i)) -
                                       log_total);
        if (i == m)
            break;
    }
    return exp(log_p);
}

static PyObject *ks_exact_unequal(PyObject *self, PyObject *args)
{
    (void)self;
    long long m_arg, n_arg;
    PyObject *numerator_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "LLOO:ks_exact_unequal", &m_arg, &n_arg, &numerator_obj,
                          &out_obj)) {
        return NULL;
    }
    Py_buffer numerator, out;
    if (PyObject_GetBuffer(numerator_obj, &numerator, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return NULL;
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) <
        0) {
        PyBuffer_Release(&numerator);
        return NULL;
    }
    PyObject *result = NULL;
    double *row = NULL;
    if (numerator.ndim != 1 || out.ndim != 1 || numerator.itemsize != 8 || out.itemsize != 8 ||
        (strcmp(numerator.format, "q") != 0 && strcmp(numerator.format, "l") != 0) ||
        strcmp(out.format, "d") != 0) {
        PyErr_SetString(PyExc_TypeError,
                        "ks_exact_unequal takes a 1-D int64 numerator and a 1-D float64 out");
        goto done;
    }
    const Py_ssize_t count = numerator.shape[0];
    int64_t m = m_arg < n_arg ? m_arg : n_arg, n = m_arg < n_arg ? n_arg : m_arg;
    if (out.shape[0] != count || m < 1 || n > (int64_t)1 << 31) {
        PyErr_SetString(PyExc_ValueError,
                        "ks_exact_unequal: sizes must be positive (below 2**31) and out as long "
                        "as numerator");
        goto done;
    }
    const int64_t *d = numerator.buf;
    for (Py_ssize_t c = 0; c < count; c++) {
        if (d[c] <= 0 || d[c] > m * n) {
            PyErr_SetString(PyExc_ValueError,
                            "ks_exact_unequal: every numerator must lie in 1 .. m * n");
            goto done;
        }
    }
    row = PyMem_RawMalloc(2 * (size_t)(n + 1) * sizeof(double));
    if (row == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    double *values = out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t c = 0; c < count; c++)
        values[c] = ks_unequal_one(m, n, d[c], row, row + n + 1);
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyMem_RawFree(row);
    PyBuffer_Release(&numerator);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"count_below", count_below, METH_VARARGS,
     "count_below(values, edges, out, transposed=False): add the values below each edge, then "
     "the NaN, -inf and +inf values, of each column to out. Transposed, values holds one column "
     "per row."},
    {"sort_rows", sort_rows, METH_VARARGS,
     "sort_rows(values): sort each row of a 2-D float64 array in place, NaN last."},
    {"segment_distances", segment_distances, METH_VARARGS,
     "segment_distances(reference, current, centre, offsets, numerator, w1): KS numerators and "
     "Wasserstein-1 distances of the sorted segments of current against the sorted reference, "
     "both centred on centre."},
    {"ks_exact_unequal", ks_exact_unequal, METH_VARARGS,
     "ks_exact_unequal(m, n, numerator, out): exact two-sided KS p-values P(D >= numerator/(m n)) "
     "for samples of sizes m and n."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_native",
    .m_doc = "Compiled counting, sorting and KS/Wasserstein kernels for modelyard.drift.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
