//! Per-class, per-dimension moments (count, sum, sum of squares) in f64. Additive, so they
//! merge across threads and shards.
