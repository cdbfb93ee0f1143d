/*
 * C test of qkit's C ABI: links against the static library and checks every
 * function against an independent C reference written from TFLite's
 * quantization_util.cc / common.h semantics (see SEMANTICS.md), on random
 * and edge inputs. Run by .ci/run:
 *
 *   cargo rustc --release --lib --features capi,std --crate-type staticlib
 *   gcc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude tests/c/capi_test.c \
 *       target/release/libqkit.a -lpthread -ldl -lm -o target/capi_test
 *   ./target/capi_test
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qkit.h"

static int failures = 0;
static int checks = 0;
#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        checks++;                                                          \
        if (!(cond)) {                                                     \
            if (failures++ < 20) {                                         \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
                fprintf(stderr, __VA_ARGS__);                              \
                fprintf(stderr, "\n");                                     \
            }                                                              \
        }                                                                  \
    } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static int8_t rnd_i8(void) { return (int8_t)(rnd() & 0xFF); }

/* ---- reference: TFLite quantization_util.cc / common.h ---- */
static void ref_quantize_multiplier(double m, int32_t *q, int32_t *shift) {
    if (m == 0.0) { *q = 0; *shift = 0; return; }
    int e;
    double f = frexp(m, &e);
    int64_t qf = (int64_t)round(f * (double)(1ll << 31));
    if (qf == (1ll << 31)) { qf /= 2; e++; }
    if (e < -31) { e = 0; qf = 0; }
    *q = (int32_t)qf;
    *shift = e;
}
static int32_t ref_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));
}
static int32_t ref_rdbpot(int32_t x, int e) {
    int32_t mask = (int32_t)((1ll << e) - 1);
    int32_t rem = x & mask;
    int32_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> e) + (rem > thr ? 1 : 0);
}
static int32_t ref_mbqm_double(int32_t x, int32_t q, int shift) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t xl = (int32_t)((uint32_t)x << left); /* wraps, as TFLite in practice */
    return ref_rdbpot(ref_srdhm(xl, q), right);
}
static int32_t ref_mbqm_single(int32_t x, int32_t q, int shift) {
    int t = 31 - shift;
    int64_t r = ((int64_t)x * q + (1ll << (t - 1))) >> t;
    return (int32_t)r;
}
static int32_t clamp32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static void test_quantize_multiplier(void) {
    qkit_quantized_multiplier m;
    for (int i = 0; i < 20000; i++) {
        double real;
        switch (i % 4) {
            case 0: real = ldexp((double)rnd() / 4294967296.0, (int)(rnd() % 80) - 60); break;
            case 1: real = (double)rnd() / (double)(rnd() | 1); break;
            case 2: real = 1.0 - ldexp(1.0, -(int)(rnd() % 45)); break;
            default: real = ldexp(1.0, (int)(rnd() % 60) - 40); break;
        }
        int32_t q, s;
        ref_quantize_multiplier(real, &q, &s);
        qkit_status st = qkit_quantize_multiplier(real, &m);
        CHECK(st == QKIT_OK && m.multiplier == q && m.shift == s,
              "quantize_multiplier(%.17g): got (%d, %d, st %d), want (%d, %d)", real, m.multiplier, m.shift, st, q, s);
    }
    CHECK(qkit_quantize_multiplier(-0.5, &m) == QKIT_ERR_PARAM, "negative multiplier");
    CHECK(qkit_quantize_multiplier(NAN, &m) == QKIT_ERR_PARAM, "NaN multiplier");
    CHECK(qkit_quantize_multiplier(INFINITY, &m) == QKIT_ERR_PARAM, "inf multiplier");
    CHECK(qkit_quantize_multiplier(0.5, NULL) == QKIT_ERR_NULL, "NULL out");
}

static void test_mbqm(void) {
    for (int i = 0; i < 200000; i++) {
        int32_t x = (int32_t)rnd();
        if (i % 3 == 0) x >>= (rnd() % 31);
        int32_t q = (int32_t)((rnd() >> 1) | (1u << 30));
        int shift = (int)(rnd() % 62) - 31; /* -31 ..= 30 */
        if (shift > 0) x >>= shift;          /* stay inside the left-shift contract */
        qkit_quantized_multiplier m = {q, shift};
        int32_t y = 0;
        CHECK(qkit_multiply_by_quantized_multiplier(x, m, QKIT_ROUNDING_DOUBLE, &y) == QKIT_OK &&
                  y == ref_mbqm_double(x, q, shift),
              "double MBQM(%d, %d, %d) = %d, want %d", x, q, shift, y, ref_mbqm_double(x, q, shift));
        CHECK(qkit_multiply_by_quantized_multiplier(x, m, QKIT_ROUNDING_SINGLE, &y) == QKIT_OK &&
                  y == ref_mbqm_single(x, q, shift),
              "single MBQM(%d, %d, %d) = %d, want %d", x, q, shift, y, ref_mbqm_single(x, q, shift));
    }
    /* tensorflow/tensorflow#25087: the two modes differ. */
    qkit_quantized_multiplier m = {1583594044, -9};
    int32_t y;
    qkit_multiply_by_quantized_multiplier(7984, m, QKIT_ROUNDING_DOUBLE, &y);
    CHECK(y == 12, "#25087 double");
    qkit_multiply_by_quantized_multiplier(7984, m, QKIT_ROUNDING_SINGLE, &y);
    CHECK(y == 11, "#25087 single");
    CHECK(qkit_multiply_by_quantized_multiplier(1, m, 7, &y) == QKIT_ERR_PARAM, "bad rounding mode");
}

static void test_dot(void) {
    static int8_t a[1000], b[1000];
    for (int n = 0; n <= 300; n++) {
        for (int k = 0; k < n; k++) {
            a[k] = (n % 7 == 0) ? -128 : rnd_i8();
            b[k] = (n % 11 == 0) ? -128 : rnd_i8();
        }
        int32_t want = 0, got = 12345;
        for (int k = 0; k < n; k++) want += (int32_t)a[k] * b[k];
        CHECK(qkit_dot_i8(a, b, (size_t)n, &got) == QKIT_OK && got == want, "dot n=%d: %d vs %d", n, got, want);
    }
    int32_t d;
    CHECK(qkit_dot_i8(NULL, NULL, 0, &d) == QKIT_OK && d == 0, "empty dot");
    CHECK(qkit_dot_i8(NULL, b, 3, &d) == QKIT_ERR_NULL, "NULL a");
}

static void test_requantize(void) {
    enum { N = 97 * 6 };
    static int32_t acc[N], bias[6];
    static int8_t out[N];
    qkit_quantized_multiplier ms[6];
    for (int trial = 0; trial < 200; trial++) {
        int channels = 1 + (int)(rnd() % 6);
        int n = channels * (int)(rnd() % 97);
        for (int c = 0; c < channels; c++) {
            qkit_quantize_multiplier(ldexp((double)(rnd() | 1) / 4294967296.0, -(int)(rnd() % 12)), &ms[c]);
            bias[c] = (int32_t)(rnd() % 20001) - 10000;
        }
        for (int i = 0; i < n; i++) acc[i] = (int32_t)(rnd() % 2000001) - 1000000;
        int32_t zp = (int32_t)(rnd() % 256) - 128, lo = -128 + (int32_t)(rnd() % 20), hi = 127 - (int32_t)(rnd() % 20);
        qkit_rounding r = (qkit_rounding)(trial % 2);
        CHECK(qkit_requantize_i8(acc, (size_t)n, bias, (size_t)channels, ms, (size_t)channels, zp, lo, hi, r, out) == QKIT_OK,
              "requantize status");
        for (int i = 0; i < n; i++) {
            int c = i % channels;
            int32_t v = acc[i] + bias[c];
            int32_t y = r == QKIT_ROUNDING_DOUBLE ? ref_mbqm_double(v, ms[c].multiplier, ms[c].shift)
                                                  : ref_mbqm_single(v, ms[c].multiplier, ms[c].shift);
            int32_t want = clamp32(y + zp, lo, hi);
            CHECK(out[i] == want, "requantize[%d] = %d, want %d", i, out[i], want);
        }
    }
    CHECK(qkit_requantize_i8(acc, 4, NULL, 0, ms, 0, 0, -128, 127, 0, out) == QKIT_ERR_LENGTH, "no multipliers");
}

static void test_fully_connected(void) {
    enum { B = 3, IN = 37, OUT = 45 };
    static int8_t x[B * IN], w[OUT * IN], y[B * OUT];
    static int32_t bias[OUT];
    static float scales[OUT];
    for (int trial = 0; trial < 40; trial++) {
        int per_channel = trial % 2;
        int act = (trial / 2) % 3; /* none, relu, relu6 */
        qkit_rounding r = (qkit_rounding)((trial / 6) % 2);
        for (int i = 0; i < B * IN; i++) x[i] = rnd_i8();
        for (int i = 0; i < OUT * IN; i++) { w[i] = rnd_i8(); if (w[i] == -128) w[i] = -127; }
        for (int o = 0; o < OUT; o++) {
            bias[o] = (int32_t)(rnd() % 40001) - 20000;
            scales[o] = 0.001f + (float)(rnd() % 1000) * 1e-5f;
        }
        float s_in = 0.02f + (float)(rnd() % 100) * 1e-4f, s_out = 0.05f + (float)(rnd() % 100) * 1e-3f;
        int32_t zp_in = (int32_t)(rnd() % 256) - 128, zp_out = (int32_t)(rnd() % 200) - 100;
        CHECK(qkit_fully_connected_i8(x, B, IN, w, OUT, bias, s_in, zp_in, scales, per_channel ? OUT : 1, s_out, zp_out,
                                      act, r, y) == QKIT_OK,
              "fully_connected status");
        /* TFLite CalculateActivationRangeQuantized: zp + round(f / scale) in float. */
        int32_t lo = -128, hi = 127;
        if (act >= 1) { int32_t z = zp_out; lo = z > lo ? z : lo; }
        if (act == 2) { int32_t six = zp_out + (int32_t)roundf(6.0f / s_out); hi = six < hi ? six : hi; }
        for (int o = 0; o < OUT; o++) {
            double real = per_channel ? (double)s_in * (double)scales[o] / (double)s_out
                                      : (double)(s_in * scales[0]) / (double)s_out;
            int32_t q, s;
            ref_quantize_multiplier(real, &q, &s);
            for (int bt = 0; bt < B; bt++) {
                int32_t acc = 0;
                for (int k = 0; k < IN; k++) acc += (int32_t)w[o * IN + k] * ((int32_t)x[bt * IN + k] - zp_in);
                acc += bias[o];
                int32_t v = (r == QKIT_ROUNDING_DOUBLE ? ref_mbqm_double(acc, q, s) : ref_mbqm_single(acc, q, s)) + zp_out;
                int32_t want = clamp32(v, lo, hi);
                CHECK(y[bt * OUT + o] == want, "fc trial %d [%d,%d] = %d, want %d", trial, bt, o, y[bt * OUT + o], want);
            }
        }
    }
    CHECK(qkit_fully_connected_i8(x, B, IN, w, OUT, bias, 0.0f, 0, scales, 1, 1.0f, 0, 0, 0, y) == QKIT_ERR_PARAM,
          "zero input scale");
    CHECK(qkit_fully_connected_i8(x, B, IN, w, OUT, bias, 1.0f, 0, scales, 2, 1.0f, 0, 0, 0, y) == QKIT_ERR_LENGTH,
          "two filter scales for 45 channels");
}

int main(void) {
    test_quantize_multiplier();
    test_mbqm();
    test_dot();
    test_requantize();
    test_fully_connected();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures != 0;
}
