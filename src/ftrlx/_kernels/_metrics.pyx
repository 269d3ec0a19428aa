"""Compiled loops of the streaming metrics (``ftrlx.metrics``): a pass or a few over a chunk, without the GIL.

Progressive validation scores every row of a stream, so these run as often as the training kernel itself; NumPy
versions of them (binary searches of a chunk into every score so far, ``np.insert``, a comparison sort of each
class's scores) cost more than training.
"""
from libc.math cimport log, log1p
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free
from libc.string cimport memcpy

from ftrlx._kernels._ranks cimport insertion_sort_u64

import numpy as np


def log_loss_sum(const uint8_t[::1] y, const double[::1] p, double eps):
    """Sum of the binary log losses of probabilities ``p`` clipped to [eps, 1 - eps] (Neumaier-compensated)."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef double s = 0.0, c = 0.0, q, v, t
    with nogil:
        for i in range(n):
            q = p[i]
            q = eps if q < eps else (1.0 - eps if q > 1.0 - eps else q)
            v = -log(q) if y[i] else -log1p(-q)
            t = s + v
            if (s if s >= 0 else -s) >= (v if v >= 0 else -v):
                c += (s - t) + v
            else:
                c += (v - t) + s
            s = t
    return s + c


cdef inline Py_ssize_t first_not_below(const double* a, Py_ssize_t i, Py_ssize_t n, double v,
                                       bint ties) noexcept nogil:
    """The first index j >= i of sorted ``a[:n]`` with ``a[j] >= v`` (``a[j] > v`` with ``ties``): a gallop from
    ``i`` (steps 1, 2, 4, ...), then a binary search of the last step; O(log(j - i)), so a walk of m sorted
    values through n costs O(m log(n / m)), not O(n)."""
    cdef Py_ssize_t lo = i, hi, mid, step = 1
    if lo >= n or not (a[lo] < v or (ties and a[lo] == v)):
        return lo
    while True:  # a[lo] is below v (or tied, with ties)
        hi = lo + step
        if hi >= n:
            hi = n
            break
        if not (a[hi] < v or (ties and a[hi] == v)):
            break
        lo = hi
        step *= 2
    lo += 1
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if a[mid] < v or (ties and a[mid] == v):
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef int64_t walk(const double* keys, Py_ssize_t n_keys, const double* a, Py_ssize_t n) noexcept nogil:
    """The sum over the sorted ``keys`` of (values of sorted ``a`` below the key) + (values of ``a`` at most
    the key)."""
    cdef Py_ssize_t k, below = 0, through = 0
    cdef int64_t total = 0
    for k in range(n_keys):
        below = first_not_below(a, below, n, keys[k], False)
        if through < below:
            through = below
        through = first_not_below(a, through, n, keys[k], True)
        total += below + through
    return total


def twice_u(const double[::1] pos, const double[::1] neg):
    """Twice the Mann-Whitney U of sorted ``pos`` against sorted ``neg``: each pair counts 2 when the positive
    scores higher, 1 on a tie (an exact integer).  The smaller array's values walk through the larger one with
    galloping steps: O(m log(n / m)) for sizes m <= n, and O(m + n) at worst."""
    cdef Py_ssize_t n_pos = pos.shape[0], n_neg = neg.shape[0]
    cdef int64_t total = 0
    if n_pos == 0 or n_neg == 0:
        return 0
    with nogil:
        if n_pos <= n_neg:
            total = walk(&pos[0], n_pos, &neg[0], n_neg)
        else:  # per negative q, its pairs count 2 - [p <= q] - [p < q] over the positives p
            total = 2 * <int64_t>n_pos * n_neg - walk(&neg[0], n_neg, &pos[0], n_pos)
    return total


def merge_into(double[::1] buf, Py_ssize_t n, const double[::1] new):
    """Merge sorted ``new`` into the sorted ``buf[:n]`` in place (from the back; ``buf`` has room for both).

    Returns the new length."""
    cdef Py_ssize_t i = n - 1, j = new.shape[0] - 1, k = n + new.shape[0] - 1
    if k >= buf.shape[0]:
        raise ValueError("merge_into: buf is too small")
    with nogil:
        while j >= 0:
            if i >= 0 and buf[i] > new[j]:
                buf[k] = buf[i]
                i -= 1
            else:
                buf[k] = new[j]
                j -= 1
            k -= 1
    return n + new.shape[0]


def logit_bins(const double[::1] p, double eps, double lo, double hi, Py_ssize_t n_bins, int64_t[::1] out,
               bint margins=False):
    """Bin of each score on the logit scale: n_bins equal bins over [lo, hi], values clipped to the ends.  The
    scores are probabilities (clipped to [eps, 1 - eps], then their logit), or with ``margins`` already logits
    (margins of any real value, binned as they are)."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef double q, z, scale = n_bins / (hi - lo)
    cdef int64_t b
    with nogil:
        for i in range(n):
            q = p[i]
            if margins:
                z = q if q > lo else lo
                z = (z - lo) * scale
            else:
                q = eps if q < eps else (1.0 - eps if q > 1.0 - eps else q)
                z = (log(q) - log1p(-q) - lo) * scale
            b = <int64_t>z if z < n_bins else n_bins
            out[i] = 0 if b < 0 else (n_bins - 1 if b >= n_bins else b)


# ---- the binned AUC past its exact rows: bin counts and their Fenwick trees (prefix sums in O(log n_bins)) ----

cdef inline void tree_add(int64_t* tree, Py_ssize_t n, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t i = b + 1
    while i <= n:
        tree[i] += 1
        i += i & -i


cdef inline int64_t tree_below(const int64_t* tree, Py_ssize_t b) noexcept nogil:
    """The count in the bins before ``b``."""
    cdef int64_t total = 0
    cdef Py_ssize_t i = b
    while i > 0:
        total += tree[i]
        i -= i & -i
    return total


def fenwick_build(const int64_t[::1] counts, int64_t[::1] tree):
    """``tree`` (n_bins + 1 slots) the Fenwick tree of ``counts``, in O(n_bins)."""
    cdef Py_ssize_t i, j, n = counts.shape[0]
    if tree.shape[0] != n + 1:
        raise ValueError("fenwick_build: tree needs one slot more than counts")
    with nogil:
        tree[0] = 0
        for i in range(1, n + 1):
            tree[i] = counts[i - 1]
        for i in range(1, n + 1):
            j = i + (i & -i)
            if j <= n:
                tree[j] += tree[i]


def binned_pairs(const int64_t[::1] pos_bins, const int64_t[::1] neg_bins, int64_t[:, ::1] hist,
                 int64_t[:, ::1] tree):
    """Add a chunk's binned scores to the counts ``hist`` (row 0 positives, row 1 negatives) and to their trees;
    return twice the U of the pairs with a new score (a pair in one bin counts 1).  O(m log n_bins) for m scores,
    not O(n_bins)."""
    cdef Py_ssize_t k, n = hist.shape[1]
    cdef int64_t b, n_pos, total = 0
    if tree.shape[0] != 2 or tree.shape[1] != n + 1 or hist.shape[0] != 2:
        raise ValueError("binned_pairs: hist is (2, n_bins) and tree (2, n_bins + 1)")
    with nogil:
        n_pos = tree_below(&tree[0, 0], n)  # the positives counted so far
        for k in range(neg_bins.shape[0]):  # earlier positives against each new negative
            b = neg_bins[k]
            total += 2 * (n_pos - tree_below(&tree[0, 0], b + 1)) + hist[0, b]
        for k in range(neg_bins.shape[0]):
            b = neg_bins[k]
            hist[1, b] += 1
            tree_add(&tree[1, 0], n, b)
        for k in range(pos_bins.shape[0]):  # each new positive against every negative, new ones included
            b = pos_bins[k]
            total += 2 * tree_below(&tree[1, 0], b) + hist[1, b]
        for k in range(pos_bins.shape[0]):
            b = pos_bins[k]
            hist[0, b] += 1
            tree_add(&tree[0, 0], n, b)
    return total


# ---- the scores of a chunk split by label and sorted (the AUC's exact ranks) ----

cdef enum:
    DIGIT_BITS = 11
    DIGITS = 6                  # 6 * 11 >= 64
    BUCKETS = 1 << DIGIT_BITS
    SMALL = 64                  # fewer keys are sorted by insertion
    SPREAD_MIN = 1 << 17        # from this many keys (past the caches): one pass on the top bits first
    LOW_BITS = 8                # the digits of each bucket's own sort
    LOW_BUCKETS = 1 << LOW_BITS


cdef inline uint64_t order_key(double v) noexcept nogil:
    # the bits of v as an unsigned integer in the order of the values (negatives: all bits flipped, so that larger
    # magnitudes come first; the others: the sign bit set); -0.0 comes just before +0.0, which compare equal
    cdef uint64_t u
    memcpy(&u, &v, sizeof(double))
    return ~u if u >> 63 else u | (<uint64_t>1 << 63)


cdef inline double key_value(uint64_t u) noexcept nogil:
    cdef double v
    u = u & ~(<uint64_t>1 << 63) if u >> 63 else ~u
    memcpy(&v, &u, sizeof(double))
    return v


cdef inline void scatter_pass(const uint64_t* src, uint64_t* dst, Py_ssize_t n, int shift, Py_ssize_t n_digits,
                              Py_ssize_t* counts) noexcept nogil:
    """One pass of a counting sort: src's keys into dst in the order of their digit ``(key >> shift) &
    (n_digits - 1)``, keys of one digit in their order in src.  ``counts[j]``, the number of keys of digit j on
    entry, is the end of digit j's keys in dst on return."""
    cdef Py_ssize_t i, j, c, total = 0
    for j in range(n_digits):     # each digit's first place
        c = counts[j]
        counts[j] = total
        total += c
    for i in range(n):
        j = (src[i] >> shift) & (n_digits - 1)
        dst[counts[j]] = src[i]
        counts[j] += 1


cdef int radix_sort(uint64_t* a, uint64_t* tmp, Py_ssize_t n) noexcept nogil:
    """Sort a[0..n) in place; tmp has room for n keys.  -1 if memory runs out."""
    if n >= SPREAD_MIN:
        return spread_sort(a, tmp, n)
    return lsd_sort(a, tmp, n)


cdef int spread_sort(uint64_t* a, uint64_t* tmp, Py_ssize_t n) noexcept nogil:
    """``radix_sort`` for many keys: one pass spreads them over 2^11 buckets by the 11 highest bits in which they
    differ (the bits above are the same in every key), then each bucket, a slice small enough for the caches, is
    sorted on the bits below (``low_sort``).  An LSD sort of the whole array instead writes every key all over an
    array larger than the caches once per digit."""
    cdef Py_ssize_t i, b, total, c
    cdef uint64_t diff = 0
    cdef int top, shift
    cdef Py_ssize_t* ends
    cdef uint64_t* done
    for i in range(n):
        diff |= a[i] ^ a[0]
    if diff == 0:
        return 0
    top = 0     # the highest bit set in diff (a shift by 64 would be undefined)
    while top < 63 and diff >> (top + 1):
        top += 1
    shift = max(top + 1 - DIGIT_BITS, 0)
    ends = <Py_ssize_t*>calloc(BUCKETS, sizeof(Py_ssize_t))
    if ends == NULL:
        return -1
    for i in range(n):
        ends[(a[i] >> shift) & (BUCKETS - 1)] += 1
    scatter_pass(a, tmp, n, shift, BUCKETS, ends)
    total = 0
    for b in range(BUCKETS):
        c = ends[b] - total
        if c > 0:
            done = low_sort(tmp + total, a + total, c, shift)
            if done != a + total:
                memcpy(a + total, done, c * sizeof(uint64_t))
        total = ends[b]
    free(ends)
    return 0


cdef uint64_t* low_sort(uint64_t* x, uint64_t* y, Py_ssize_t n, int bits) noexcept nogil:
    """Sort x[0..n), keys that differ only in their lowest ``bits`` bits, using y (room for n) as the other
    buffer; returns the one that holds the result (LSD, 8 bits a pass, a pass skipped where every key has the same
    digit)."""
    cdef Py_ssize_t i, j
    cdef int shift
    cdef uint64_t* swap
    cdef Py_ssize_t counts[LOW_BUCKETS]
    if n < SMALL:
        insertion_sort_u64(x, n)
        return x
    shift = -LOW_BITS
    while shift + LOW_BITS < bits:
        shift += LOW_BITS
        for j in range(LOW_BUCKETS):
            counts[j] = 0
        for i in range(n):
            counts[(x[i] >> shift) & (LOW_BUCKETS - 1)] += 1
        if counts[(x[0] >> shift) & (LOW_BUCKETS - 1)] == n:
            continue
        scatter_pass(x, y, n, shift, LOW_BUCKETS, counts)
        swap = x
        x = y
        y = swap
    return x


cdef int lsd_sort(uint64_t* a, uint64_t* tmp, Py_ssize_t n) noexcept nogil:
    """``radix_sort`` for fewer keys (LSD, 11 bits a pass, a pass skipped where every key has the same digit)."""
    cdef Py_ssize_t i, d
    cdef uint64_t key
    cdef uint64_t* src = a
    cdef uint64_t* dst = tmp
    cdef uint64_t* swap
    cdef Py_ssize_t* counts
    if n < SMALL:
        insertion_sort_u64(a, n)
        return 0
    counts = <Py_ssize_t*>calloc(DIGITS * BUCKETS, sizeof(Py_ssize_t))
    if counts == NULL:
        return -1
    for i in range(n):
        key = a[i]
        for d in range(DIGITS):
            counts[d * BUCKETS + ((key >> (d * DIGIT_BITS)) & (BUCKETS - 1))] += 1
    for d in range(DIGITS):
        if counts[d * BUCKETS + ((a[0] >> (d * DIGIT_BITS)) & (BUCKETS - 1))] == n:
            continue        # one digit for every key: the pass would keep the order
        scatter_pass(src, dst, n, d * DIGIT_BITS, BUCKETS, counts + d * BUCKETS)
        swap = src
        src = dst
        dst = swap
    free(counts)
    if src != a:
        memcpy(a, src, n * sizeof(uint64_t))
    return 0


def split_sorted(const uint8_t[::1] y, const double[::1] p):
    """``(pos, neg)``: the scores ``p`` of the rows whose label ``y`` is 1 and of the others, each sorted (no NaN
    among them; a -0.0 sorts just before a +0.0).  A radix sort of the scores' bits, in two passes over the chunk
    and a few over each half, without the GIL."""
    cdef Py_ssize_t i, n = p.shape[0], n_pos = 0, a = 0, b = 0
    cdef int failed = 0
    if y.shape[0] != n:
        raise ValueError("y and p differ in length")
    with nogil:
        for i in range(n):
            n_pos += y[i] != 0
    pos = np.empty(n_pos, dtype=np.uint64)
    neg = np.empty(n - n_pos, dtype=np.uint64)
    tmp = np.empty(max(n_pos, n - n_pos, 1), dtype=np.uint64)
    cdef uint64_t[::1] pk = pos, nk = neg, tk = tmp
    cdef uint64_t* pp = &pk[0] if n_pos else NULL
    cdef uint64_t* np_ = &nk[0] if n - n_pos else NULL
    with nogil:
        for i in range(n):
            if y[i]:
                pp[a] = order_key(p[i])
                a += 1
            else:
                np_[b] = order_key(p[i])
                b += 1
        failed = radix_sort(pp, &tk[0], n_pos) | radix_sort(np_, &tk[0], n - n_pos)
        if not failed:
            to_values(pp, n_pos)
            to_values(np_, n - n_pos)
    if failed:
        raise MemoryError()
    return pos.view(np.float64), neg.view(np.float64)


cdef void to_values(uint64_t* keys, Py_ssize_t n) noexcept nogil:
    # each key back to its value, written over it (through memcpy: the same 8 bytes, read as another type)
    cdef Py_ssize_t i
    cdef double v
    for i in range(n):
        v = key_value(keys[i])
        memcpy(keys + i, &v, sizeof(double))
