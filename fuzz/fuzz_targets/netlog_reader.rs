#![no_main]
//! See `traceadal_fuzz::netlog_reader` (fuzz/src/lib.rs) for what is fuzzed.
libfuzzer_sys::fuzz_target!(|data: &[u8]| traceadal_fuzz::netlog_reader(data));
