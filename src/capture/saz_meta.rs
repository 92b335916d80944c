//! Fiddler's per-session `raw/NN_m.xml`.
//! TODO(capture helper): implement.
