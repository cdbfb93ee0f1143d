/*
 * qkit.h: the C ABI of the qkit crate (Rust feature `capi`).
 *
 * Build the static library:
 *   hosted:     cargo rustc --release --lib --features capi,std --crate-type staticlib
 *               cc -Iinclude app.c target/release/libqkit.a -lpthread -ldl -lm
 *   bare metal: cargo rustc --release --lib --features capi,panic-halt --crate-type staticlib \
 *                   --target thumbv7em-none-eabihf -Zbuild-std=core
 *               (no std, no allocator, no libc beyond memcpy/memset; `panic-halt` provides the
 *               panic handler a Rust static library needs to link: it spins forever and is
 *               unreachable, since no input makes qkit panic.)
 *
 * CONTRACT
 * Every function returns a qkit_status: QKIT_OK (0) or one of the negative codes below, and
 * writes its results only after every check has passed: on any error no output has been
 * touched. The checks run in this order and the first failure is returned:
 *   1. each pointer/length pair, in parameter order:
 *        NULL with a non-zero length (or a NULL result pointer)       -> QKIT_ERR_NULL
 *        length * sizeof(element) > PTRDIFF_MAX, or the buffer would
 *        wrap around the end of the address space                     -> QKIT_ERR_LENGTH
 *        pointer not aligned to its element type (4 bytes for int32_t,
 *        float and qkit_quantized_multiplier; int8_t has no constraint) -> QKIT_ERR_ALIGNMENT
 *      A zero-length buffer is never dereferenced: any pointer, NULL included, is accepted.
 *   2. lengths that do not fit together, or an empty table where an entry is needed
 *                                                                      -> QKIT_ERR_LENGTH
 *   3. an output that shares a byte with an input or another output   -> QKIT_ERR_OVERLAP
 *      (inputs may overlap each other)
 *   4. parameters: scales, multipliers (multiplier >= 0, -31 <= shift <= 30), zero points,
 *      rounding and activation modes                                   -> QKIT_ERR_PARAM
 *      values outside the accepted range (activation bounds outside the output type)
 *                                                                      -> QKIT_ERR_RANGE
 * What C cannot tell qkit, the caller promises (as with memcpy): a pointer with a non-zero
 * length points to that many readable (writable, for outputs) elements. A length that passes
 * check 1 but exceeds the real buffer (say 1 << 40 elements in a 16-byte array) is undefined
 * behaviour that no C ABI can detect.
 *
 * ERROR CODES
 *   QKIT_OK             0  success
 *   QKIT_ERR_LENGTH    -1  a length too large for the address space, lengths that do not fit
 *                          together, or an empty table where one entry is needed
 *   QKIT_ERR_NULL      -2  a NULL pointer with a non-zero length, or a NULL result pointer
 *   QKIT_ERR_PARAM     -3  a scale, multiplier, shift, zero point or mode outside its domain
 *   QKIT_ERR_RANGE     -4  a value outside the accepted range
 *   QKIT_ERR_OTHER     -5  an internal error (a bug in qkit, never the caller's input; with
 *                          std a panic is caught and reported as this instead of unwinding)
 *   QKIT_ERR_ALIGNMENT -6  a pointer not aligned to its element type
 *   QKIT_ERR_OVERLAP   -7  an output overlapping an input or another output
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
#define QKIT_ERR_ALIGNMENT (-6)
#define QKIT_ERR_OVERLAP (-7)

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

/* TFLite QuantizeMultiplier: frexp, ties away from zero, 2^31 carry, flush below 2^-31.
 * The shift is not bounded above (real >= 2^30 gives shift >= 31, which the functions that
 * use a multiplier reject). QKIT_ERR_PARAM for a negative, NaN or infinite real. */
qkit_status qkit_quantize_multiplier(double real, qkit_quantized_multiplier *out);

/* TFLite MultiplyByQuantizedMultiplier, double or single rounding.
 * QKIT_ERR_PARAM unless m.multiplier >= 0 and -31 <= m.shift <= 30. */
qkit_status qkit_multiply_by_quantized_multiplier(int32_t x, qkit_quantized_multiplier m,
                                                  qkit_rounding rounding_mode, int32_t *out);

/* out[i] = clamp(MBQM(acc[i] + bias[c], m[c]) + zero_point, act_min, act_max).
 * n_multipliers == 1: per tensor; more: per channel, c = i % n_multipliers. bias is NULL with
 * n_bias == 0 (no bias) or one entry per channel (with one multiplier, n_bias sets the channel
 * count). QKIT_ERR_LENGTH for n_multipliers == 0, a non-NULL bias with n_bias == 0, a bias
 * count different from n_multipliers > 1, or n not a multiple of the channel count.
 * QKIT_ERR_OVERLAP if out overlaps acc, bias or multipliers. */
qkit_status qkit_requantize_i8(const int32_t *acc, size_t n, const int32_t *bias, size_t n_bias,
                               const qkit_quantized_multiplier *multipliers, size_t n_multipliers,
                               int32_t zero_point, int32_t act_min, int32_t act_max,
                               qkit_rounding rounding_mode, int8_t *out);

/* Exact int32 (wrapping) dot product of two int8 vectors. QKIT_ERR_OVERLAP if out overlaps
 * a or b. */
qkit_status qkit_dot_i8(const int8_t *a, const int8_t *b, size_t n, int32_t *out);

/* TFLite Micro int8 FULLY_CONNECTED: input [batch][in_dim], weights [out_dim][in_dim],
 * bias NULL or [out_dim], filter_scales 1 or out_dim, output [batch][out_dim].
 * QKIT_ERR_LENGTH if batch * in_dim, out_dim * in_dim or batch * out_dim overflows, or
 * n_filter_scales is neither 1 nor out_dim; QKIT_ERR_OVERLAP if output_data overlaps an input;
 * QKIT_ERR_PARAM for any bad scale or zero point, checked for every channel before the first
 * output is written. */
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
