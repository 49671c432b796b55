//! A CLIP-like synthetic catalogue generator, for tests and benchmarks.
