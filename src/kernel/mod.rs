//! int8 / int4 dot products, GEMV and GEMM. (Being filled in: see issue 5.)

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86;
