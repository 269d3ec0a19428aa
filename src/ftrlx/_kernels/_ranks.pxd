# The place of each key of a short row in its sorted order, shared by the training kernels (rows that are not
# canonical, ftrlx._kernels._online) and the compiled Criteo/Avazu parser (the row of hashed fields,
# ftrlx._kernels._tsv).
from libc.stdint cimport int32_t, int64_t

# ranks[i] = how many of the n distinct keys are smaller than keys[i].  keys and ranks hold n rounded up to a
# multiple of 8 (the padding lanes are read, never compared, and their ranks mean nothing).  n^2 comparisons
# without a branch: for the few dozen entries of a row this beats a comparison sort, whose branches the processor
# mispredicts about once per entry.  On x86-64 the 32-bit ranks run in AVX2 where the processor has it (asked at
# each call: one load of a flag), 32 keys at a time against each broadcast key; every path gives the same ranks.
cdef extern from *:
    """
    #include <stdint.h>
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>
    #define FTRLX_RANKS_AVX2 1
    #endif
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
    #define FTRLX_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
    #else
    #define FTRLX_SIMD_CLONES
    #endif
    #if defined(__GNUC__) || defined(__clang__)
    #define FTRLX_MAYBE_UNUSED __attribute__((unused))
    #else
    #define FTRLX_MAYBE_UNUSED
    #endif

    #define FTRLX_RANKS(name, type)                                                  \\
    FTRLX_SIMD_CLONES FTRLX_MAYBE_UNUSED static void name(const type* keys, type* ranks, int64_t n) {\\
        int64_t i, j, l;                                                             \\
        for (i = 0; i < n; i += 8) {                                                 \\
            type acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                  \\
            for (j = 0; j < n; j++) {                                                \\
                type x = keys[j];                                                    \\
                for (l = 0; l < 8; l++) acc[l] += x < keys[i + l];                   \\
            }                                                                        \\
            for (l = 0; l < 8; l++) ranks[i + l] = acc[l];                           \\
        }                                                                            \\
    }
    FTRLX_RANKS(ftrlx_ranks32_generic, int32_t)
    FTRLX_RANKS(ftrlx_ranks64, int64_t)

    #ifdef FTRLX_RANKS_AVX2
    /* A compare gives -1 in each lane where the broadcast key is smaller: subtracting it counts. Four vectors of
       keys share each broadcast, so that the counting keeps the vector units busy. */
    #define FTRLX_LOAD(p) _mm256_loadu_si256((const __m256i*)(p))
    #define FTRLX_COUNT(acc, k, x) acc = _mm256_sub_epi32(acc, _mm256_cmpgt_epi32(k, x))
    __attribute__((target("avx2"))) static void ftrlx_ranks32_avx2(const int32_t* keys, int32_t* ranks, int64_t n) {
        int64_t i = 0, j;
        __m256i x, k0, k1, k2, k3, a0, a1, a2, a3;
        for (; i + 24 < n; i += 32) {
            k0 = FTRLX_LOAD(keys + i);
            k1 = FTRLX_LOAD(keys + i + 8);
            k2 = FTRLX_LOAD(keys + i + 16);
            k3 = FTRLX_LOAD(keys + i + 24);
            a0 = a1 = a2 = a3 = _mm256_setzero_si256();
            for (j = 0; j < n; j++) {
                x = _mm256_set1_epi32(keys[j]);
                FTRLX_COUNT(a0, k0, x);
                FTRLX_COUNT(a1, k1, x);
                FTRLX_COUNT(a2, k2, x);
                FTRLX_COUNT(a3, k3, x);
            }
            _mm256_storeu_si256((__m256i*)(ranks + i), a0);
            _mm256_storeu_si256((__m256i*)(ranks + i + 8), a1);
            _mm256_storeu_si256((__m256i*)(ranks + i + 16), a2);
            _mm256_storeu_si256((__m256i*)(ranks + i + 24), a3);
        }
        for (; i < n; i += 8) {
            k0 = FTRLX_LOAD(keys + i);
            a0 = _mm256_setzero_si256();
            for (j = 0; j < n; j++) {
                x = _mm256_set1_epi32(keys[j]);
                FTRLX_COUNT(a0, k0, x);
            }
            _mm256_storeu_si256((__m256i*)(ranks + i), a0);
        }
    }
    #undef FTRLX_LOAD
    #undef FTRLX_COUNT
    #endif

    /* generic: the plain loop (the path of processors without AVX2), for the tests that compare the two */
    static void ftrlx_ranks32_path(const int32_t* keys, int32_t* ranks, int64_t n, int generic) {
    #ifdef FTRLX_RANKS_AVX2
        if (!generic && __builtin_cpu_supports("avx2")) {
            ftrlx_ranks32_avx2(keys, ranks, n);
            return;
        }
    #endif
        ftrlx_ranks32_generic(keys, ranks, n);
    }

    static inline void ftrlx_ranks32(const int32_t* keys, int32_t* ranks, int64_t n) {
        ftrlx_ranks32_path(keys, ranks, n, 0);
    }
    """
    void ranks32 "ftrlx_ranks32"(const int32_t* keys, int32_t* ranks, int64_t n) noexcept nogil
    void ranks32_path "ftrlx_ranks32_path"(const int32_t* keys, int32_t* ranks, int64_t n, int generic) noexcept nogil
    void ranks64 "ftrlx_ranks64"(const int64_t* keys, int64_t* ranks, int64_t n) noexcept nogil
