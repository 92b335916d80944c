//! Stage 3: auth events -> flows (challenge -> login -> outcome) and loops.
