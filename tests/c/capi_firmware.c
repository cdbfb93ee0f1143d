/*
 * The C ABI in C firmware: a freestanding program (no stdio, no heap) that calls every
 * qkit function of the no_std static library, valid calls and rejected ones, and returns 0
 * only if every result is the expected one. .ci/run builds the library for
 * thumbv7em-none-eabihf (Cortex-M4F) and links this file against it with arm-none-eabi-gcc:
 *
 *   cargo rustc --release --lib --features capi,panic-halt --crate-type staticlib \
 *       -Zbuild-std=core --target thumbv7em-none-eabihf
 *   arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Iinclude \
 *       tests/c/capi_firmware.c libqkit.a --specs=nosys.specs -o capi_firmware.elf
 *
 * Linking proves the library needs nothing beyond what a bare-metal C toolchain has; the
 * program itself can run on any Cortex-M4F (QEMU mps2-an386 with a startup file).
 */
#include <stddef.h>
#include <stdint.h>

#include "qkit.h"

static int failures;
#define CHECK(cond) \
    do {            \
        if (!(cond)) failures++; \
    } while (0)

int main(void) {
    qkit_quantized_multiplier m;
    CHECK(qkit_quantize_multiplier(0.25, &m) == QKIT_OK && m.multiplier == (1 << 30) && m.shift == -1);

    int32_t y = 0;
    CHECK(qkit_multiply_by_quantized_multiplier(6, m, QKIT_ROUNDING_DOUBLE, &y) == QKIT_OK && y == 2);

    const int32_t acc[4] = {160, -24, 100000, 0};
    const qkit_quantized_multiplier sixteenth = {1 << 30, -3};
    int8_t out[4] = {0, 0, 0, 0};
    CHECK(qkit_requantize_i8(acc, 4, NULL, 0, &sixteenth, 1, -10, -128, 127, QKIT_ROUNDING_DOUBLE,
                             out) == QKIT_OK);
    CHECK(out[0] == 0 && out[1] == -12 && out[2] == 127 && out[3] == -10);

    const int8_t a[3] = {1, -128, 127}, b[3] = {3, -128, 2};
    int32_t d = 0;
    CHECK(qkit_dot_i8(a, b, 3, &d) == QKIT_OK && d == 3 + 16384 + 254);

    const int8_t x[3] = {4, 5, -6}, w[6] = {10, -20, 30, 127, 0, -127};
    const int32_t bias[2] = {100, -50};
    const float s_w = 0.01f;
    int8_t fc[2] = {0, 0};
    CHECK(qkit_fully_connected_i8(x, 1, 3, w, 2, bias, 0.5f, -1, &s_w, 1, 0.1f, 3,
                                  QKIT_ACTIVATION_NONE, QKIT_ROUNDING_DOUBLE, fc) == QKIT_OK);
    CHECK(fc[0] == -3 && fc[1] == 64);

    /* Rejected calls leave the outputs alone. */
    int8_t keep[4] = {7, 7, 7, 7};
    CHECK(qkit_requantize_i8(acc, SIZE_MAX, NULL, 0, &sixteenth, 1, 0, -128, 127, 0, keep) ==
          QKIT_ERR_LENGTH);
    CHECK(qkit_requantize_i8(acc, 4, NULL, 0, &sixteenth, 1, 0, -128, 127, 0, (int8_t *)acc) ==
          QKIT_ERR_OVERLAP);
    CHECK(qkit_requantize_i8(acc, 4, NULL, 0, &sixteenth, 1, 0, -128, 127, 0, NULL) ==
          QKIT_ERR_NULL);
    CHECK(keep[0] == 7 && keep[3] == 7);
    return failures;
}
