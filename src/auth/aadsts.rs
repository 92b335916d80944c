//! The catalog of AADSTS codes an Exchange/identity engineer meets.
//! TODO(auth helper): fill the catalog (about 75 codes).

use serde::Serialize;

/// How a code should be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// A failure that needs a fix.
    Error,
    /// Part of a normal flow (interaction required on a silent call, MFA step-up).
    Normal,
    /// Depends on context.
    Warning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CodeInfo {
    pub code: u32,
    /// The error's short name (`InvalidResourceServicePrincipalNotFound`).
    pub name: &'static str,
    /// One line: what it means.
    pub summary: &'static str,
    pub nature: Nature,
    /// What to do.
    pub advice: &'static str,
}

pub fn lookup(code: u32) -> Option<&'static CodeInfo> {
    CATALOG.iter().find(|c| c.code == code)
}

pub static CATALOG: &[CodeInfo] = &[];

/// `AADSTS500011`, `aadsts500011` or `500011`. TODO(auth helper): real one.
pub fn parse_code(s: &str) -> Option<u32> {
    let s = s.trim();
    let digits = if s.len() > 6 && s[..6].eq_ignore_ascii_case("aadsts") {
        &s[6..]
    } else {
        s
    };
    digits.parse().ok()
}
