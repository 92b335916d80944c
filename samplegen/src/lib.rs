//! Sample capture generator. TODO(samplegen helper).
