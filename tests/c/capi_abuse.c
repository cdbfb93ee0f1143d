/*
 * C abuse test of qkit's C ABI: huge lengths, NULL, misaligned and overlapping pointers,
 * inconsistent lengths and bad parameters. Every call must return the code include/qkit.h
 * documents and leave every output untouched (sentinels). Run by .ci/run next to
 * capi_test.c:
 *
 *   cargo rustc --release --lib --features capi,std --crate-type staticlib
 *   gcc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude tests/c/capi_abuse.c \
 *       target/release/libqkit.a -lpthread -ldl -lm -o target/capi_abuse
 *   ./target/capi_abuse
 *
 * Misaligned pointers are made with integer arithmetic and only passed, never dereferenced
 * here; qkit must reject them before it dereferences anything.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qkit.h"

static int failures = 0;
static int checks = 0;
#define EXPECT(call, want)                                                                   \
    do {                                                                                     \
        qkit_status got_ = (call);                                                           \
        checks++;                                                                            \
        if (got_ != (want)) {                                                                \
            failures++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: %s = %d, want %s = %d\n", __FILE__, __LINE__, #call, \
                    (int)got_, #want, (int)(want));                                          \
        }                                                                                    \
    } while (0)
#define UNTOUCHED(buf, byte)                                                              \
    do {                                                                                  \
        checks++;                                                                         \
        for (size_t i_ = 0; i_ < sizeof(buf); i_++) {                                     \
            if (((const unsigned char *)(buf))[i_] != (unsigned char)(byte)) {            \
                failures++;                                                               \
                fprintf(stderr, "FAIL %s:%d: %s[%zu] was written\n", __FILE__, __LINE__, \
                        #buf, i_);                                                        \
                break;                                                                    \
            }                                                                             \
        }                                                                                 \
    } while (0)

#define SENTINEL 0x5A

static const qkit_quantized_multiplier ONE = {1 << 30, 1};

static void *misalign(const void *p, size_t by) { return (void *)((uintptr_t)p + by); }

static void huge_lengths(void) {
    int32_t acc[4] = {1, 2, 3, 4};
    int8_t out[4];
    int32_t d = SENTINEL;
    const size_t huge[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, (size_t)PTRDIFF_MAX / 4 + 1};
    memset(out, SENTINEL, sizeof out);
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
        EXPECT(qkit_requantize_i8(acc, huge[k], NULL, 0, &ONE, 1, 0, -128, 127, 0, out),
               QKIT_ERR_LENGTH);
        EXPECT(qkit_requantize_i8(acc, 4, NULL, 0, &ONE, huge[k], 0, -128, 127, 0, out),
               QKIT_ERR_LENGTH);
    }
    EXPECT(qkit_dot_i8((const int8_t *)acc, (const int8_t *)acc, SIZE_MAX, &d), QKIT_ERR_LENGTH);
    EXPECT(qkit_dot_i8((const int8_t *)acc, (const int8_t *)acc, (size_t)PTRDIFF_MAX + 1, &d),
           QKIT_ERR_LENGTH);
    /* A buffer that would wrap around the address space. */
    const int8_t *top = (const int8_t *)(uintptr_t)(UINTPTR_MAX - 7);
    EXPECT(qkit_dot_i8(top, top, 16, &d), QKIT_ERR_LENGTH);
    UNTOUCHED(out, SENTINEL);
    checks++;
    if (d != SENTINEL) { failures++; fprintf(stderr, "FAIL: dot result written\n"); }

    /* Fully connected: dimension products that overflow size_t or PTRDIFF_MAX. */
    int8_t w[4] = {1, 1, 1, 1}, y[4];
    float s_w = 1.0f;
    memset(y, SENTINEL, sizeof y);
    EXPECT(qkit_fully_connected_i8(w, SIZE_MAX, 2, w, 2, NULL, 1.0f, 0, &s_w, 1, 1.0f, 0, 0, 0, y),
           QKIT_ERR_LENGTH);
    EXPECT(qkit_fully_connected_i8(w, 2, SIZE_MAX, w, 2, NULL, 1.0f, 0, &s_w, 1, 1.0f, 0, 0, 0, y),
           QKIT_ERR_LENGTH);
    EXPECT(qkit_fully_connected_i8(w, (size_t)1 << 62, 0, w, 4, NULL, 1.0f, 0, &s_w, 1, 1.0f, 0, 0,
                                   0, y),
           QKIT_ERR_LENGTH);
    EXPECT(qkit_fully_connected_i8(w, (size_t)1 << 62, 0, w, 2, NULL, 1.0f, 0, &s_w, 1, 1.0f, 0, 0,
                                   0, y),
           QKIT_ERR_LENGTH);
    /* batch = 2^40, in_dim = 0, out_dim = 0: nothing to read or write. */
    EXPECT(qkit_fully_connected_i8(NULL, (size_t)1 << 40, 0, NULL, 0, NULL, 1.0f, 0, &s_w, 1, 1.0f,
                                   0, 0, 0, NULL),
           QKIT_OK);
    UNTOUCHED(y, SENTINEL);
}

static void nulls(void) {
    int32_t acc[4] = {1, 2, 3, 4};
    int8_t out[4];
    int32_t d;
    memset(out, SENTINEL, sizeof out);
    EXPECT(qkit_requantize_i8(NULL, 4, NULL, 0, &ONE, 1, 0, -128, 127, 0, out), QKIT_ERR_NULL);
    EXPECT(qkit_requantize_i8(acc, 4, NULL, 0, &ONE, 1, 0, -128, 127, 0, NULL), QKIT_ERR_NULL);
    EXPECT(qkit_requantize_i8(acc, 4, NULL, 4, &ONE, 1, 0, -128, 127, 0, out), QKIT_ERR_NULL);
    EXPECT(qkit_requantize_i8(acc, 4, NULL, 0, NULL, 1, 0, -128, 127, 0, out), QKIT_ERR_NULL);
    EXPECT(qkit_requantize_i8(NULL, 0, NULL, 0, &ONE, 1, 0, -128, 127, 0, NULL), QKIT_OK);
    EXPECT(qkit_dot_i8(NULL, NULL, 0, NULL), QKIT_ERR_NULL);
    EXPECT(qkit_dot_i8(NULL, NULL, 0, &d), QKIT_OK);
    EXPECT(qkit_quantize_multiplier(0.5, NULL), QKIT_ERR_NULL);
    EXPECT(qkit_multiply_by_quantized_multiplier(1, ONE, 0, NULL), QKIT_ERR_NULL);
    UNTOUCHED(out, SENTINEL);
}

static void misaligned(void) {
    static int32_t words[8];
    int32_t acc[4] = {1, 2, 3, 4};
    qkit_quantized_multiplier ms[2] = {ONE, ONE};
    int8_t out[4];
    memset(out, SENTINEL, sizeof out);
    memset(words, SENTINEL, sizeof words);
    const int32_t *odd = misalign(words, 1);
    EXPECT(qkit_requantize_i8(odd, 4, NULL, 0, ms, 1, 0, -128, 127, 0, out), QKIT_ERR_ALIGNMENT);
    EXPECT(qkit_requantize_i8(acc, 4, odd, 1, ms, 1, 0, -128, 127, 0, out), QKIT_ERR_ALIGNMENT);
    EXPECT(qkit_requantize_i8(acc, 4, NULL, 0, misalign(ms, 2), 1, 0, -128, 127, 0, out),
           QKIT_ERR_ALIGNMENT);
    int8_t a[2] = {1, 2};
    EXPECT(qkit_dot_i8(a, a, 2, misalign(words, 2)), QKIT_ERR_ALIGNMENT);
    EXPECT(qkit_multiply_by_quantized_multiplier(1, ONE, 0, misalign(words, 3)),
           QKIT_ERR_ALIGNMENT);
    EXPECT(qkit_quantize_multiplier(0.5, misalign(words, 2)), QKIT_ERR_ALIGNMENT);
    int8_t w[2] = {1, 1}, y[2];
    memset(y, SENTINEL, sizeof y);
    EXPECT(qkit_fully_connected_i8(a, 1, 1, w, 2, misalign(words, 1), 1.0f, 0, (const float *)&words[4],
                                   1, 1.0f, 0, 0, 0, y),
           QKIT_ERR_ALIGNMENT);
    EXPECT(qkit_fully_connected_i8(a, 1, 1, w, 2, NULL, 1.0f, 0, misalign(words, 1), 1, 1.0f, 0, 0,
                                   0, y),
           QKIT_ERR_ALIGNMENT);
    UNTOUCHED(out, SENTINEL);
    UNTOUCHED(y, SENTINEL);
    UNTOUCHED(words, SENTINEL);
}

static void overlaps(void) {
    int32_t acc[4] = {100, 200, 300, 400};
    const int32_t acc0[4] = {100, 200, 300, 400};
    qkit_quantized_multiplier ms[1] = {{1 << 30, 0}};
    /* out inside acc: this returned QKIT_OK with corrupted results before. */
    EXPECT(qkit_requantize_i8(acc, 4, NULL, 0, ms, 1, 0, -128, 127, 0, (int8_t *)acc),
           QKIT_ERR_OVERLAP);
    EXPECT(qkit_requantize_i8(acc, 4, NULL, 0, ms, 1, 0, -128, 127, 0, (int8_t *)acc + 15),
           QKIT_ERR_OVERLAP);
    int32_t bias[4] = {0, 0, 0, 0};
    EXPECT(qkit_requantize_i8(acc, 4, bias, 4, ms, 1, 0, -128, 127, 0, (int8_t *)bias),
           QKIT_ERR_OVERLAP);
    EXPECT(qkit_requantize_i8(acc, 4, NULL, 0, ms, 1, 0, -128, 127, 0, (int8_t *)ms),
           QKIT_ERR_OVERLAP);
    checks++;
    if (memcmp(acc, acc0, sizeof acc) != 0) { failures++; fprintf(stderr, "FAIL: acc corrupted\n"); }
    /* The dot result over its input. */
    int32_t ab[2] = {0x01020304, 0x05060708};
    EXPECT(qkit_dot_i8((const int8_t *)ab, (const int8_t *)ab, 8, &ab[1]), QKIT_ERR_OVERLAP);
    /* Fully connected: output over the weights, the input, the bias. */
    int8_t w[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    float s_w = 1.0f;
    EXPECT(qkit_fully_connected_i8(w, 1, 2, w, 4, NULL, 1.0f, 0, &s_w, 1, 1.0f, 0, 0, 0, w + 4),
           QKIT_ERR_OVERLAP);
    EXPECT(qkit_fully_connected_i8(w + 6, 1, 2, w, 2, NULL, 1.0f, 0, &s_w, 1, 1.0f, 0, 0, 0, w + 6),
           QKIT_ERR_OVERLAP);
    int32_t fbias[4] = {0, 0, 0, 0};
    EXPECT(qkit_fully_connected_i8(w, 1, 2, w, 4, fbias, 1.0f, 0, &s_w, 1, 1.0f, 0, 0, 0,
                                   (int8_t *)fbias),
           QKIT_ERR_OVERLAP);
    /* Adjacent buffers do not overlap; inputs may overlap each other. */
    int32_t both[8] = {16, 32, 48, 64, 0, 0, 0, 0};
    EXPECT(qkit_requantize_i8(both, 4, NULL, 0, &ONE, 1, 0, -128, 127, 0, (int8_t *)&both[4]),
           QKIT_OK);
    int32_t d = 0;
    int8_t x[2] = {3, -4};
    EXPECT(qkit_dot_i8(x, x, 2, &d), QKIT_OK);
    checks++;
    if (d != 25) { failures++; fprintf(stderr, "FAIL: dot of overlapping inputs %d\n", d); }
}

static void validate_before_writing(void) {
    enum { OUT = 40 };
    int8_t w[OUT * 2], x[2] = {1, 2}, y[OUT];
    float scales[OUT];
    for (int i = 0; i < OUT * 2; i++) w[i] = 1;
    for (int o = 0; o < OUT; o++) scales[o] = 0.01f;
    /* A NaN scale at channel 35 used to come back after channels 0-31 were written. */
    scales[35] = NAN;
    memset(y, SENTINEL, sizeof y);
    EXPECT(qkit_fully_connected_i8(x, 1, 2, w, OUT, NULL, 1.0f, 0, scales, OUT, 1.0f, 0, 0, 0, y),
           QKIT_ERR_PARAM);
    UNTOUCHED(y, SENTINEL);
    /* A multiplier beyond shift 30 in one channel. */
    scales[35] = 2e9f;
    EXPECT(qkit_fully_connected_i8(x, 1, 2, w, OUT, NULL, 1.0f, 0, scales, OUT, 1.0f, 0, 0, 0, y),
           QKIT_ERR_PARAM);
    UNTOUCHED(y, SENTINEL);
    /* A per-tensor output scale of 2^-30: real multiplier 2^30, shift 31. */
    float one = 1.0f;
    EXPECT(qkit_fully_connected_i8(x, 1, 2, w, OUT, NULL, 1.0f, 0, &one, 1, ldexpf(1.0f, -30), 0,
                                   0, 0, y),
           QKIT_ERR_PARAM);
    UNTOUCHED(y, SENTINEL);
    scales[35] = 0.01f;
    EXPECT(qkit_fully_connected_i8(x, 1, 2, w, OUT, NULL, 1.0f, 0, scales, OUT, 0.01f, 0, 0, 0, y),
           QKIT_OK);
    checks++;
    for (int o = 0; o < OUT; o++) {
        if (y[o] != 3) { failures++; fprintf(stderr, "FAIL: fc y[%d] = %d\n", o, y[o]); break; }
    }
}

static void consistent_codes(void) {
    int32_t acc[6] = {1, 2, 3, 4, 5, 6}, bias[4] = {0, 0, 0, 0};
    qkit_quantized_multiplier ms[4] = {ONE, ONE, ONE, ONE};
    int8_t out[6];
    memset(out, SENTINEL, sizeof out);
    /* A non-NULL bias with n_bias == 0 gave QKIT_ERR_OTHER. */
    EXPECT(qkit_requantize_i8(acc, 6, bias, 0, ms, 1, 0, -128, 127, 0, out), QKIT_ERR_LENGTH);
    /* n % n_bias != 0 gave QKIT_ERR_PARAM. */
    EXPECT(qkit_requantize_i8(acc, 6, bias, 4, ms, 1, 0, -128, 127, 0, out), QKIT_ERR_LENGTH);
    EXPECT(qkit_requantize_i8(acc, 6, NULL, 0, ms, 4, 0, -128, 127, 0, out), QKIT_ERR_LENGTH);
    EXPECT(qkit_requantize_i8(acc, 6, bias, 3, ms, 2, 0, -128, 127, 0, out), QKIT_ERR_LENGTH);
    EXPECT(qkit_requantize_i8(acc, 6, NULL, 0, ms, 0, 0, -128, 127, 0, out), QKIT_ERR_LENGTH);
    qkit_quantized_multiplier bad[2] = {{1 << 30, 1}, {1 << 30, 31}};
    EXPECT(qkit_requantize_i8(acc, 6, NULL, 0, bad, 2, 0, -128, 127, 0, out), QKIT_ERR_PARAM);
    qkit_quantized_multiplier neg = {-1, 0};
    EXPECT(qkit_requantize_i8(acc, 6, NULL, 0, &neg, 1, 0, -128, 127, 0, out), QKIT_ERR_PARAM);
    EXPECT(qkit_requantize_i8(acc, 6, NULL, 0, ms, 1, 0, -129, 127, 0, out), QKIT_ERR_RANGE);
    EXPECT(qkit_requantize_i8(acc, 6, NULL, 0, ms, 1, 0, -128, 127, 9, out), QKIT_ERR_PARAM);
    EXPECT(qkit_requantize_i8(acc, 6, NULL, 0, ms, 1, 200, -128, 127, 0, out), QKIT_ERR_PARAM);
    UNTOUCHED(out, SENTINEL);
    int32_t y = SENTINEL;
    EXPECT(qkit_multiply_by_quantized_multiplier(1, bad[1], 0, &y), QKIT_ERR_PARAM);
    EXPECT(qkit_multiply_by_quantized_multiplier(1, ONE, 5, &y), QKIT_ERR_PARAM);
    checks++;
    if (y != SENTINEL) { failures++; fprintf(stderr, "FAIL: MBQM result written\n"); }
    int8_t w[2] = {1, 1}, x[1] = {1}, fy[2];
    float s[2] = {1.0f, 1.0f};
    memset(fy, SENTINEL, sizeof fy);
    EXPECT(qkit_fully_connected_i8(x, 1, 1, w, 2, NULL, 1.0f, 0, s, 3, 1.0f, 0, 0, 0, fy),
           QKIT_ERR_LENGTH);
    EXPECT(qkit_fully_connected_i8(x, 1, 1, w, 2, NULL, 1.0f, 0, s, 2, 1.0f, 0, 7, 0, fy),
           QKIT_ERR_PARAM);
    EXPECT(qkit_fully_connected_i8(x, 1, 1, w, 2, NULL, 1.0f, 300, s, 2, 1.0f, 0, 0, 0, fy),
           QKIT_ERR_PARAM);
    EXPECT(qkit_fully_connected_i8(x, 1, 1, w, 2, NULL, -1.0f, 0, s, 2, 1.0f, 0, 0, 0, fy),
           QKIT_ERR_PARAM);
    UNTOUCHED(fy, SENTINEL);
}

int main(void) {
    huge_lengths();
    nulls();
    misaligned();
    overlaps();
    validate_before_writing();
    consistent_codes();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures != 0;
}
