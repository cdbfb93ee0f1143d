/*
 * qkit.h: the C ABI of the qkit crate (Rust feature `capi`).
 *
 * Build:  cargo rustc --release --lib --features capi --crate-type staticlib
 * Link:   cc -Iinclude app.c target/release/libqkit.a -lpthread -ldl -lm
 *
 * Every function returns a qkit_status (QKIT_OK = 0, negative on error) and
 * writes its result through an out pointer; no input makes it abort.
 * A pointer paired with a length may be NULL only when that length is 0
 * (a NULL bias means "no bias"); outputs must not overlap inputs.
 *
 * Kept in sync with src/capi.rs by tests/capi_header.rs.
 */
#ifndef QKIT_H
#define QKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t qkit_status;
#define QKIT_OK 0
#define QKIT_ERR_LENGTH (-1)
#define QKIT_ERR_NULL (-2)
#define QKIT_ERR_PARAM (-3)
#define QKIT_ERR_RANGE (-4)
#define QKIT_ERR_OTHER (-5)

typedef int32_t qkit_rounding;
#define QKIT_ROUNDING_DOUBLE 0  /* TFLite Micro / CMSIS-NN default */
#define QKIT_ROUNDING_SINGLE 1  /* TFLITE_SINGLE_ROUNDING */
#define QKIT_ROUNDING_FLOAT32 2 /* ONNX Runtime (fully connected only) */

typedef int32_t qkit_activation;
#define QKIT_ACTIVATION_NONE 0
#define QKIT_ACTIVATION_RELU 1
#define QKIT_ACTIVATION_RELU6 2
#define QKIT_ACTIVATION_RELU_N1_TO_1 3

/* real multiplier ~= multiplier * 2^(shift - 31); shift > 0 is a left shift. */
typedef struct qkit_quantized_multiplier {
    int32_t multiplier;
    int32_t shift;
} qkit_quantized_multiplier;

/* TFLite QuantizeMultiplier: frexp, ties away from zero, 2^31 carry, flush below 2^-31. */
qkit_status qkit_quantize_multiplier(double real, qkit_quantized_multiplier *out);

/* TFLite MultiplyByQuantizedMultiplier, double or single rounding. */
qkit_status qkit_multiply_by_quantized_multiplier(int32_t x, qkit_quantized_multiplier m,
                                                  qkit_rounding rounding_mode, int32_t *out);

/* out[i] = clamp(MBQM(acc[i] + bias[c], m[c]) + zero_point, act_min, act_max);
 * n_multipliers == 1: per tensor; else per channel, c = i % n_multipliers. */
qkit_status qkit_requantize_i8(const int32_t *acc, size_t n, const int32_t *bias, size_t n_bias,
                               const qkit_quantized_multiplier *multipliers, size_t n_multipliers,
                               int32_t zero_point, int32_t act_min, int32_t act_max,
                               qkit_rounding rounding_mode, int8_t *out);

/* Exact int32 (wrapping) dot product of two int8 vectors. */
qkit_status qkit_dot_i8(const int8_t *a, const int8_t *b, size_t n, int32_t *out);

/* TFLite Micro int8 FULLY_CONNECTED: input [batch][in_dim], weights [out_dim][in_dim],
 * bias NULL or [out_dim], filter_scales 1 or out_dim, output [batch][out_dim]. */
qkit_status qkit_fully_connected_i8(const int8_t *input_data, size_t batch, size_t in_dim,
                                    const int8_t *weights, size_t out_dim, const int32_t *bias,
                                    float input_scale, int32_t input_zero_point,
                                    const float *filter_scales, size_t n_filter_scales,
                                    float output_scale, int32_t output_zero_point,
                                    qkit_activation activation_kind, qkit_rounding rounding_mode,
                                    int8_t *output_data);

#ifdef __cplusplus
}
#endif

#endif /* QKIT_H */
