//! Owned forms of the fully-connected layers: the per-channel table lives
//! inside the value (fixed capacity `N`, no heap), so a prepared layer can
//! be built in a helper function and returned, or kept in a `static`.
//! The weights stay borrowed: on a microcontroller they are a `static`
//! array in flash, so the layer is `FullyConnectedBuf<'static, N>`.

use heapless::Vec;

use super::{Channel, FullyConnected, FullyConnected16x8, Plan, Plan16x8, RequantMode};
use crate::Error;
use crate::kernel::{Isa, PreparedI4};
use crate::layer::Quantization;

/// A zeroed table of `out_dim` channels, or `CapacityExceeded`.
fn table<const N: usize>(out_dim: usize) -> Result<Vec<Channel, N>, Error> {
    let mut t = Vec::new();
    t.resize(out_dim, Channel::default())
        .map_err(|()| Error::CapacityExceeded {
            needed: out_dim,
            capacity: N,
        })?;
    Ok(t)
}

/// `weights.len() / in_dim` when that is a whole number of rows.
fn rows(len: usize, in_dim: usize) -> Result<usize, Error> {
    match len.checked_div(in_dim) {
        Some(rows) if rows * in_dim == len => Ok(rows),
        _ => Err(Error::InvalidParameter(
            "weights are not a whole number of rows of in_dim",
        )),
    }
}

/// A [`FullyConnected`] that owns its per-channel table: at most `N`
/// outputs. Same constructors and results as the borrowed layer, without
/// the `channels` argument; [`as_layer`](Self::as_layer) lends the
/// borrowed form.
///
/// ```
/// use qkit::layer::{Activation, FilterQuantizer, FullyConnectedBuf, Quantization, RequantMode};
/// use qkit::quant::Quantizer;
///
/// static WEIGHTS: [i8; 6] = [10, -20, 30, 127, 0, -127]; // 2 outputs x 3 inputs
/// static BIAS: [i32; 2] = [100, -50];
///
/// // Built in a helper and returned: nothing borrows the helper's stack.
/// fn output_layer() -> Result<FullyConnectedBuf<'static, 16>, qkit::Error> {
///     let q = Quantization {
///         input: Quantizer::new(0.5, -1)?,
///         filter: FilterQuantizer::symmetric(&[0.01])?,
///         output: Quantizer::new(0.1, 3)?,
///         activation: Activation::None,
/// };
///     FullyConnectedBuf::new(&WEIGHTS, 3, Some(&BIAS), &q, RequantMode::Double)
/// }
///
/// fn main() -> Result<(), qkit::Error> {
///     let fc = output_layer()?;
///     let mut out = [0i8; 2];
///     fc.run(&[4, 5, -6], 1, &mut out)?;
///     assert_eq!(out, [-3, 64]);
///     assert_eq!(fc.as_layer().out_dim(), 2);
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct FullyConnectedBuf<'w, const N: usize> {
    plan: Plan<'w>,
    channels: Vec<Channel, N>,
}

impl<'w, const N: usize> FullyConnectedBuf<'w, N> {
    /// As [`FullyConnected::new`]; `out_dim = weights.len() / in_dim`.
    /// `Err(CapacityExceeded)` for more than `N` outputs,
    /// `Err(InvalidParameter)` if `weights` is not a whole number of rows,
    /// and every error of the borrowed constructor.
    ///
    /// ```
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnectedBuf, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let w = [1i8, 2, 3, 4, 5, 6];
    /// assert!(FullyConnectedBuf::<4>::new(&w, 3, None, &q, RequantMode::Double).is_ok());
    /// assert!(FullyConnectedBuf::<1>::new(&w, 3, None, &q, RequantMode::Double).is_err());
    /// assert!(FullyConnectedBuf::<4>::new(&w, 4, None, &q, RequantMode::Double).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'w [i8],
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
    ) -> Result<Self, Error> {
        let mut channels = table(rows(weights.len(), in_dim)?)?;
        let plan = Plan::i8(weights, in_dim, bias, q, requant, &mut channels)?;
        Ok(Self { plan, channels })
    }

    /// As [`FullyConnected::new_i4`] for `out_dim` outputs (packed int4 does
    /// not say how many: a last odd nibble is padding).
    ///
    /// ```
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnectedBuf, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let fc = FullyConnectedBuf::<2>::new_i4(&[0xF7], 2, 1, None, &q, RequantMode::Double)?;
    /// let mut out = [0i8; 1];
    /// fc.run(&[2, 3], 1, &mut out)?;
    /// assert_eq!(out, [11]); // row [7, -1]
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new_i4(
        packed: &'w [u8],
        in_dim: usize,
        out_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
    ) -> Result<Self, Error> {
        let mut channels = table(out_dim)?;
        let plan = Plan::i4(packed, in_dim, bias, q, requant, &mut channels)?;
        Ok(Self { plan, channels })
    }

    /// As [`FullyConnected::new_i4_prepared`] (`weights.rows()` outputs).
    ///
    /// ```
    /// use qkit::kernel::PreparedI4;
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnectedBuf, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 1)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut buf = [0u8; 32];
    /// let w = PreparedI4::new(&[0xF7], 1, 2, &mut buf)?; // one row [7, -1]
    /// let fc = FullyConnectedBuf::<1>::new_i4_prepared(w, None, &q, RequantMode::Double)?;
    /// let mut out = [0i8; 1];
    /// fc.run(&[3, 4], 1, &mut out)?;
    /// assert_eq!(out, [11]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new_i4_prepared(
        weights: PreparedI4<'w>,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
    ) -> Result<Self, Error> {
        let mut channels = table(weights.rows())?;
        let plan = Plan::i4_prepared(weights, bias, q, requant, &mut channels)?;
        Ok(Self { plan, channels })
    }

    /// The borrowed layer over this value's table (every getter of
    /// [`FullyConnected`]: dimensions, clamp, channels, instruction set).
    ///
    /// ```
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnectedBuf, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::Relu,
    /// };
    /// let fc = FullyConnectedBuf::<8>::new(&[1; 6], 2, None, &q, RequantMode::Double)?;
    /// let layer = fc.as_layer();
    /// assert_eq!((layer.in_dim(), layer.out_dim(), layer.channels().len()), (2, 3, 3));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn as_layer(&self) -> FullyConnected<'_> {
        FullyConnected {
            plan: self.plan,
            channels: &self.channels,
        }
    }

    /// Runs `batch` rows, as [`FullyConnected::run`].
    ///
    /// ```
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnectedBuf, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let fc = FullyConnectedBuf::<1>::new(&[2, 1], 2, None, &q, RequantMode::Double)?;
    /// let mut out = [0i8; 2];
    /// fc.run(&[1, 1, 100, 100], 2, &mut out)?;
    /// assert_eq!(out, [3, 127]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i8], batch: usize, output: &mut [i8]) -> Result<(), Error> {
        self.plan.run(&self.channels, input, batch, output)
    }

    /// The same layer on another instruction set, as
    /// [`FullyConnected::with_isa`].
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnectedBuf, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let fc = FullyConnectedBuf::<1>::new(&[2, 1], 2, None, &q, RequantMode::Double)?;
    /// let fc = fc.with_isa(Isa::Generic)?;
    /// assert_eq!(fc.as_layer().isa(), Isa::Generic);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_isa(self, isa: Isa) -> Result<Self, Error> {
        Ok(Self {
            plan: self.plan.with_isa(isa)?,
            ..self
        })
    }
}

/// A [`FullyConnected16x8`] that owns its per-channel table: at most `N`
/// outputs, `out_dim = weights.len() / in_dim`.
///
/// ```
/// use qkit::layer::{Activation, FilterQuantizer, FullyConnected16x8Buf, Quantization};
/// use qkit::quant::Quantizer;
///
/// static WEIGHTS: [i8; 2] = [100, -50];
///
/// fn layer() -> Result<FullyConnected16x8Buf<'static, 4>, qkit::Error> {
///     let q = Quantization {
///         input: Quantizer::new(0.001, 0)?,
///         filter: FilterQuantizer::symmetric(&[0.01])?,
///         output: Quantizer::new(0.01, 0)?,
///         activation: Activation::None,
/// };
///     FullyConnected16x8Buf::new(&WEIGHTS, 2, Some(&[1_000_000]), &q)
/// }
///
/// fn main() -> Result<(), qkit::Error> {
///     let fc = layer()?;
///     let mut out = [0i16; 1];
///     fc.run(&[30000, 20000], 1, &mut out)?;
///     assert_eq!(out, [3000]);
///     assert_eq!(fc.as_layer().channels().len(), 1);
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct FullyConnected16x8Buf<'w, const N: usize> {
    plan: Plan16x8<'w>,
    channels: Vec<Channel, N>,
}

impl<'w, const N: usize> FullyConnected16x8Buf<'w, N> {
    /// As [`FullyConnected16x8::new`]; `Err(CapacityExceeded)` for more
    /// than `N` outputs.
    ///
    /// ```
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnected16x8Buf, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// assert!(FullyConnected16x8Buf::<2>::new(&[1, 2], 1, None, &q).is_ok());
    /// assert!(FullyConnected16x8Buf::<1>::new(&[1, 2], 1, None, &q).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'w [i8],
        in_dim: usize,
        bias: Option<&[i64]>,
        q: &Quantization<'_, i16>,
    ) -> Result<Self, Error> {
        let mut channels = table(rows(weights.len(), in_dim)?)?;
        let plan = Plan16x8::new(weights, in_dim, bias, q, &mut channels)?;
        Ok(Self { plan, channels })
    }

    /// The borrowed layer over this value's table.
    ///
    /// ```
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnected16x8Buf, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let fc = FullyConnected16x8Buf::<2>::new(&[1, 2], 1, Some(&[3, 4]), &q)?;
    /// assert_eq!(fc.as_layer().channels()[1].folded_bias(), 4);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn as_layer(&self) -> FullyConnected16x8<'_> {
        FullyConnected16x8 {
            plan: self.plan,
            channels: &self.channels,
        }
    }

    /// Runs `batch` rows, as [`FullyConnected16x8::run`].
    ///
    /// ```
    /// use qkit::layer::{Activation, FilterQuantizer, FullyConnected16x8Buf, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::Relu,
    /// };
    /// let fc = FullyConnected16x8Buf::<1>::new(&[1, -1], 2, None, &q)?;
    /// let mut out = [0i16; 2];
    /// fc.run(&[300, 100, 100, 300], 2, &mut out)?;
    /// assert_eq!(out, [200, 0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i16], batch: usize, output: &mut [i16]) -> Result<(), Error> {
        self.plan.run(&self.channels, input, batch, output)
    }
}
