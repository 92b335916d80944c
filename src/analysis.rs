//! Drives the pipeline for one capture.
