//! Stage 4: flows and events -> findings.
