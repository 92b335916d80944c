//! The binary's allocator and how it is tuned: a module of `src/main.rs`, not of the library
//! (which works with any allocator). docs/performance.md, "Why it is fast" and "Memory".
//!
//! The allocator decides peak memory here. glibc's kept freed per-session buffers (inflate
//! windows, de-chunked bodies of every size) in fragmented per-thread arenas: reading a
//! 10k-session SAZ held 140 MB resident for 14 MB of live heap (1.6 GB at 100k). mimalloc
//! fixed SAZ but held HAR entries freed on another thread than the parser's (58 MB for
//! `sessions` on the 10k HAR, glibc 16 MB). jemalloc does best on both; docs/performance.md.
//! It does not build for MSVC (Windows): there the system allocator is used, and
//! [`tune`] does nothing.

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Allocations of at least this many bytes made on the main thread go to jemalloc's arena
/// for huge allocations, which gives their pages back to the system as soon as they are
/// freed (its decay time is 0), instead of to the main thread's own arena.
#[cfg(not(target_env = "msvc"))]
const MAIN_THREAD_OVERSIZE: usize = 1 << 20;

/// Make the main thread's large buffers leave no resident pages behind once freed.
///
/// The main thread collects every session's summary and events (`analysis::Collector`) into
/// lists that grow by doubling, and opens the capture (a SAZ's session index grows the same
/// way). Each growth frees the previous buffer. Freed pages stay resident in the freeing
/// arena until they are reused or ten seconds pass (jemalloc's `dirty_decay_ms`), longer than
/// a run, and the next, larger buffer cannot reuse them: on the 100k-session HAR 13 MB of
/// such pages were resident when reading ended, on the 100k SAZ 14 MB. jemalloc sends
/// allocations of 8 MiB and more to an arena that returns pages at once
/// (`oversize_threshold`); lowering that threshold to [`MAIN_THREAD_OVERSIZE`] for the main
/// thread's arena alone does the same for these lists, which grow past 1 MiB a few times a
/// run. Returning every freed page at once everywhere (`dirty_decay_ms:0`) gives the same
/// peak but costs 65% more time: the readers' threads free and reuse small buffers all the
/// time, and they keep the default.
///
/// Best effort: when jemalloc does not take the setting, nothing changes but memory.
pub fn tune() {
    #[cfg(not(target_env = "msvc"))]
    {
        use tikv_jemalloc_ctl::{Access, AsName};
        let Ok(arena) = Access::<u32>::read(b"thread.arena\0".name()) else {
            return;
        };
        let Ok(mut threshold) = b"arena.0.oversize_threshold\0".name().mib::<[usize; 3]>() else {
            return;
        };
        threshold[1] = arena as usize;
        let _ = threshold.write(MAIN_THREAD_OVERSIZE);
    }
}

#[cfg(all(test, not(target_env = "msvc")))]
mod tests {
    use super::*;
    use tikv_jemalloc_ctl::{Access, AsName};

    /// The setting reaches jemalloc: the key names are checked by jemalloc only at run time,
    /// and a wrong one would leave the memory it saves silently resident again.
    #[test]
    fn tune_lowers_this_threads_oversize_threshold() {
        tune();
        let arena: u32 = b"thread.arena\0".name().read().unwrap();
        let key = format!("arena.{arena}.oversize_threshold\0");
        let threshold: usize = key.as_bytes().name().read().unwrap();
        assert_eq!(threshold, MAIN_THREAD_OVERSIZE);
        let default: usize = b"opt.oversize_threshold\0".name().read().unwrap();
        assert!(MAIN_THREAD_OVERSIZE < default, "{default}");
    }
}
