# MurmurHash3 (x86, 32-bit) of a key given in pieces: a state carried from piece to piece, so that a field's
# prefix can be hashed once and each value fed after it without copying the key into one buffer.  The same hash
# as ``murmurhash3_32`` of ``_murmur.pxd`` over the concatenated pieces.
from libc.stdint cimport int32_t, uint8_t, uint32_t
from libc.string cimport memcpy

from ftrlx._kernels._murmur cimport murmur_block, murmur_fmix, murmur_mix_key


cdef struct MState:
    uint32_t h       # state after the whole 4-byte blocks seen so far
    uint32_t carry   # the bytes of an unfinished block, little-endian
    int32_t ntail    # how many bytes carry holds (0-3)
    uint32_t total   # bytes seen


cdef inline void mstate_init(MState* s, uint32_t seed) noexcept nogil:
    s.h = seed
    s.carry = 0
    s.ntail = 0
    s.total = 0


cdef inline void mstate_update(MState* s, const uint8_t* p, Py_ssize_t n) noexcept nogil:
    """Feed n more bytes; the blocks straddling pieces are put together in ``carry``."""
    cdef Py_ssize_t i = 0
    cdef uint32_t w
    cdef int t = s.ntail, sh
    s.total += <uint32_t>n
    if t == 0:
        while i + 4 <= n:
            memcpy(&w, p + i, 4)
            s.h = murmur_block(s.h, w)
            i += 4
    else:
        sh = 8 * t
        while i + 4 <= n:
            memcpy(&w, p + i, 4)
            s.h = murmur_block(s.h, s.carry | (w << sh))
            s.carry = w >> (32 - sh)
            i += 4
    while i < n:
        s.carry |= (<uint32_t>p[i]) << (8 * t)
        t += 1
        i += 1
        if t == 4:
            s.h = murmur_block(s.h, s.carry)
            s.carry = 0
            t = 0
    s.ntail = t


cdef inline uint32_t mstate_finish(const MState* s) noexcept nogil:
    cdef uint32_t h = s.h
    if s.ntail:
        h ^= murmur_mix_key(s.carry)
    return murmur_fmix(h, s.total)
