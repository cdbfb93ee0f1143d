//! Explicit x86_64 SIMD paths. The only place in qkit where `unsafe` is allowed.
#![allow(unsafe_code)]

// AVX2 slice requantization (issue 4).
pub(crate) mod requant;
