//! Stage 5: renderers. No analysis here.
