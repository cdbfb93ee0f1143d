//! Integrations with other crates, one file per crate, each behind its
//! Cargo feature (all off by default), kept out of the types' own files the
//! way `half` keeps its `num-traits` and `bytemuck` impls apart.
//!
//! * `serde.rs`: `Serialize` / `Deserialize`, validating through the
//!   constructors.
//! * `bytemuck.rs`: `Pod` / `Zeroable` and checked casts.
//! * `arbitrary.rs`: `Arbitrary`, valid values only.

#[cfg(feature = "arbitrary")]
mod arbitrary;
#[cfg(feature = "bytemuck")]
mod bytemuck;
#[cfg(feature = "serde")]
mod serde;
