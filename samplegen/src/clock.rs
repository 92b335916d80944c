//! Time and chance, both fixed: a capture clock in 100 ns ticks and a tiny seeded PRNG.
//!
//! Every capture starts on 2026-11-20 at 08:14:02 local time, UTC+01:00 (a Fiddler machine in
//! Central Europe). Nothing here reads the system clock.

/// Ticks (100 ns, as .NET counts them) in one millisecond.
pub const TICKS_PER_MS: u64 = 10_000;
/// Ticks in one second.
pub const TICKS_PER_SEC: u64 = 10_000_000;
const TICKS_PER_DAY: u64 = 86_400 * TICKS_PER_SEC;
/// The local offset of the capturing machine, in minutes.
pub const LOCAL_OFFSET_MIN: i64 = 60;
/// Base date (local): 2026-11-20.
const BASE_DAYS: i64 = days_from_civil(2026, 11, 20);
/// Capture start, local time of day: 08:14:02.
pub const START: Instant = Instant((8 * 3600 + 14 * 60 + 2) * TICKS_PER_SEC);

/// A local instant: ticks since 2026-11-20T00:00:00 local time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(pub u64);

impl Instant {
    /// This instant plus `ms` milliseconds.
    pub fn plus_ms(self, ms: u64) -> Instant {
        Instant(self.0 + ms * TICKS_PER_MS)
    }
    /// This instant plus `t` ticks.
    pub fn plus_ticks(self, t: u64) -> Instant {
        Instant(self.0 + t)
    }
    /// Milliseconds from `earlier` to `self` (0 when `earlier` is later).
    pub fn ms_since(self, earlier: Instant) -> u64 {
        self.0.saturating_sub(earlier.0) / TICKS_PER_MS
    }

    fn parts_local(self) -> (i64, u32, u32, u64) {
        let days = BASE_DAYS + (self.0 / TICKS_PER_DAY) as i64;
        let (y, m, d) = civil_from_days(days);
        (y, m, d, self.0 % TICKS_PER_DAY)
    }

    fn parts_utc(self) -> (i64, u32, u32, u64) {
        let off = LOCAL_OFFSET_MIN as u64 * 60 * TICKS_PER_SEC;
        // Captures never start before 01:00 local, so this cannot underflow.
        let utc = self.0 - off;
        Instant(utc).parts_local()
    }

    /// Fiddler's `_m.xml` form: `2026-11-20T08:14:02.1234567+01:00`.
    pub fn fiddler(self) -> String {
        let (y, mo, d, t) = self.parts_local();
        let (h, mi, s, frac) = hms(t);
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:07}+{:02}:{:02}",
            LOCAL_OFFSET_MIN / 60,
            LOCAL_OFFSET_MIN % 60
        )
    }

    /// Fiddler's `StartTime:` header on CONNECT answers: `08:14:02.123`.
    pub fn fiddler_clock(self) -> String {
        let (_, _, _, t) = self.parts_local();
        let (h, mi, s, frac) = hms(t);
        format!("{h:02}:{mi:02}:{s:02}.{:03}", frac / 10_000)
    }

    /// HAR `startedDateTime` as Chrome writes it: UTC with milliseconds and `Z`.
    pub fn iso_utc_ms(self) -> String {
        let (y, mo, d, t) = self.parts_utc();
        let (h, mi, s, frac) = hms(t);
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
            frac / 10_000
        )
    }

    /// Entra's error timestamp: `2026-11-20 07:15:03Z` (UTC).
    pub fn entra(self) -> String {
        let (y, mo, d, t) = self.parts_utc();
        let (h, mi, s, _) = hms(t);
        format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
    }

    /// An HTTP `Date:` value: `Fri, 20 Nov 2026 07:14:02 GMT`.
    pub fn http_date(self) -> String {
        let (y, mo, d, t) = self.parts_utc();
        let (h, mi, s, _) = hms(t);
        let days = days_from_civil(y, mo, d);
        const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MON: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{}, {d:02} {} {y:04} {h:02}:{mi:02}:{s:02} GMT",
            WD[days.rem_euclid(7) as usize],
            MON[(mo - 1) as usize]
        )
    }

    /// Seconds since the Unix epoch (for JWT `iat`/`nbf`/`exp`).
    pub fn unix(self) -> i64 {
        let (y, mo, d, t) = self.parts_utc();
        days_from_civil(y, mo, d) * 86_400 + (t / TICKS_PER_SEC) as i64
    }
}

/// Fiddler's "never happened" timer value.
pub const NEVER: &str = "0001-01-01T00:00:00";

fn hms(t: u64) -> (u64, u64, u64, u64) {
    let secs = t / TICKS_PER_SEC;
    (secs / 3600, (secs / 60) % 60, secs % 60, t % TICKS_PER_SEC)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// SplitMix64: small, seeded, good enough for jitter and GUIDs.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from a scenario name, so each scenario has its own stream.
    pub fn for_name(name: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// A version-4-shaped GUID, lower case.
    pub fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// `n` lower-case hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(n);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = START.plus_ticks(1_234_567);
        assert_eq!(t.fiddler(), "2026-11-20T08:14:02.1234567+01:00");
        assert_eq!(t.iso_utc_ms(), "2026-11-20T07:14:02.123Z");
        assert_eq!(t.http_date(), "Fri, 20 Nov 2026 07:14:02 GMT");
        assert_eq!(t.entra(), "2026-11-20 07:14:02Z");
        assert_eq!(t.fiddler_clock(), "08:14:02.123");
        assert_eq!(
            civil_from_days(days_from_civil(2026, 11, 20)),
            (2026, 11, 20)
        );
        assert_eq!(START.unix(), 1_795_158_842);
    }
}
