//! The output stage's x86_64 lanes: [`avx2`] (8 lanes) and [`avx512`]
//! (16 lanes, AVX-512F), each a zero-sized proof of its instruction set
//! implementing [`Lanes`](crate::kernel::output_stage::Lanes), and its
//! `run`, which the `isa_table!` of `x86/avx2.rs` and `x86/avx512.rs` list
//! as their output-stage entries. The algorithm itself is
//! `kernel/output_stage/driver.rs`; these files only supply lane operations.
//!
//! Both are bit-identical to the portable path for every input the API
//! accepts (Q31 multipliers `>= 0` with `-31 <= shift <= 30`, finite scales
//! `>= 0`, clamp bounds inside `i16`).

/// Implements [`Lanes`](crate::kernel::output_stage::Lanes)`<$n>` for the
/// zero-sized token `$v` of an ISA file by forwarding every method to the
/// file's `#[target_feature]` function of the same name, and defines the
/// file's `run`. The token is built only inside `run`, a `#[target_feature]`
/// function that safe code can call only from code compiled with the same
/// features: the entries of that instruction set's kernel table, handed
/// out after detection. That is the whole safety argument, once for both
/// files.
macro_rules! lanes {
    ($v:ident, $n:literal, $features:literal, $i:ty, $f:ty) => {
        /// Proof that the instruction set is available: built only in [`run`].
        #[derive(Clone, Copy)]
        pub(super) struct $v(());

        /// The output stage of `job` into `out` on these lanes.
        #[target_feature(enable = $features)]
        pub(in crate::kernel::x86) fn run<T: RequantOutput>(job: &Job<'_>, out: &mut [T]) {
            run_lanes($v(()), job, out)
        }

        // SAFETY (every block below): a token exists only inside `run`, which
        // runs only where the instruction set was detected.
        impl Lanes<$n> for $v {
            type I = $i;
            type F = $f;
            type Mult = ($i, $i);
            type Out = Out;

            #[inline(always)]
            fn out(self, c: Clamp) -> Out {
                // SAFETY: see above.
                unsafe { out(c) }
            }
            #[inline(always)]
            fn zero(self) -> $i {
                // SAFETY: see above.
                unsafe { zero() }
            }
            #[inline(always)]
            fn load(self, a: &[i32; $n]) -> $i {
                // SAFETY: see above.
                unsafe { load(a) }
            }
            #[inline(always)]
            fn add(self, a: $i, b: $i) -> $i {
                // SAFETY: see above.
                unsafe { add(a, b) }
            }
            #[inline(always)]
            fn splat_multiplier(self, m: QuantizedMultiplier) -> ($i, $i) {
                // SAFETY: see above.
                unsafe { splat_multiplier(m) }
            }
            #[inline(always)]
            fn load_multipliers(self, m: &[QuantizedMultiplier; $n]) -> ($i, $i) {
                // SAFETY: see above.
                unsafe { load_multipliers(m) }
            }
            #[inline(always)]
            fn splat_scale(self, s: f32) -> $f {
                // SAFETY: see above.
                unsafe { splat_scale(s) }
            }
            #[inline(always)]
            fn load_scales(self, s: &[f32; $n]) -> $f {
                // SAFETY: see above.
                unsafe { load_scales(s) }
            }
            #[inline(always)]
            fn load_channels(self, c: &[Channel; $n]) -> ($i, ($i, $i), $f) {
                // SAFETY: see above.
                unsafe { load_channels(c) }
            }
            #[inline(always)]
            fn double(self, x: $i, m: ($i, $i), k: &Out) -> $i {
                // SAFETY: see above.
                unsafe { double(x, m, k) }
            }
            #[inline(always)]
            fn single(self, x: $i, m: ($i, $i), k: &Out) -> $i {
                // SAFETY: see above.
                unsafe { single(x, m, k) }
            }
            #[inline(always)]
            fn litert_optimized(self, x: $i, m: ($i, $i), k: &Out) -> $i {
                // SAFETY: see above.
                unsafe { litert_optimized(x, m, k) }
            }
            #[inline(always)]
            fn float32(self, x: $i, s: $f, k: &Out) -> $i {
                // SAFETY: see above.
                unsafe { float32(x, s, k) }
            }
            #[inline(always)]
            fn store_i8(self, y: $i, o: &mut [i8; $n]) {
                // SAFETY: see above.
                unsafe { store_i8(y, o) }
            }
            #[inline(always)]
            fn store_u8(self, y: $i, o: &mut [u8; $n]) {
                // SAFETY: see above.
                unsafe { store_u8(y, o) }
            }
            #[inline(always)]
            fn store_i16(self, y: $i, o: &mut [i16; $n]) {
                // SAFETY: see above.
                unsafe { store_i16(y, o) }
            }
        }
    };
}

pub(super) mod avx2;
pub(super) mod avx512;
