# The undo journal of one training call, and the finiteness test of the state it guards.
#
# A call that trains a fitted model in place records, the first time it touches a coordinate, that coordinate's
# slots as they were; a call that fails (a margin or a slot that stops being finite) writes them back, so that the
# model is bitwise as before the call.  "First time" is one bit per coordinate (``seen``, n_features / 8 bytes kept
# between calls and cleared entry by entry, never as a whole); the entries cost O(coordinates touched), never
# O(n_features).  ``reserve`` makes room for every coordinate a step can touch before the step records them.
from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport realloc
from libc.string cimport memcpy


cdef struct Journal:
    uint64_t* seen      # bit j: coordinate j is recorded
    int64_t* cols       # the recorded coordinates, in order of first touch
    double* saved       # their slots before the call, ``stride`` per entry
    Py_ssize_t n, cap, stride


cdef inline int journal_reserve(Journal* jn, Py_ssize_t more) noexcept nogil:
    """Room for ``more`` further entries; -1 if memory runs out (the journal is then unchanged)."""
    cdef Py_ssize_t cap
    cdef void* grown
    if jn.n + more <= jn.cap:
        return 0
    cap = max(2 * jn.cap, jn.n + more, 1024)
    grown = realloc(jn.cols, cap * sizeof(int64_t))
    if grown == NULL:
        return -1
    jn.cols = <int64_t*>grown
    grown = realloc(jn.saved, cap * jn.stride * sizeof(double))
    if grown == NULL:
        return -1       # cols is larger than needed, which is harmless
    jn.saved = <double*>grown
    jn.cap = cap
    return 0


cdef extern from *:
    bint unlikely(bint) noexcept nogil     # Cython's own macro (__builtin_expect)


cdef inline void journal_record(Journal* jn, int64_t j, const double* s, const Py_ssize_t stride) noexcept nogil:
    # s: coordinate j's slots as they are before this call touched them (stride == jn.stride, a constant here).
    # The test of the bit is all that a coordinate met again costs (most touches of a large call are repeats); a
    # first touch, a branch mispredicted, writes the entry.
    cdef uint64_t bit = (<uint64_t>1) << (j & 63)
    cdef uint64_t* word = jn.seen + (j >> 6)
    cdef Py_ssize_t q, at
    if not unlikely((word[0] & bit) == 0):
        return
    word[0] |= bit
    at = jn.n
    jn.cols[at] = j
    for q in range(stride):
        jn.saved[at * stride + q] = s[q]
    jn.n = at + 1


cdef inline bint finite_all(const double* s, const Py_ssize_t n) noexcept nogil:
    """Whether s[0..n) are all finite, in integer arithmetic and without a branch, so that the loop vectorizes: an
    exponent field of all ones (infinity, NaN) plus one carries into the sign bit, any other does not."""
    cdef Py_ssize_t k
    cdef uint64_t bits, acc = 0
    for k in range(n):
        memcpy(&bits, s + k, sizeof(uint64_t))
        acc |= (bits & 0x7FF0000000000000ULL) + 0x0010000000000000ULL
    return (acc >> 63) == 0
