//! The README's API tour blocks for fixed point, quantizers and calibration:
//! each lives in `tests/readme/*.rs`, is shown in README.md word for word
//! (what users paste) and runs here (what is true).

/// Panics unless README.md holds `snippet` as one ```rust block.
fn assert_in_readme(snippet: &str) {
    let block = format!("```rust\n{snippet}```\n");
    assert!(
        include_str!("../README.md").contains(&block),
        "README.md no longer shows this snippet verbatim:\n{snippet}"
    );
}

macro_rules! readme_snippet {
    ($name:ident, $file:literal) => {
        mod $name {
            include!($file);

            #[test]
            fn runs() {
                main().unwrap();
            }

            #[test]
            fn is_in_the_readme() {
                super::assert_in_readme(include_str!($file));
            }
        }
    };
}

readme_snippet!(fixed_point, "readme/fixed.rs");
readme_snippet!(quantizers, "readme/quant.rs");
readme_snippet!(calibration, "readme/calib.rs");
readme_snippet!(requantization, "readme/requant.rs");
readme_snippet!(kernels, "readme/kernel.rs");
readme_snippet!(layers, "readme/layer.rs");
