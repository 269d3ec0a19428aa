# Part of _online.pyx (included there): the undo journal's Python face (its recording is in _journal.pxd).

cdef class UndoJournal:
    """What one training call changed in one output's state, to undo it (see ``_journal.pxd``).

    Passed to ``fit`` (possibly several times, e.g. once per epoch), it records each coordinate's slots the first
    time a call changes them; then ``restore`` puts them back, or ``forget`` accepts the changes.  Either leaves
    the journal empty for the next call.  The bitmap of recorded coordinates (n_features / 8 bytes) is kept
    between calls, so that a call costs O(coordinates it touched) whatever n_features.
    """
    cdef Journal j
    cdef readonly Py_ssize_t n_features

    def __cinit__(self, Py_ssize_t n_features, Py_ssize_t stride):
        memset(&self.j, 0, sizeof(Journal))
        self.n_features = n_features
        self.j.stride = stride
        self.j.seen = <uint64_t*>calloc(n_features // 64 + 1, sizeof(uint64_t))
        if self.j.seen == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.j.seen)
        free(self.j.cols)
        free(self.j.saved)

    @property
    def stride(self):
        return self.j.stride

    @property
    def n_recorded(self):
        """Coordinates recorded since the last ``restore`` or ``forget``."""
        return self.j.n

    def fits(self, Py_ssize_t n_features, Py_ssize_t stride):
        return self.n_features == n_features and self.j.stride == stride

    def restore(self, double[:, ::1] state):
        """Put every recorded coordinate of ``state`` back as it was, then ``forget``."""
        cdef Py_ssize_t e, q, stride = self.j.stride
        if state.shape[0] != self.n_features or state.shape[1] != stride:
            raise ValueError(f"state of shape ({state.shape[0]}, {state.shape[1]}) is not the journal's "
                             f"({self.n_features}, {stride})")
        cdef Journal* j = &self.j  # a plain pointer: no attribute of self is touched without the GIL
        with nogil:
            for e in range(j.n):
                for q in range(stride):
                    state[j.cols[e], q] = j.saved[e * stride + q]
        self.forget()

    def forget(self):
        """Clear the record (entry by entry); a large buffer is released rather than kept for the next call."""
        cdef Py_ssize_t e
        cdef int64_t c
        cdef Journal* j = &self.j
        with nogil:
            for e in range(j.n):
                c = j.cols[e]
                j.seen[c >> 6] &= ~((<uint64_t>1) << (c & 63))
        self.j.n = 0
        if self.j.cap > (1 << 16):
            free(self.j.cols)
            free(self.j.saved)
            self.j.cols, self.j.saved, self.j.cap = NULL, NULL, 0
