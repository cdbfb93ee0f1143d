//! The names the issues call *fixed*: outside code depends on them, so this
//! test pins each one with its exact signature. Renaming or re-typing any of
//! them fails to compile here.

// Spelled-out fn types are the point of this file.
#![allow(clippy::type_complexity)]

use qkit::calib::entropy_threshold;
use qkit::int4::{I4, U4};
use qkit::kernel::dot_i8;
use qkit::ops::{AddParams, MulParams, add_i8, mul_i8};
use qkit::quant::Quantizer;
use qkit::requant::{
    QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier, quantize_multiplier,
    rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};
use qkit::{Error, Q15, Q31, Round};

/// The shape of `AddParams::new` and `MulParams::new`.
type Prepare<P> = fn(Quantizer<i8>, Quantizer<i8>, Quantizer<i8>, i8, i8) -> Result<P, Error>;

#[test]
fn fixed_names_keep_their_signatures() {
    // Issue 2: fixed point.
    let _: fn(i16) -> Q15 = Q15::from_bits;
    let _: fn(Q15) -> i16 = Q15::to_bits;
    let _: fn(i32) -> Q31 = Q31::from_bits;
    let _: fn(Q31) -> i32 = Q31::to_bits;
    let _: fn(Q15, Q15) -> Q15 = Q15::saturating_mul_floor;
    let _: fn(Q31, Q31) -> Q31 = Q31::saturating_mul_floor;
    let _: fn(Q15, Q15) -> Q15 = <Q15 as core::ops::Mul>::mul;

    // Issue 3: quantizers and int4.
    let _: fn(f32, i32) -> Result<Quantizer<i8>, Error> = Quantizer::<i8>::new;
    let _: fn(&Quantizer<i8>, f32, Round) -> i8 = Quantizer::<i8>::quantize;
    let _: fn(&Quantizer<i8>, i8) -> f32 = Quantizer::<i8>::dequantize;
    let _: fn(&Quantizer<i8>) -> f32 = Quantizer::<i8>::scale;
    let _: fn(&Quantizer<i8>) -> i32 = Quantizer::<i8>::zero_point;
    let _: fn(&[f32]) -> Result<Quantizer<u8>, Error> = Quantizer::<u8>::dynamic;
    let _: [Round; 2] = [Round::HalfAwayFromZero, Round::HalfToEven];
    let _: fn(i8) -> Option<I4> = I4::new;
    let _: fn(u8) -> Option<U4> = U4::new;
    let _: fn(I4) -> i8 = I4::get;
    let _: fn(U4) -> u8 = U4::get;

    // Issue 4: requantization and elementwise ops.
    let _: fn(f64) -> Result<QuantizedMultiplier, Error> = quantize_multiplier;
    let _: fn(i32, i32) -> i32 = saturating_rounding_doubling_high_mul;
    let _: fn(i32, i32) -> i32 = rounding_divide_by_pot;
    let _: fn(i32, QuantizedMultiplier, Rounding) -> i32 = multiply_by_quantized_multiplier;
    let m = QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: 1,
    };
    let _: [Rounding; 2] = [Rounding::Double, Rounding::Single];
    let _: Prepare<AddParams> = AddParams::new;
    let _: fn(&[i8], &[i8], &AddParams, &mut [i8]) -> Result<(), Error> = add_i8;
    let _: Prepare<MulParams> = MulParams::new;
    let _: fn(&[i8], &[i8], &MulParams, &mut [i8]) -> Result<(), Error> = mul_i8;

    // Issue 5: the dot product.
    let _: fn(&[i8], &[i8]) -> Result<i32, Error> = dot_i8;

    // Issue 6: the canonical entropy search.
    let _: fn(&[u32], f32, usize) -> Result<f32, Error> = entropy_threshold;

    // Issue 10: the one multiplier rule, checks at use, the new errors.
    let _: fn(QuantizedMultiplier) -> Result<QuantizedMultiplier, Error> =
        QuantizedMultiplier::check;
    let _: fn(f64) -> Result<QuantizedMultiplier, Error> =
        qkit::requant::quantize_multiplier_checked;
    let _: fn(i32, f32, i32, i32, i32) -> Result<i32, Error> = qkit::requant::requantize_f32;
    let _: fn(qkit::train::FakeQuant) -> Result<qkit::train::FakeQuant, Error> =
        qkit::train::FakeQuant::check;
    let _: fn(u32) -> Result<qkit::train::Lsq, Error> = qkit::train::Lsq::signed;
    let _: fn(u32) -> Result<qkit::train::Lsq, Error> = qkit::train::Lsq::unsigned;
    let _: fn(f64, u32, i32) -> Result<f64, Error> = qkit::calib::dynfixed::quantize_fixed;
    let _ = Error::IndexOutOfBounds { index: 0, len: 0 };
    let _ = Error::ChannelCountMismatch {
        expected: 0,
        found: 0,
    };

    // And they compute what their names say.
    assert_eq!(multiply_by_quantized_multiplier(5, m, Rounding::Double), 5);
    assert_eq!(dot_i8(&[1, 2], &[3, 4]), Ok(11));
    assert_eq!(Q15::from_bits(0x4000).to_bits(), 0x4000);
}

/// Issue 13: the convolution, pooling and activation layers (construction
/// mirrors `FullyConnected`; a later API pass converts every layer at once).
#[test]
fn issue_13_layer_names_keep_their_signatures() {
    use qkit::layer::{
        AveragePool2D, Channel, Conv2D, Conv2D16x8, Conv2DShape, DepthwiseConv2D,
        DepthwiseConv2D16x8, DepthwiseConv2DShape, Logistic, Logistic16, MaxPool2D, Pool2DShape,
        Quantization, RequantMode, Softmax, Softmax16, TableMode, Tanh, Tanh16,
    };
    use qkit::ops::Activation;
    type ConvNew = fn(
        &'static [i8],
        &Conv2DShape,
        Option<&[i32]>,
        &Quantization<'_>,
        RequantMode,
        &'static mut [Channel],
    ) -> Result<Conv2D<'static>, Error>;
    let _: ConvNew = Conv2D::new;
    let _: fn(&Conv2D<'static>, &[i8], usize, &mut [i8], &mut [i8]) -> Result<(), Error> =
        Conv2D::run;
    let _: fn(&Conv2DShape) -> Result<usize, Error> = Conv2D::buffer_len;
    let _: fn(&Conv2DShape) -> Result<usize, Error> = Conv2D16x8::buffer_len;
    type DwNew = fn(
        &'static [i8],
        &DepthwiseConv2DShape,
        Option<&[i32]>,
        &Quantization<'_>,
        RequantMode,
        &'static mut [Channel],
    ) -> Result<DepthwiseConv2D<'static>, Error>;
    let _: DwNew = DepthwiseConv2D::new;
    let _: fn(&DepthwiseConv2D16x8<'static>, &[i16], usize, &mut [i16]) -> Result<(), Error> =
        DepthwiseConv2D16x8::run;
    let _: fn(&Pool2DShape, Quantizer<i8>, Activation) -> Result<AveragePool2D<i8>, Error> =
        AveragePool2D::new;
    let _: fn(&Pool2DShape, Quantizer<i16>, Activation) -> Result<MaxPool2D<i16>, Error> =
        MaxPool2D::new;
    let _: fn(Quantizer<i8>, f32) -> Result<Softmax, Error> = Softmax::new;
    let _: fn(Quantizer<i16>, f32) -> Result<Softmax16, Error> = Softmax16::new;
    let _: fn(Quantizer<i8>, TableMode) -> Result<Logistic, Error> = Logistic::new;
    let _: fn(Quantizer<i8>, TableMode) -> Result<Tanh, Error> = Tanh::new;
    let _: fn(Quantizer<i16>) -> Result<Logistic16, Error> = Logistic16::new;
    let _: fn(Quantizer<i16>) -> Result<Tanh16, Error> = Tanh16::new;
}

/// Issue 14 (eco part): the ONNX Runtime matmuls, the owned quantizers.
#[test]
fn issue_14_eco_names_keep_their_signatures() {
    use qkit::layer::{
        MatMulColumn, MatMulInteger, MatMulOperand, MatMulQuantization, QLinearMatMul,
        matmul_buffer_len, ort_output_scale,
    };
    use qkit::quant::{PerBlockBuf, PerChannel, PerChannelBuf};

    let _: fn(f32, f32, f32) -> Result<f32, Error> = ort_output_scale;
    let _: fn(usize, usize) -> Result<usize, Error> = matmul_buffer_len;
    // Methods of lifetime-generic types are pinned through typed calls.
    let u = Quantizer::<u8>::new(1.0, 128).unwrap();
    let q: MatMulQuantization<'_, u8, i8, u8> = MatMulQuantization {
        a: u,
        b: Quantizer::<i8>::new(1.0, 0).unwrap().into(),
        y: u,
    };
    let (mut bt, mut cols) = ([0i8; 2], [MatMulColumn::default(); 1]);
    let b: &[i8] = &[1, 2];
    let mm: Result<QLinearMatMul<'_, u8, u8>, Error> =
        QLinearMatMul::<u8, u8>::new(b, 2, &q, &mut bt, &mut cols);
    let mut y = [0u8; 1];
    let r: Result<(), Error> = mm.unwrap().run(&[129, 130], 1, &mut y);
    assert_eq!((r, y), (Ok(()), [133]));
    let (mut bt, mut cols) = ([0i8; 2], [MatMulColumn::default(); 1]);
    let b: &[u8] = &[1, 2];
    let mi: Result<MatMulInteger<'_, i8>, Error> =
        MatMulInteger::<i8>::new(b, 2, 0, &[0], &mut bt, &mut cols);
    let mut y = [0i32; 1];
    let r: Result<(), Error> = mi.unwrap().run(&[3, 4], 1, &mut y);
    assert_eq!((r, y), (Ok(()), [11]));
    assert_eq!(<u8 as MatMulOperand>::OFFSET, 128);
    let _: fn(&[f32], &[i32], &[usize], isize) -> Result<PerChannelBuf<i8, 8>, Error> =
        PerChannelBuf::<i8, 8>::new;
    let pc = PerChannelBuf::<i8, 8>::new(&[1.0], &[], &[1], 0).unwrap();
    let _: PerChannel<'_, i8> = pc.as_per_channel();
    let _: fn(&[f32], &[i32], &[usize], isize, usize) -> Result<PerBlockBuf<I4, 8>, Error> =
        PerBlockBuf::<I4, 8>::new;
}

/// Issue 11's output stage and the LiteRT modes (issue 14): the slice API in
/// the kernel layer, the scalar LiteRT arithmetic in `requant`, the layer
/// modes.
#[test]
fn output_stage_names_keep_their_signatures() {
    use qkit::kernel::{Isa, Multipliers, OutputStage, RequantMode, Scaling, requantize};
    use qkit::requant::{
        multiply_by_quantized_multiplier_ties_up, requantize_f64, rounding_right_shift_ties_up,
    };
    type Slice = fn(&[i32], Option<&[i32]>, &OutputStage<'_>, &mut [i8]) -> Result<(), Error>;
    let _: Slice = requantize::<i8>;
    let _: Slice = qkit::kernel::requantize_scalar::<i8>;
    let _: fn(Isa, &[i32], Option<&[i32]>, &OutputStage<'_>, &mut [i8]) -> Result<(), Error> =
        Isa::requantize::<i8>;
    let _: fn(Scaling<'static>) -> OutputStage<'static> = OutputStage::new::<i8>;
    let _: fn(i32, QuantizedMultiplier) -> i32 = multiply_by_quantized_multiplier_ties_up;
    let _: fn(i64, f64, i32, i32, i32) -> i32 = requantize_f64;
    let _: fn(i32, i32) -> i32 = rounding_right_shift_ties_up;
    let _: [RequantMode; 5] = [
        RequantMode::Double,
        RequantMode::Single,
        RequantMode::LiteRtOptimized,
        RequantMode::LiteRtReference,
        RequantMode::Float32,
    ];
    let _: [qkit::layer::RequantMode; 2] = [
        qkit::layer::RequantMode::LiteRtOptimized,
        qkit::layer::RequantMode::LiteRtReference,
    ];
    let m = Multipliers::PerTensor(QuantizedMultiplier::ONE);
    let _: [Scaling<'_>; 5] = [
        Scaling::Double(m),
        Scaling::Single(m),
        Scaling::LiteRtOptimized(m),
        Scaling::LiteRtReference(Multipliers::PerTensor(1.0)),
        Scaling::Float32(Multipliers::PerTensor(1.0)),
    ];
}

/// Issue 14, API pass (quant / fixed / ops / calib): one slice vocabulary,
/// one spelling of the code range, generic elementwise parameters, the
/// width-named fixed-point aliases and their float conversions.
#[test]
fn issue_14_quant_api_names_keep_their_signatures() {
    use half::{bf16, f16};
    use qkit::calib::{amax_quantizer, symmetric_scale};
    use qkit::fixed::{
        Fixed, FixedI8, FixedI16, FixedI32, FixedI64, FixedU8, FixedU16, FixedU32, FixedU64,
    };
    use qkit::ops::{ElementwiseInt, add_i16, mul_i16};
    use qkit::quant::{
        Activation, CodeRange, PerBlock, PerBlockBuf, PerChannel, PerChannelBuf, QuantizeSlice,
        activation_range,
    };
    use qkit::{Q7, Q15};

    // The code range, wherever a choice is made.
    let _: [CodeRange; 2] = [CodeRange::Full, CodeRange::Narrow];
    let _: fn(CodeRange) -> i32 = CodeRange::qmin::<i8>;
    let _: fn(f32, i32, CodeRange) -> Result<Quantizer<i8>, Error> =
        Quantizer::<i8>::with_code_range;
    let _: fn(&Quantizer<i8>) -> CodeRange = Quantizer::<i8>::code_range;
    let _: fn(f32, f32, CodeRange) -> Result<Quantizer<u8>, Error> = Quantizer::<u8>::from_min_max;
    let _: fn(f32, CodeRange) -> Result<Quantizer<i8>, Error> = Quantizer::<i8>::symmetric;
    let _: fn(&[f32]) -> Result<Quantizer<i8>, Error> = Quantizer::<i8>::dynamic;
    let _: fn(f32, CodeRange) -> Result<Quantizer<i8>, Error> = amax_quantizer::<i8>;
    let _: fn(f32, u32, CodeRange) -> Result<f32, Error> = symmetric_scale;
    type PcNew = fn(
        &'static [f32],
        &'static [i32],
        &[usize],
        isize,
        CodeRange,
    ) -> Result<PerChannel<'static, i8>, Error>;
    let _: PcNew = PerChannel::<i8>::with_code_range;
    type PbNew = fn(
        &'static [f32],
        &'static [i32],
        &[usize],
        isize,
        usize,
        CodeRange,
    ) -> Result<PerBlock<'static, I4>, Error>;
    let _: PbNew = PerBlock::<I4>::with_code_range;
    let _: fn(&[f32], &[i32], &[usize], isize, CodeRange) -> Result<PerChannelBuf<i8, 8>, Error> =
        PerChannelBuf::<i8, 8>::with_code_range;
    type PbBufNew =
        fn(&[f32], &[i32], &[usize], isize, usize, CodeRange) -> Result<PerBlockBuf<I4, 8>, Error>;
    let _: PbBufNew = PerBlockBuf::<I4, 8>::with_code_range;

    // One slice vocabulary: the same methods on every quantizer.
    type Q8 = Quantizer<i8>;
    let _: fn(&Q8, &[f32], &mut [i8], Round) -> Result<(), Error> = Q8::quantize_slice;
    let _: fn(&Q8, &[f16], &mut [i8], Round) -> Result<(), Error> = Q8::quantize_slice_f16;
    let _: fn(&Q8, &[bf16], &mut [i8], Round) -> Result<(), Error> = Q8::quantize_slice_bf16;
    let _: fn(&Q8, &[i8], &mut [f32]) -> Result<(), Error> = Q8::dequantize_slice;
    let _: fn(&Q8, &[i8], &mut [f16]) -> Result<(), Error> = Q8::dequantize_slice_f16;
    let _: fn(&Q8, &[i8], &mut [bf16]) -> Result<(), Error> = Q8::dequantize_slice_bf16;
    type Q4 = Quantizer<I4>;
    let _: fn(&Q4, &[f32], &mut [u8], Round) -> Result<(), Error> = Q4::quantize_packed;
    let _: fn(&Q4, &[u8], &mut [f32]) -> Result<(), Error> = Q4::dequantize_packed;
    fn slices<G: QuantizeSlice<Storage = i8>>(g: &G) -> Result<[f32; 2], Error> {
        let mut q = [0i8; 2];
        g.quantize_slice(&[1.0, -1.0], &mut q, Round::HalfToEven)?;
        let mut x = [0f32; 2];
        g.dequantize_slice(&q, &mut x)?;
        Ok(x)
    }
    let pc = PerChannel::<i8>::new(&[0.5, 0.25], &[], &[2], 0).unwrap();
    let pcb = PerChannelBuf::<i8, 2>::from_per_channel(&pc).unwrap();
    let pb = PerBlock::<i8>::new(&[0.5], &[], &[2], 0, 2).unwrap();
    let pbb = PerBlockBuf::<i8, 1>::from_per_block(&pb).unwrap();
    let q = Quantizer::<i8>::new(0.5, 0).unwrap();
    assert_eq!(slices(&q), Ok([1.0, -1.0]));
    assert_eq!(slices(&pc), Ok([1.0, -1.0]));
    assert_eq!(slices(&pcb), Ok([1.0, -1.0]));
    assert_eq!(slices(&pb), Ok([1.0, -1.0]));
    assert_eq!(slices(&pbb), Ok([1.0, -1.0]));
    let _: CodeRange = pc.code_range();
    let _: CodeRange = pb.code_range();

    // Activation lives in quant; ops and layer re-export the same item.
    let _: fn(Activation, Quantizer<i8>) -> Result<(i8, i8), Error> = activation_range::<i8>;
    let _: Activation = qkit::ops::Activation::Relu;
    let _: Activation = qkit::layer::Activation::Relu6;

    // Elementwise parameters generic over the storage type.
    let _: fn(
        Quantizer<i16>,
        Quantizer<i16>,
        Quantizer<i16>,
        i16,
        i16,
    ) -> Result<AddParams<i16>, Error> = AddParams::<i16>::new;
    let _: fn(
        Quantizer<i16>,
        Quantizer<i16>,
        Quantizer<i16>,
        i16,
        i16,
    ) -> Result<MulParams<i16>, Error> = MulParams::<i16>::new;
    let _: fn(&[i16], &[i16], &AddParams<i16>, &mut [i16]) -> Result<(), Error> = add_i16;
    let _: fn(&[i16], &[i16], &MulParams<i16>, &mut [i16]) -> Result<(), Error> = mul_i16;
    assert_eq!(<i8 as ElementwiseInt>::ADD_LEFT_SHIFT, 20);

    // Width-named fixed-point aliases (storage, then fractional bits).
    let _: fn(FixedI8<4>) -> Fixed<i8, 4> = |x| x;
    let _: fn(FixedI16<12>) -> Fixed<i16, 12> = |x| x;
    let _: fn(FixedI32<16>) -> Fixed<i32, 16> = |x| x;
    let _: fn(FixedI64<32>) -> Fixed<i64, 32> = |x| x;
    let _: fn(FixedU8<8>) -> Fixed<u8, 8> = |x| x;
    let _: fn(FixedU16<16>) -> Fixed<u16, 16> = |x| x;
    let _: fn(FixedU32<16>) -> Fixed<u32, 16> = |x| x;
    let _: fn(FixedU64<32>) -> Fixed<u64, 32> = |x| x;
    let _: fn(Q15) -> FixedI16<15> = |x| x;
    // Float conversions: TryFrom (nearest, checked), From where lossless.
    let _: fn(f32) -> Result<Q15, Error> = <Q15 as TryFrom<f32>>::try_from;
    let _: fn(f64) -> Result<Q15, Error> = <Q15 as TryFrom<f64>>::try_from;
    let _: fn(f16) -> Result<Q15, Error> = <Q15 as TryFrom<f16>>::try_from;
    let _: fn(bf16) -> Result<Q15, Error> = <Q15 as TryFrom<bf16>>::try_from;
    let _: fn(Q7) -> f16 = <f16 as From<Q7>>::from;
    let _: fn(Q7) -> bf16 = <bf16 as From<Q7>>::from;
    assert_eq!(Q15::try_from(0.5f32), Ok(Q15::from_bits(0x4000)));
}

/// Issue 14, layer side: one parameter form (quantizers), owned layers, an
/// instruction-set choice, one requantization-mode name, one operand order.
#[test]
fn issue_14_layer_names_keep_their_signatures() {
    use qkit::kernel::{Isa, NarrowI8, dot_i8_narrow, dot_i16_i8};
    use qkit::layer::{
        Activation, Channel, FilterQuantizer, FullyConnected, FullyConnected16x8,
        FullyConnected16x8Buf, FullyConnectedBuf, Quantization, RequantMode,
    };
    use qkit::quant::PerChannel;

    // The quantization a layer is defined by.
    let q: Quantization<'static> = Quantization {
        input: Quantizer::new(0.5, -1).unwrap(),
        filter: FilterQuantizer::symmetric(&[0.01]).unwrap(),
        output: Quantizer::new(0.1, 3).unwrap(),
        activation: Activation::None,
    };
    let _: Quantization<'static, i16> = Quantization {
        input: Quantizer::new(0.5, 0).unwrap(),
        filter: q.filter,
        output: Quantizer::new(0.1, 0).unwrap(),
        activation: Activation::Relu,
    };
    let _: fn(&'static [f32]) -> Result<FilterQuantizer<'static>, Error> =
        FilterQuantizer::symmetric;
    let _: fn(Quantizer<i8>) -> FilterQuantizer<'static> = FilterQuantizer::from;
    let _: fn(PerChannel<'static, i8>) -> FilterQuantizer<'static> = FilterQuantizer::from;
    let _: fn(&FilterQuantizer<'static>, usize) -> Option<f32> = FilterQuantizer::scale;

    // Getters and the instruction set of the borrowed layer.
    let _: for<'r> fn(&'r FullyConnected<'static>) -> &'r [Channel] = FullyConnected::channels;
    let _: fn(&FullyConnected<'static>) -> Isa = FullyConnected::isa;
    let _: fn(FullyConnected<'static>, Isa) -> Result<FullyConnected<'static>, Error> =
        FullyConnected::with_isa;
    let _: for<'r> fn(&'r FullyConnected16x8<'static>) -> &'r [Channel] =
        FullyConnected16x8::channels;

    // Owned forms: built in a function, returned, no lifetime on the table.
    type FcBufNew = fn(
        &'static [i8],
        usize,
        Option<&[i32]>,
        &Quantization<'_>,
        RequantMode,
    ) -> Result<FullyConnectedBuf<'static, 8>, Error>;
    let _: FcBufNew = FullyConnectedBuf::new;
    let _: for<'r> fn(&'r FullyConnectedBuf<'static, 8>) -> FullyConnected<'r> =
        FullyConnectedBuf::as_layer;
    type Fc16BufNew = fn(
        &'static [i8],
        usize,
        Option<&[i64]>,
        &Quantization<'_, i16>,
    ) -> Result<FullyConnected16x8Buf<'static, 8>, Error>;
    let _: Fc16BufNew = FullyConnected16x8Buf::new;
    static W: [i8; 4] = [1, 2, 3, 4];
    fn build(q: &Quantization<'_>) -> Result<FullyConnectedBuf<'static, 2>, Error> {
        FullyConnectedBuf::new(&W, 2, None, q, RequantMode::Double)
    }
    assert_eq!(build(&q).unwrap().as_layer().out_dim(), 2);

    // One mode enum, one name, in kernel and layer.
    let _: [qkit::kernel::RequantMode; 5] = [
        RequantMode::Double,
        RequantMode::Single,
        RequantMode::LiteRtOptimized,
        RequantMode::LiteRtReference,
        RequantMode::Float32,
    ];

    // Operand order: weights first, then activations.
    let _: fn(NarrowI8<'_>, &[i8]) -> Result<i32, Error> = dot_i8_narrow;
    let _: fn(&[i8], &[i16]) -> Result<i64, Error> = dot_i16_i8;
    let _: fn(&[u8], &[i8]) -> Result<i32, Error> = qkit::kernel::dot_i4_i8;
}
