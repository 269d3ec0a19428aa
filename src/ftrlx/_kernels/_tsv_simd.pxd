# The field split of a line, the hottest loop of the compiled Criteo/Avazu parser (ftrlx._kernels._tsv), in C.
from libc.stdint cimport int32_t, uint8_t

# In C, for the vector instructions Cython cannot express: the split compares 16 bytes at a time with SSE2 (part
# of every x86-64; a byte loop elsewhere). Both give the same results.
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    #define FTRLX_CL_CR 2
    #define FTRLX_CL_QUOTE 4
    #define FTRLX_CL_HIGH 8

    /* Field starts of the line buf[s:e] into fs (fs[k] follows the k-th separator, the index clamped at
       cap + 1 so a line with too many fields cannot write past fs); returns the number of separators and sets
       *flags to the carriage returns, quotes (quote >= 0) and non-ASCII bytes seen. */
    static int ftrlx_split(const uint8_t* buf, Py_ssize_t s, Py_ssize_t e, int sep, int quote,
                           Py_ssize_t* fs, int cap, int* flags) {
        int nf = 0, k, f = 0;
        Py_ssize_t p = s;
        fs[0] = s;
    #if defined(__SSE2__)
        uint8_t tail[16];
        unsigned cr = 0, quotes = 0, high = 0, valid, m;
        const __m128i vsep = _mm_set1_epi8((char)sep), vcr = _mm_set1_epi8(13);
        const __m128i vquote = _mm_set1_epi8((char)(quote >= 0 ? quote : 13));
        __m128i w;
        while (p < e) {
            valid = 0xFFFFu;
            if (p + 16 <= e) {
                w = _mm_loadu_si128((const __m128i*)(buf + p));
            } else {  /* never read past the line's end: the last bytes go through a zeroed copy */
                memset(tail, 0, 16);
                memcpy(tail, buf + p, (size_t)(e - p));
                w = _mm_loadu_si128((const __m128i*)tail);
                valid = (1u << (e - p)) - 1u;
            }
            m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vsep)) & valid;
            cr |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vcr)) & valid;
            if (quote >= 0)
                quotes |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(w, vquote)) & valid;
            high |= (unsigned)_mm_movemask_epi8(w);
            while (m) {
                k = nf < cap ? nf : cap;
                fs[k + 1] = p + __builtin_ctz(m) + 1;
                nf++;
                m &= m - 1;
            }
            p += 16;
        }
        if (cr) f |= FTRLX_CL_CR;
        if (quotes) f |= FTRLX_CL_QUOTE;
        if (high) f |= FTRLX_CL_HIGH;
    #else
        for (; p < e; p++) {
            uint8_t c = buf[p];
            if (c == (uint8_t)sep) {
                k = nf < cap ? nf : cap;
                fs[k + 1] = p + 1;
                nf++;
            } else if (c == 13) {
                f |= FTRLX_CL_CR;
            } else if (quote >= 0 && c == (uint8_t)quote) {
                f |= FTRLX_CL_QUOTE;
            } else if (c >= 0x80) {
                f |= FTRLX_CL_HIGH;
            }
        }
    #endif
        *flags = f;
        return nf;
    }

    """
    int ftrlx_split(const uint8_t* buf, Py_ssize_t s, Py_ssize_t e, int sep, int quote, Py_ssize_t* fs, int cap,
                    int* flags) nogil
