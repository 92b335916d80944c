#![no_main]
//! See `traceadal_fuzz::gateway` (fuzz/src/lib.rs) for what is fuzzed.
libfuzzer_sys::fuzz_target!(|data: &[u8]| traceadal_fuzz::gateway(data));
