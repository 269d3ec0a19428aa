# MurmurHash3, x86 32-bit variant (Austin Appleby, public domain algorithm): the hash of every hashed feature.
# The same function as sklearn.utils.murmurhash3_32(key, seed, positive=True) and ftrlx.hashing's NumPy version.
# Inline and nogil, over raw bytes; ``murmur_update``/``murmur_finish`` hash a key given in pieces (a field prefix,
# then a value) without copying it into one buffer.
from libc.stdint cimport uint32_t, uint8_t
from libc.string cimport memcpy


cdef inline uint32_t murmur_rotl(uint32_t x, int r) noexcept nogil:
    return (x << r) | (x >> (32 - r))


cdef inline uint32_t murmur_mix_key(uint32_t k) noexcept nogil:
    k *= 0xCC9E2D51u
    k = murmur_rotl(k, 15)
    return k * 0x1B873593u


cdef inline uint32_t murmur_fmix(uint32_t h, uint32_t length) noexcept nogil:
    h ^= length
    h ^= h >> 16
    h *= 0x85EBCA6Bu
    h ^= h >> 13
    h *= 0xC2B2AE35u
    h ^= h >> 16
    return h


cdef inline uint32_t murmur_block(uint32_t h, uint32_t k) noexcept nogil:
    h ^= murmur_mix_key(k)
    h = murmur_rotl(h, 13)
    return h * 5u + 0xE6546B64u


cdef inline uint32_t murmurhash3_32(const char* key, Py_ssize_t length, uint32_t seed) noexcept nogil:
    """MurmurHash3_x86_32 of ``length`` bytes at ``key`` (little-endian words, as on x86 and ARM)."""
    cdef const uint8_t* data = <const uint8_t*>key
    cdef Py_ssize_t n_blocks = length // 4, i
    cdef uint32_t h = seed, k
    for i in range(n_blocks):
        memcpy(&k, data + 4 * i, 4)
        h = murmur_block(h, k)
    cdef const uint8_t* tail = data + 4 * n_blocks
    cdef int rest = length & 3
    k = 0
    if rest == 3:
        k ^= (<uint32_t>tail[2]) << 16
    if rest >= 2:
        k ^= (<uint32_t>tail[1]) << 8
    if rest >= 1:
        k ^= tail[0]
        h ^= murmur_mix_key(k)
    return murmur_fmix(h, <uint32_t>length)


cdef inline uint32_t murmurhash3_32_pair(const char* a, Py_ssize_t na, const char* b, Py_ssize_t nb,
                                         uint32_t seed, char* scratch) noexcept nogil:
    """The hash of the concatenation a + b; ``scratch`` must hold na + nb bytes."""
    memcpy(scratch, a, na)
    memcpy(scratch + na, b, nb)
    return murmurhash3_32(scratch, na + nb, seed)
