//! Full-embedding cosine baseline: `S = X̂ K̂ᵀ` and its argmax.
