//! CLIP's text side of the input: `tokenizer.json` through the `tokenizers` crate, the
//! end-of-text id taken from the tokenizer itself, and sequences cut to the model's positions.
//!
//! The real `openai/clip-vit-*` configs say `eos_token_id: 2`, a placeholder left from an old
//! export; id 2 is `#`, so pooling where that id sits would read position 0 of most texts.
//! The id is therefore looked up in the tokenizer's vocabulary, never taken from config.json.

use std::path::Path;

use tokenizers::Tokenizer;

use super::EmbedError;

pub const END_OF_TEXT: &str = "<|endoftext|>";

pub struct TextTokenizer {
    inner: Tokenizer,
    pub eos: u32,
    pub max_len: usize,
}

impl TextTokenizer {
    /// Load `tokenizer.json` for a model with `max_len` positions and `vocab_size` token rows.
    pub fn load(
        path: &Path,
        max_len: usize,
        vocab_size: usize,
    ) -> Result<TextTokenizer, EmbedError> {
        let mut inner = Tokenizer::from_file(path).map_err(|e| {
            EmbedError::input(format!(
                "{}: is not a readable Hugging Face tokenizer.json ({e}).",
                path.display()
            ))
        })?;
        // Batching and truncation are done here, the same way for every tokenizer file.
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| EmbedError::internal(format!("tokenizer: {e}")))?;
        let eos = inner.token_to_id(END_OF_TEXT).ok_or_else(|| {
            EmbedError::input(format!(
                "{}: has no `{END_OF_TEXT}` token; a CLIP tokenizer ends every text with it.",
                path.display()
            ))
        })?;
        let vocab = inner.get_vocab_size(true);
        if vocab > vocab_size {
            return Err(EmbedError::input(format!(
                "{}: has {vocab} tokens but config.json's text_config.vocab_size is {vocab_size}; they belong to different models.",
                path.display()
            )));
        }
        let tok = TextTokenizer {
            inner,
            eos,
            max_len,
        };
        let probe = tok.encode_one("a")?;
        if probe.last() != Some(&eos) {
            return Err(EmbedError::input(format!(
                "{}: does not end a text with `{END_OF_TEXT}` (its post-processor adds no end token), so the text cannot be pooled as CLIP pools it.",
                path.display()
            )));
        }
        Ok(tok)
    }

    /// Token ids of `text` with start and end tokens, at most `max_len` of them: a longer text
    /// keeps its first `max_len - 1` tokens and ends with end-of-text, as transformers'
    /// truncation does.
    pub fn encode_one(&self, text: &str) -> Result<Vec<u32>, EmbedError> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| EmbedError::internal(format!("tokenizing {text:?}: {e}")))?;
        let mut ids = enc.get_ids().to_vec();
        if ids.len() > self.max_len {
            ids.truncate(self.max_len - 1);
            ids.push(self.eos);
        }
        Ok(ids)
    }

    pub fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EmbedError> {
        texts.iter().map(|t| self.encode_one(t)).collect()
    }
}
