//! The files a `classify` run writes (schemas in `docs/output-files.md`), written atomically.
