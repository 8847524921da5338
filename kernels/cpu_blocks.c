/* y[M, N] = x[M, K] @ W^T straight from a GGUF tensor's blocks (Q4_K, Q6_K, Q8_0, Q5_0), the way ggml does it.
 *
 * A one-token step streams every weight once, so its cost is the weight bytes over the memory bandwidth. The
 * weights stay in the file's block bytes (4.5 bits a weight for Q4_K, 6.6 for Q6_K, 8.5 for Q8_0) and are
 * never widened in memory: each block is decoded in registers and multiplied there.
 *
 * The activations are quantized first, per row, to int8 with one float scale per block of the weight type's
 * scale group (256 inputs for the K-quants, as ggml's Q8_K; 32 for Q8_0 / Q5_0, as ggml's Q8_0): x ~ dx * qx with
 * dx = max|x| / 127. A block's dot product is then an integer sum, exact:
 *   Q4_K  w = d * sc[s] * q - dmin * m[s]   (q in 0..15, 8 sub-blocks of 32, 6-bit sc and m)
 *         sum = d dx sum_s sc[s] (q . qx)_s - dmin dx sum_s m[s] (sum qx)_s
 *   Q6_K  w = d * sc[s] * (q - 32)          (q in 0..63, 16 sub-blocks of 16, int8 sc)
 *         sum = d dx (sum_s sc[s] (q . qx)_s - 32 sum_s sc[s] (sum qx)_s)
 *   Q8_0  w = d * q                         (q int8, blocks of 32)
 *   Q5_0  w = d * q                         (q = 5-bit level - 16, blocks of 32)
 *         sum = d dx (q . qx); qx is held biased by 128 (unsigned) and 128 sum q subtracted
 * With AVX512-VNNI the byte products run through _mm512_dpbusd_epi32 (unsigned x signed bytes, four per int32
 * lane); the portable path computes the same integers in plain C. Output rows are split across OpenMP
 * threads; each weight block, once decoded, serves all M (<= 16) activation rows.
 */
#include <math.h>
#include <stdint.h>
#ifdef __F16C__
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__)
#include <immintrin.h>
#define CB_VNNI 1
#endif

#define INLINE static inline __attribute__((always_inline))

enum { TYPE_Q5_0 = 6, TYPE_Q8_0 = 8, TYPE_Q4_K = 12, TYPE_Q6_K = 14 };
enum { QK = 256, GROUP = 32, MAX_ROWS = 16 };
enum { BYTES_Q4_K = 144, BYTES_Q6_K = 210, BYTES_Q8_0 = 34, BYTES_Q5_0 = 22 };

static float half_to_float(const uint8_t *p) {
    uint16_t h = (uint16_t)(p[0] | (p[1] << 8));
#ifdef __F16C__
    return _cvtsh_ss(h);
#endif
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff, bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000 | (mantissa << 13);
    } else if (exponent) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa) {  /* subnormal: normalise */
        exponent = 113;
        while (!(mantissa & 0x400)) { mantissa <<= 1; exponent--; }
        bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
    } else {
        bits = sign;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline float bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_bf16(float f) {  /* round to nearest even, as torch does */
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffff) > 0x7f800000) return (uint16_t)((bits >> 16) | 0x40);
    return (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

/* Q4_K's 12 scale bytes → four words whose bytes are sc[0..7] then m[0..7] (ggml's get_scale_min_k4, a
 * word at a time: built in registers, the vector path loads them without a round trip through memory). */
static void q4_k_scales(const uint8_t *packed, uint32_t out[4]) {
    uint32_t word[3];
    memcpy(word, packed, 12);
    out[0] = word[0] & 0x3f3f3f3f;
    out[1] = (word[2] & 0x0f0f0f0f) | (((word[0] >> 6) & 0x03030303) << 4);
    out[2] = word[1] & 0x3f3f3f3f;
    out[3] = ((word[2] >> 4) & 0x0f0f0f0f) | (((word[1] >> 6) & 0x03030303) << 4);
}

/* Where input i of a 256-block sits in the quantized activations of a Q4_K layer: sub-blocks in the order a
 * 64-byte load of the packed nibbles yields them (low nibbles: 0 then 2, high: 1 then 3; then 4 6 5 7). */
static int q4_k_slot(int i) {
    int s = i / 32;
    return 32 * ((s & 4) | ((s & 1) << 1) | ((s >> 1) & 1)) + i % 32;
}

/* The activations, quantized: q [m][k] (int8; Q8_0: biased by 128), one scale per group (Q8_0: repeated 8
 * times, one per int32 lane of its block), and the K-quants' sums of q per 16 and per 32 inputs. */
typedef struct {
    int8_t *q;
    float *d;
    int32_t *sums16;  /* [m][k / 16] */
    int32_t *sums32;  /* [m][k / 256][16]: 8 zeros, then the 8 sub-block sums (lines up with sc | m lanes) */
} Acts;

#ifndef CB_VNNI
static float input(const void *x, int bf16, int64_t at) {
    return bf16 ? bf16_to_float(((const uint16_t *)x)[at]) : ((const float *)x)[at];
}
#else
static __m512 inputs16(const void *x, int bf16, int64_t at) {
    if (!bf16) return _mm512_loadu_ps((const float *)x + at);
    __m256i halves = _mm256_loadu_si256((const __m256i *)((const uint16_t *)x + at));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}
#endif

static float max_abs(const void *x, int bf16, int64_t at, int64_t count) {
#ifdef CB_VNNI
    __m512 amax = _mm512_setzero_ps();
    for (int64_t i = 0; i < count; i += 16) amax = _mm512_max_ps(amax, _mm512_abs_ps(inputs16(x, bf16, at + i)));
    return _mm512_reduce_max_ps(amax);
#else
    float amax = 0.0f;
    for (int64_t i = 0; i < count; i++) amax = fmaxf(amax, fabsf(input(x, bf16, at + i)));
    return amax;
#endif
}

/* 16 inputs' levels, round(x * inverse) to nearest even, into q (biased by 128 or not); their sum. */
static int32_t levels16(const void *x, int bf16, int64_t at, float inverse, int biased, int8_t *q) {
#ifdef CB_VNNI
    __m512i level = _mm512_cvtps_epi32(_mm512_mul_ps(inputs16(x, bf16, at), _mm512_set1_ps(inverse)));
    __m128i bytes = _mm512_cvtepi32_epi8(level);
    if (biased) bytes = _mm_xor_si128(bytes, _mm_set1_epi8((char)0x80));
    _mm_storeu_si128((__m128i *)q, bytes);
    return _mm512_reduce_add_epi32(level);
#else
    int32_t sum = 0;
    for (int i = 0; i < 16; i++) {
        int level = (int)rintf(input(x, bf16, at + i) * inverse);
        q[i] = biased ? (int8_t)(uint8_t)(level + 128) : (int8_t)level;
        sum += level;
    }
    return sum;
#endif
}

static void quantize_rows(int type, const void *x, int bf16, int64_t m, int64_t k, Acts *a) {
    int by_32 = type == TYPE_Q8_0 || type == TYPE_Q5_0;
    int64_t group = by_32 ? GROUP : QK, groups = k / group;
    for (int64_t r = 0; r < m; r++) {
        for (int64_t g = 0; g < groups; g++) {
            int64_t at = r * k + g * group;
            float amax = max_abs(x, bf16, at, group);
            float scale = amax / 127.0f, inverse = amax > 0.0f ? 127.0f / amax : 0.0f;
            int8_t *q = a->q + at;
            int32_t sums[16] = {0};
            for (int i = 0; i < group; i += 16)
                sums[i / 16] = levels16(x, bf16, at + i, inverse, by_32, q + (type == TYPE_Q4_K ? q4_k_slot(i) : i));
            if (by_32) {
                for (int i = 0; i < 8; i++) a->d[(r * groups + g) * 8 + i] = scale;
                continue;
            }
            a->d[r * groups + g] = scale;
            memcpy(a->sums16 + (r * groups + g) * 16, sums, sizeof(sums));
            int32_t *s32 = a->sums32 + (r * groups + g) * 16;
            for (int s = 0; s < 8; s++) { s32[s] = 0; s32[8 + s] = sums[2 * s] + sums[2 * s + 1]; }
        }
    }
}

/* ---- portable C: the same integers, one weight at a time ---- */

INLINE void row_q4_k(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    int64_t blocks = k / QK;
    for (int64_t r = 0; r < m; r++) out[r] = 0.0f;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *block = row + b * BYTES_Q4_K;
        float d = half_to_float(block), dmin = half_to_float(block + 2);
        uint32_t words[4];
        q4_k_scales(block + 4, words);
        const uint8_t *sm = (const uint8_t *)words;
        for (int64_t r = 0; r < m; r++) {
            const int8_t *q = a->q + r * k + b * QK;
            int32_t dots = 0, mins = 0;
            for (int s = 0; s < 8; s++) {
                int32_t dot = 0;
                for (int l = 0; l < 32; l++) {
                    uint8_t byte = block[16 + 32 * (s / 2) + l];
                    dot += ((s & 1) ? byte >> 4 : byte & 0xf) * q[q4_k_slot(32 * s + l)];
                }
                dots += sm[s] * dot;
                mins += sm[8 + s] * a->sums32[(r * blocks + b) * 16 + 8 + s];
            }
            float dx = a->d[r * blocks + b];
            out[r] += d * dx * (float)dots - dmin * dx * (float)mins;
        }
    }
}

static int q6_k_level(const uint8_t *block, int i) {  /* input i of a block, 0..63 (ggml's layout) */
    const uint8_t *ql = block + 64 * (i / 128), *qh = block + 128 + 32 * (i / 128);
    int j = i % 128, l = j % 32, quarter = j / 32;
    int low = quarter & 1 ? ql[l + 32] : ql[l];
    return ((quarter >= 2 ? low >> 4 : low & 0xf) | (((qh[l] >> (2 * quarter)) & 3) << 4));
}

INLINE void row_q6_k(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    int64_t blocks = k / QK;
    for (int64_t r = 0; r < m; r++) out[r] = 0.0f;
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *block = row + b * BYTES_Q6_K;
        const int8_t *sc = (const int8_t *)(block + 192);
        float d = half_to_float(block + 208);
        for (int64_t r = 0; r < m; r++) {
            const int8_t *q = a->q + r * k + b * QK;
            int32_t total = 0;
            for (int s = 0; s < 16; s++) {
                int32_t dot = 0;
                for (int l = 0; l < 16; l++) dot += (q6_k_level(block, 16 * s + l) - 32) * q[16 * s + l];
                total += sc[s] * dot;
            }
            out[r] += d * a->d[r * blocks + b] * (float)total;
        }
    }
}

/* The blocks of 32 (Q8_0, Q5_0): signed levels times the activations, held biased by 128. */
INLINE int q8_0_level(const uint8_t *block, int l) { return (int8_t)block[2 + l]; }

INLINE int q5_0_level(const uint8_t *block, int l) {  /* low nibbles: inputs 0..15, high: 16..31; bit 4 in qh */
    uint32_t high;
    memcpy(&high, block + 2, 4);
    int low = l < 16 ? block[6 + l] & 0xf : block[6 + l - 16] >> 4;
    return (low | (((high >> l) & 1) << 4)) - 16;
}

typedef int (*Level)(const uint8_t *, int);

/* Adds blocks [first, k / GROUP) of the row to out. */
INLINE void row_groups(const uint8_t *row, int64_t bytes, Level level, int64_t first, int64_t k, const Acts *a,
                       int64_t m, float *out) {
    int64_t blocks = k / GROUP;
    for (int64_t b = first; b < blocks; b++) {
        const uint8_t *block = row + b * bytes;
        float d = half_to_float(block);
        for (int64_t r = 0; r < m; r++) {
            const uint8_t *q = (const uint8_t *)a->q + r * k + b * GROUP;
            int32_t dot = 0;
            for (int l = 0; l < GROUP; l++) dot += ((int)q[l] - 128) * level(block, l);
            out[r] += d * a->d[(r * blocks + b) * 8] * (float)dot;
        }
    }
}

INLINE void row_q8_0(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    for (int64_t r = 0; r < m; r++) out[r] = 0.0f;
    row_groups(row, BYTES_Q8_0, q8_0_level, 0, k, a, m, out);
}

INLINE void row_q5_0(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    for (int64_t r = 0; r < m; r++) out[r] = 0.0f;
    row_groups(row, BYTES_Q5_0, q5_0_level, 0, k, a, m, out);
}

#ifdef CB_VNNI
/* ---- AVX512-VNNI: 64 weights a dpbusd, one decoded block for all rows ---- */

static __m512i lane_index(int first, int second) {  /* lanes 0..7 ← first, 8..15 ← second */
    return _mm512_mask_mov_epi32(_mm512_set1_epi32(first), 0xff00, _mm512_set1_epi32(second));
}

INLINE void row_q4_k_vnni(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    int64_t blocks = k / QK;
    const __m512i low4 = _mm512_set1_epi8(0x0f), zero = _mm512_setzero_si512();
    const __m512i order[4] = {lane_index(0, 2), lane_index(1, 3), lane_index(4, 6), lane_index(5, 7)};
    __m512 acc[MAX_ROWS];
    for (int64_t r = 0; r < m; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *block = row + b * BYTES_Q4_K;
        float d = half_to_float(block), dmin = half_to_float(block + 2);
        uint32_t words[4];
        q4_k_scales(block + 4, words);
        __m128i packed_scales = _mm_set_epi64x((int64_t)((uint64_t)words[3] << 32 | words[2]),
                                               (int64_t)((uint64_t)words[1] << 32 | words[0]));
        __m512i scales_mins = _mm512_cvtepu8_epi32(packed_scales);
        __m512i scale[4], weights[4];
        for (int v = 0; v < 4; v++) scale[v] = _mm512_permutexvar_epi32(order[v], scales_mins);
        __m512i packed0 = _mm512_loadu_si512(block + 16), packed1 = _mm512_loadu_si512(block + 80);
        weights[0] = _mm512_and_si512(packed0, low4);
        weights[1] = _mm512_and_si512(_mm512_srli_epi16(packed0, 4), low4);
        weights[2] = _mm512_and_si512(packed1, low4);
        weights[3] = _mm512_and_si512(_mm512_srli_epi16(packed1, 4), low4);
        for (int64_t r = 0; r < m; r++) {
            const int8_t *q = a->q + r * k + b * QK;
            __m512i sum = zero;
            for (int v = 0; v < 4; v++) {
                __m512i dot = _mm512_dpbusd_epi32(zero, weights[v], _mm512_loadu_si512(q + 64 * v));
                sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(dot, scale[v]));
            }
            __m512i mins = _mm512_mullo_epi32(scales_mins, _mm512_loadu_si512(a->sums32 + (r * blocks + b) * 16));
            float dx = a->d[r * blocks + b];
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(d * dx), acc[r]);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(mins), _mm512_set1_ps(-dmin * dx), acc[r]);
        }
    }
    for (int64_t r = 0; r < m; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
}

INLINE void row_q6_k_vnni(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    int64_t blocks = k / QK;
    const __m512i low4 = _mm512_set1_epi8(0x0f), high2 = _mm512_set1_epi8(0x30), zero = _mm512_setzero_si512();
    /* qh's 2-bit fields to bits 4..5: first 32 bytes shift by 4 / 0, second by 2 / -2 (16-bit lanes) */
    const __m512i up = _mm512_mask_mov_epi16(_mm512_set1_epi16(4), 0xffff0000, _mm512_set1_epi16(2));
    const __m512i down = _mm512_mask_mov_epi16(_mm512_setzero_si512(), 0xffff0000, _mm512_set1_epi16(2));
    __m512i order[4];
    for (int v = 0; v < 4; v++)  /* lane i of weights 64v.. → sub-block 4v + i / 4 */
        order[v] = _mm512_add_epi32(_mm512_set1_epi32(4 * v),
                                    _mm512_srli_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
                                                                       3, 2, 1, 0), 2));
    __m512 acc[MAX_ROWS];
    for (int64_t r = 0; r < m; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *block = row + b * BYTES_Q6_K;
        float d = half_to_float(block + 208);
        __m512i scales = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(block + 192)));
        __m512i scale[4], weights[4];
        for (int v = 0; v < 4; v++) scale[v] = _mm512_permutexvar_epi32(order[v], scales);
        for (int half = 0; half < 2; half++) {
            __m512i ql = _mm512_loadu_si512(block + 64 * half);
            __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(block + 128 + 32 * half)));
            weights[2 * half] = _mm512_or_si512(_mm512_and_si512(ql, low4),
                                                _mm512_and_si512(_mm512_sllv_epi16(qh, up), high2));
            weights[2 * half + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), low4),
                                                    _mm512_and_si512(_mm512_srlv_epi16(qh, down), high2));
        }
        for (int64_t r = 0; r < m; r++) {
            const int8_t *q = a->q + r * k + b * QK;
            __m512i offset = _mm512_mullo_epi32(scales, _mm512_loadu_si512(a->sums16 + (r * blocks + b) * 16));
            __m512i sum = _mm512_sub_epi32(zero, _mm512_slli_epi32(offset, 5));
            for (int v = 0; v < 4; v++) {
                __m512i dot = _mm512_dpbusd_epi32(zero, weights[v], _mm512_loadu_si512(q + 64 * v));
                sum = _mm512_add_epi32(sum, _mm512_mullo_epi32(dot, scale[v]));
            }
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_set1_ps(d * a->d[r * blocks + b]), acc[r]);
        }
    }
    for (int64_t r = 0; r < m; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
}

/* Two blocks of 32 as 64 signed levels: Q8_0's bytes as they are; Q5_0's nibbles (low: inputs 0..15, high:
 * 16..31) with bit 4 from qh, minus 16. */
INLINE __m512i q8_0_pair(const uint8_t *block) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(block + 2))),
                              _mm256_loadu_si256((const __m256i *)(block + BYTES_Q8_0 + 2)), 1);
}

INLINE __m512i q5_0_pair(const uint8_t *block) {
    __m256i packed = _mm256_set_m128i(_mm_loadu_si128((const __m128i *)(block + BYTES_Q5_0 + 6)),
                                      _mm_loadu_si128((const __m128i *)(block + 6)));
    __m512i nibbles = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(packed),
                                                          _mm256_srli_epi16(packed, 4), 1), _mm512_set1_epi8(0x0f));
    nibbles = _mm512_shuffle_i64x2(nibbles, nibbles, _MM_SHUFFLE(3, 1, 2, 0));  /* low 0, high 0, low 1, high 1 */
    uint32_t high0, high1;
    memcpy(&high0, block + 2, 4);
    memcpy(&high1, block + BYTES_Q5_0 + 2, 4);
    __m512i fifth = _mm512_maskz_mov_epi8((__mmask64)high1 << 32 | high0, _mm512_set1_epi8(0x10));
    return _mm512_sub_epi8(_mm512_or_si512(nibbles, fifth), _mm512_set1_epi8(16));
}

typedef __m512i (*Pair)(const uint8_t *);

INLINE void row_groups_vnni(const uint8_t *row, int64_t bytes, Pair pair, Level level, int64_t k, const Acts *a,
                            int64_t m, float *out) {
    int64_t blocks = k / GROUP;
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    __m512 acc[MAX_ROWS];
    for (int64_t r = 0; r < m; r++) acc[r] = _mm512_setzero_ps();
    int64_t b = 0;
    for (; b + 2 <= blocks; b += 2) {  /* two blocks a register */
        const uint8_t *block = row + b * bytes;
        __m512i weights = pair(block);
        /* qx is held as qx + 128: start each lane at -128 times its weights' sum */
        __m512i start = _mm512_sub_epi32(zero, _mm512_slli_epi32(_mm512_dpbusd_epi32(zero, ones, weights), 7));
        __m512 d = _mm512_insertf32x8(_mm512_set1_ps(half_to_float(block)),
                                      _mm256_set1_ps(half_to_float(block + bytes)), 1);
        for (int64_t r = 0; r < m; r++) {
            __m512i dot = _mm512_dpbusd_epi32(start, _mm512_loadu_si512(a->q + r * k + b * GROUP), weights);
            __m512 dx = _mm512_loadu_ps(a->d + (r * blocks + b) * 8);
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(d, dx), acc[r]);
        }
    }
    for (int64_t r = 0; r < m; r++) out[r] = _mm512_reduce_add_ps(acc[r]);
    row_groups(row, bytes, level, b, k, a, m, out);  /* an odd last block */
}

INLINE void row_q8_0_vnni(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    row_groups_vnni(row, BYTES_Q8_0, q8_0_pair, q8_0_level, k, a, m, out);
}

INLINE void row_q5_0_vnni(const uint8_t *row, int64_t k, const Acts *a, int64_t m, float *out) {
    row_groups_vnni(row, BYTES_Q5_0, q5_0_pair, q5_0_level, k, a, m, out);
}
#endif

typedef void (*RowKernel)(const uint8_t *, int64_t, const Acts *, int64_t, float *);

/* Output rows [begin, end) of y [m, n]: each row kernel inlined, so that its constants are set up once. */
#define ROWS_ARGS const uint8_t *w, int64_t bytes, int64_t begin, int64_t end, int64_t n, int64_t k, \
                  const Acts *a, int64_t m, void *y, int bf16
typedef void (*RowsKernel)(ROWS_ARGS);

INLINE void run_rows(RowKernel kernel, ROWS_ARGS) {
    for (int64_t row = begin; row < end; row++) {
        float out[MAX_ROWS];
        kernel(w + row * bytes, k, a, m, out);
        for (int64_t r = 0; r < m; r++) {
            if (bf16) ((uint16_t *)y)[r * n + row] = float_to_bf16(out[r]);
            else ((float *)y)[r * n + row] = out[r];
        }
    }
}

#define ROWS(kernel) \
    static void rows_##kernel(ROWS_ARGS) { run_rows(kernel, w, bytes, begin, end, n, k, a, m, y, bf16); }
ROWS(row_q4_k)
ROWS(row_q6_k)
ROWS(row_q8_0)
ROWS(row_q5_0)
#ifdef CB_VNNI
ROWS(row_q4_k_vnni)
ROWS(row_q6_k_vnni)
ROWS(row_q8_0_vnni)
ROWS(row_q5_0_vnni)
#endif

static int row_bytes(int type, int64_t k) {
    switch (type) {
        case TYPE_Q4_K: return k % QK ? -1 : (int)(k / QK * BYTES_Q4_K);
        case TYPE_Q6_K: return k % QK ? -1 : (int)(k / QK * BYTES_Q6_K);
        case TYPE_Q8_0: return k % GROUP ? -1 : (int)(k / GROUP * BYTES_Q8_0);
        case TYPE_Q5_0: return k % GROUP ? -1 : (int)(k / GROUP * BYTES_Q5_0);
        default: return -1;
    }
}

int cb_vnni_available(void) {
#ifdef CB_VNNI
    return 1;
#else
    return 0;
#endif
}

/* y [m, n] (bf16 or fp32, like x) = x [m, k] @ W^T, W: n rows of the type's blocks. 0, or -1 for a type or
 * shape it does not take (k not a multiple of the blocks, m over MAX_ROWS), -2 when out of memory. */
int cb_matmul(int type, const uint8_t *w, int64_t n, int64_t k, const void *x, void *y, int64_t m, int bf16,
              int threads, int vnni) {
    int bytes = row_bytes(type, k);
    if (bytes < 0 || m < 1 || m > MAX_ROWS || n < 1) return -1;
    RowsKernel kernel = type == TYPE_Q4_K ? rows_row_q4_k : type == TYPE_Q6_K ? rows_row_q6_k
                      : type == TYPE_Q8_0 ? rows_row_q8_0 : rows_row_q5_0;
#ifdef CB_VNNI
    if (vnni)
        kernel = type == TYPE_Q4_K ? rows_row_q4_k_vnni : type == TYPE_Q6_K ? rows_row_q6_k_vnni
               : type == TYPE_Q8_0 ? rows_row_q8_0_vnni : rows_row_q5_0_vnni;
#else
    (void)vnni;
#endif
    int64_t groups = k / (type == TYPE_Q8_0 || type == TYPE_Q5_0 ? GROUP : QK);
    Acts a;
    a.q = aligned_alloc(64, (size_t)(m * k + 64));
    a.d = malloc(sizeof(float) * (size_t)(m * groups * 8));
    a.sums16 = malloc(sizeof(int32_t) * (size_t)(m * groups * 16));
    a.sums32 = malloc(sizeof(int32_t) * (size_t)(m * groups * 16));
    int status = a.q && a.d && a.sums16 && a.sums32 ? 0 : -2;
    if (!status) {
        quantize_rows(type, x, bf16, m, k, &a);
#pragma omp parallel num_threads(threads)
        {
            int64_t part = 0, parts = 1;
#ifdef _OPENMP
            part = omp_get_thread_num();
            parts = omp_get_num_threads();
#endif
            kernel(w, bytes, n * part / parts, n * (part + 1) / parts, n, k, &a, m, y, bf16);
        }
    }
    free(a.q);
    free(a.d);
    free(a.sums16);
    free(a.sums32);
    return status;
}
