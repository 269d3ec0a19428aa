# A growable C buffer for the nogil parsers of ftrlx._kernels._svm: ``reserve`` makes room with realloc and says
# when memory runs out, leaving the old buffer valid (the caller frees ``p``).
from libc.stdlib cimport realloc


cdef struct Vec:
    void* p
    Py_ssize_t cap   # in items


cdef inline int reserve(Vec* v, Py_ssize_t need, size_t item) noexcept nogil:
    """Make room for ``need`` items of ``item`` bytes; -1 when memory runs out (the old buffer stays valid)."""
    if need <= v.cap:
        return 0
    cdef Py_ssize_t cap = max(need, 2 * v.cap, 64)
    cdef void* q = realloc(v.p, cap * item)
    if q == NULL:
        return -1
    v.p = q
    v.cap = cap
    return 0
