#![no_main]
//! See `traceadal_fuzz::ews_soap` (fuzz/src/lib.rs) for what is fuzzed.
libfuzzer_sys::fuzz_target!(|data: &[u8]| traceadal_fuzz::ews_soap(data));
