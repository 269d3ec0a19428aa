# Part of _online.pyx (included there): the drivers that read the weights without training (margins,
# coefficients, the non-zero count).

cdef void decision_rows(Algo* a, Params* p,
                        const floating* data, const index_t* indices, const index_t* indptr, Py_ssize_t n_rows,
                        const double* state, const double* istate, const double* gs,
                        bint fit_intercept, RowWork* rw, double* out, Py_ssize_t out_stride) noexcept nogil:
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t i, k, n
    cdef const floating* rv
    cdef const index_t* ri
    cdef double m, b
    read_time(a, p, gs)
    b = intercept(a, p, istate) if fit_intercept else 0.0
    for i in range(n_rows):
        if i + 1 < n_rows:
            prefetch_row(indices, indptr, i + 1, state, stride)
        n = open_row(data, indices, indptr, i, False, rw, &rv, &ri)
        m = b
        for k in range(n):
            m += weight(a, p, state + ri[k] * stride) * rv[k]
        out[i * out_stride] = m


cdef void coef_all(Algo* a, Params* p, const double* state, Py_ssize_t n_features,
                   const double* istate, const double* gs, bint fit_intercept, double* out) noexcept nogil:
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t j
    read_time(a, p, gs)
    for j in range(n_features):
        out[j] = weight(a, p, state + j * stride)
    out[n_features] = intercept(a, p, istate) if fit_intercept else 0.0


cdef Py_ssize_t nonzero_weights(Algo* a, Params* p, const double* state, Py_ssize_t n_features,
                                const double* gs) noexcept nogil:
    # the weights as coef_all computes them, counted instead of stored (FTRL's weight is 0 without a division
    # when |z| <= l1, so a sparse model costs little more than one read of z per coordinate)
    cdef Py_ssize_t stride = slots(a)
    cdef Py_ssize_t j, count = 0
    read_time(a, p, gs)
    for j in range(n_features):
        count += weight(a, p, state + j * stride) != 0.0
    return count
