"""Compiled loops of the streaming metrics (``ftrlx.metrics``): each is one pass over a chunk, without the GIL.

Progressive validation scores every row of a stream, so these run as often as the training kernel itself; NumPy
versions of them (binary searches of a chunk into every score so far, ``np.insert``) cost more than training.
"""
from libc.math cimport log, log1p
from libc.stdint cimport int64_t, uint8_t


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


def twice_u(const double[::1] pos, const double[::1] neg):
    """Twice the Mann-Whitney U of sorted ``pos`` against sorted ``neg``: each pair counts 2 when the positive
    scores higher, 1 on a tie (an exact integer).  One merge-like walk, O(len(pos) + len(neg))."""
    cdef Py_ssize_t i, below = 0, through = 0, n_pos = pos.shape[0], n_neg = neg.shape[0]
    cdef int64_t total = 0
    cdef double v
    with nogil:
        for i in range(n_pos):
            v = pos[i]
            while below < n_neg and neg[below] < v:
                below += 1
            if through < below:
                through = below
            while through < n_neg and neg[through] <= v:
                through += 1
            total += below + through
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


def logit_bins(const double[::1] p, double eps, double lo, double hi, Py_ssize_t n_bins, int64_t[::1] out):
    """Bin of each probability on the logit scale: n_bins equal bins over [lo, hi], values clipped to the ends."""
    cdef Py_ssize_t i, n = p.shape[0]
    cdef double q, z, scale = n_bins / (hi - lo)
    cdef int64_t b
    with nogil:
        for i in range(n):
            q = p[i]
            q = eps if q < eps else (1.0 - eps if q > 1.0 - eps else q)
            z = (log(q) - log1p(-q) - lo) * scale
            b = <int64_t>z
            out[i] = 0 if b < 0 else (n_bins - 1 if b >= n_bins else b)
