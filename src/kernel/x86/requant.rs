//! AVX2 slice requantization. (Being filled in: see issue 4.)
