# Routines over the few dozen keys of one row: the place of each key in their sorted order, for the compiled
# Criteo/Avazu parser (the row of hashed fields, ftrlx._kernels._tsv); whether a row names some column twice,
# with the first position of each column, for the training kernels (rows that are not canonical,
# ftrlx._kernels._online); and an insertion sort of 64-bit keys, for the parser's rows and the metrics' small
# chunks (ftrlx._kernels._metrics).
from libc.stdint cimport int32_t, int64_t, uint64_t

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

    FTRLX_SIMD_CLONES FTRLX_MAYBE_UNUSED static void ftrlx_ranks32_generic(const int32_t* keys, int32_t* ranks,
                                                                           int64_t n) {
        int64_t i, j, l;
        for (i = 0; i < n; i += 8) {
            int32_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            for (j = 0; j < n; j++) {
                int32_t x = keys[j];
                for (l = 0; l < 8; l++) acc[l] += x < keys[i + l];
            }
            for (l = 0; l < 8; l++) ranks[i + l] = acc[l];
        }
    }

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


# Whether any of n keys (n >= 1, every key >= 0) equals another.  keys holds n rounded up to a multiple of 8; the
# padding lanes are overwritten with distinct negative numbers, which no key equals.  Each pair compared once and
# without a branch: in AVX2 (where the processor has it) a block of 8 keys against the broadcast keys of each
# earlier block, and against its own rotations by 1 to 4 lanes (which meet every pair within the block), into
# four accumulators so that no chain of ORs sets the pace.  About half the work of ranking the same keys, and no
# ranks to apply: a row out of order whose columns are distinct is trained on in place.  For a row that repeats
# a column, the first position of each entry's column (the paths alike).
cdef extern from *:
    """
    static int ftrlx_repeats32_generic(int32_t* keys, int64_t n) {
        int64_t i, j;
        int32_t r = 0;
        for (j = 1; j < n; j++)
            for (i = 0; i < j; i++)
                r |= keys[i] == keys[j];
        return r != 0;
    }

    #ifdef FTRLX_RANKS_AVX2
    /* the lanes past the n keys, up to a multiple of 8, set to distinct negative numbers */
    static inline void ftrlx_pad_distinct(int32_t* keys, int64_t n) {
        int64_t l;
        for (l = n; l < ((n + 7) & ~(int64_t)7); l++) keys[l] = (int32_t)(-1 - (l - n));
    }

    #define FTRLX_EQ(acc, v, w) acc = _mm256_or_si256(acc, _mm256_cmpeq_epi32(v, w))
    __attribute__((target("avx2"))) static int ftrlx_repeats32_avx2(int32_t* keys, int64_t n) {
        int64_t m = (n + 7) & ~(int64_t)7, a, b;
        __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0, acc2 = acc0, acc3 = acc0, va, vb;
        __m256i x0, x1, x2, x3, x4, x5, x6, x7;
        const __m256i rot1 = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
        const __m256i rot2 = _mm256_setr_epi32(2, 3, 4, 5, 6, 7, 0, 1);
        const __m256i rot3 = _mm256_setr_epi32(3, 4, 5, 6, 7, 0, 1, 2);
        const __m256i rot4 = _mm256_setr_epi32(4, 5, 6, 7, 0, 1, 2, 3);
        ftrlx_pad_distinct(keys, n);
        for (a = 0; a < m; a += 8) {
            va = _mm256_loadu_si256((const __m256i*)(keys + a));
            FTRLX_EQ(acc0, va, _mm256_permutevar8x32_epi32(va, rot1));
            FTRLX_EQ(acc1, va, _mm256_permutevar8x32_epi32(va, rot2));
            FTRLX_EQ(acc2, va, _mm256_permutevar8x32_epi32(va, rot3));
            FTRLX_EQ(acc3, va, _mm256_permutevar8x32_epi32(va, rot4));
            if (a + 8 >= m) break;
            x0 = _mm256_set1_epi32(keys[a]);
            x1 = _mm256_set1_epi32(keys[a + 1]);
            x2 = _mm256_set1_epi32(keys[a + 2]);
            x3 = _mm256_set1_epi32(keys[a + 3]);
            x4 = _mm256_set1_epi32(keys[a + 4]);
            x5 = _mm256_set1_epi32(keys[a + 5]);
            x6 = _mm256_set1_epi32(keys[a + 6]);
            x7 = _mm256_set1_epi32(keys[a + 7]);
            for (b = a + 8; b < m; b += 8) {
                vb = _mm256_loadu_si256((const __m256i*)(keys + b));
                FTRLX_EQ(acc0, vb, x0);
                FTRLX_EQ(acc1, vb, x1);
                FTRLX_EQ(acc2, vb, x2);
                FTRLX_EQ(acc3, vb, x3);
                FTRLX_EQ(acc0, vb, x4);
                FTRLX_EQ(acc1, vb, x5);
                FTRLX_EQ(acc2, vb, x6);
                FTRLX_EQ(acc3, vb, x7);
            }
        }
        acc0 = _mm256_or_si256(_mm256_or_si256(acc0, acc1), _mm256_or_si256(acc2, acc3));
        return !_mm256_testz_si256(acc0, acc0);
    }
    #undef FTRLX_EQ
    #endif

    /* first[k] = the first position of keys[k] among the n keys (room for the padding, as for the repeats) */
    static void ftrlx_first32_generic(const int32_t* keys, int64_t n, int32_t* first) {
        int64_t k, t;
        for (k = 0; k < n; k++) {
            for (t = 0; keys[t] != keys[k]; t++) {}
            first[k] = (int32_t)t;
        }
    }

    #ifdef FTRLX_RANKS_AVX2
    /* each key against the blocks up to its own, the lowest block with a match last: no branch on the keys */
    __attribute__((target("avx2"))) static void ftrlx_first32_avx2(int32_t* keys, int64_t n, int32_t* first) {
        int64_t k, b;
        unsigned mask;
        int32_t f;
        __m256i x;
        ftrlx_pad_distinct(keys, n);
        for (k = 0; k < n; k++) {
            x = _mm256_set1_epi32(keys[k]);
            f = (int32_t)k;
            for (b = k & ~(int64_t)7; b >= 0; b -= 8) {
                mask = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(
                    _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i*)(keys + b)), x)));
                f = mask ? (int32_t)(b + __builtin_ctz(mask)) : f;
            }
            first[k] = f;
        }
    }
    #endif

    /* generic: the plain loops (the path of processors without AVX2), for the tests that compare the two */
    FTRLX_MAYBE_UNUSED static void ftrlx_first32_path(int32_t* keys, int64_t n, int32_t* first, int generic) {
    #ifdef FTRLX_RANKS_AVX2
        if (!generic && __builtin_cpu_supports("avx2")) {
            ftrlx_first32_avx2(keys, n, first);
            return;
        }
    #endif
        ftrlx_first32_generic(keys, n, first);
    }

    FTRLX_MAYBE_UNUSED static int ftrlx_repeats32_path(int32_t* keys, int64_t n, int generic) {
    #ifdef FTRLX_RANKS_AVX2
        if (!generic && __builtin_cpu_supports("avx2"))
            return ftrlx_repeats32_avx2(keys, n);
    #endif
        return ftrlx_repeats32_generic(keys, n);
    }
    """
    bint repeats32_path "ftrlx_repeats32_path"(int32_t* keys, int64_t n, int generic) noexcept nogil
    void first32_path "ftrlx_first32_path"(int32_t* keys, int64_t n, int32_t* first, int generic) noexcept nogil


cdef inline void insertion_sort_u64(uint64_t* a, Py_ssize_t n) noexcept nogil:
    """Sort a[0..n) in place by insertion: for a few dozen keys, or keys already nearly in order."""
    cdef Py_ssize_t i, j
    cdef uint64_t v
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v
