//! traceadal: reads Fiddler SAZ and HAR captures and finds the Outlook ADAL/HMA failures of
//! hybrid Exchange in them.
//!
//! Data flows one way, each stage a module that knows nothing of the ones after it:
//!
//! ```text
//! capture (file -> sessions) -> auth (session -> events) -> flows (events -> flows)
//!     -> rules (flows + events -> findings) -> report (everything -> table/json/...)
//! ```
//!
//! `analysis` drives the stages for one capture; `batch` for a folder of them.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod analysis;
pub mod auth;
pub mod batch;
pub mod capture;
pub mod cli;
pub mod flows;
pub mod redact;
pub mod report;
pub mod rules;
