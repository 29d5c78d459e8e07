//! Benchmark support for schemaforge: synthetic definitions of realistic
//! shape (`synth`), and a load generator for `schemaforge serve` (`load`).
//! Used by the criterion benches in `benches/`, by `bench/compare.sh` and by
//! `bench/service.sh` (through the `schemaforge-bench` binary).

mod http;
pub mod load;
pub mod synth;
