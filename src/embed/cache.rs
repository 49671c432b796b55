//! The resume cache: embeddings already computed, keyed by the model (id, revision,
//! preprocessing, tokenizer settings) and each input's content hash, so that a re-run — after
//! Ctrl-C, or after items were added or edited — computes only what is new.
//!
//! One append-only file per model key and input kind under `.pairwise-audit/embed-cache/`:
//! a header naming the full key, then records of a 32-byte SHA-256 and `dim` little-endian
//! f32. Records are appended and flushed after each batch; a record cut short by a hard kill
//! is ignored on the next read.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::EmbedError;

const MAGIC: &[u8; 8] = b"PAEMB01\n";

pub type Hash = [u8; 32];

pub fn hash(kind: &str, bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update([0]);
    h.update(bytes);
    h.finalize().into()
}

pub struct Cache {
    path: PathBuf,
    dim: usize,
    known: HashMap<Hash, Vec<f32>>,
    /// Bytes of the file that hold whole records; appending starts there.
    valid_len: u64,
    writer: Option<BufWriter<File>>,
}

impl Cache {
    /// Open (or start) the cache for `key` and `kind` (`image` or `text`) in `folder`.
    pub fn open(folder: &Path, key: &str, kind: &str, dim: usize) -> Result<Cache, EmbedError> {
        let digest: String = Sha256::digest(format!("{kind}\0{key}").as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = folder.join(format!("{kind}-{digest}.bin"));
        let (known, valid_len) = File::open(&path)
            .ok()
            .and_then(|f| read_records(BufReader::new(f), key, dim))
            .unwrap_or_default();
        Ok(Cache {
            path,
            dim,
            known,
            valid_len,
            writer: None,
        })
    }

    pub fn get(&self, h: &Hash) -> Option<&Vec<f32>> {
        self.known.get(h)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.known.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Add records and flush them to disk.
    pub fn put(&mut self, key: &str, records: &[(Hash, Vec<f32>)]) -> Result<(), EmbedError> {
        let path = self.path.clone();
        let io = move |e: std::io::Error| {
            EmbedError::internal(format!(
                "could not write the embedding cache {} ({e}).",
                path.display()
            ))
        };
        let w = match self.writer.take() {
            Some(w) => w,
            None => self.open_writer(key).map_err(&io)?,
        };
        let w = self.writer.insert(w);
        for (h, v) in records {
            debug_assert_eq!(v.len(), self.dim);
            w.write_all(h).map_err(&io)?;
            for x in v {
                w.write_all(&x.to_le_bytes()).map_err(&io)?;
            }
        }
        w.flush().map_err(&io)?;
        for (h, v) in records {
            self.known.insert(*h, v.clone());
        }
        Ok(())
    }

    fn open_writer(&self, key: &str) -> std::io::Result<BufWriter<File>> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let fresh = self.valid_len == 0;
        let file = if fresh {
            File::create(&self.path)?
        } else {
            // A record torn by a hard kill is cut off, so new records stay aligned.
            let mut f = OpenOptions::new().write(true).open(&self.path)?;
            f.set_len(self.valid_len)?;
            f.seek(SeekFrom::End(0))?;
            f
        };
        let mut w = BufWriter::new(file);
        if fresh {
            w.write_all(MAGIC)?;
            w.write_all(&(self.dim as u64).to_le_bytes())?;
            w.write_all(&(key.len() as u64).to_le_bytes())?;
            w.write_all(key.as_bytes())?;
        }
        Ok(w)
    }
}

/// The records of a cache file written for `key` and the length of its whole records; `None`
/// for another key or a damaged header.
fn read_records(mut r: impl Read, key: &str, dim: usize) -> Option<(HashMap<Hash, Vec<f32>>, u64)> {
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).ok()?;
    let mut n = [0u8; 8];
    r.read_exact(&mut n).ok()?;
    if magic != *MAGIC || u64::from_le_bytes(n) != dim as u64 {
        return None;
    }
    r.read_exact(&mut n).ok()?;
    let len = usize::try_from(u64::from_le_bytes(n)).ok()?;
    if len != key.len() {
        return None;
    }
    let mut stored = vec![0u8; len];
    r.read_exact(&mut stored).ok()?;
    if stored != key.as_bytes() {
        return None;
    }
    let mut out = HashMap::new();
    let mut record = vec![0u8; 32 + 4 * dim];
    let mut valid = (24 + len) as u64;
    while r.read_exact(&mut record).is_ok() {
        valid += record.len() as u64;
        let h: Hash = record[..32].try_into().ok()?;
        let v = record[32..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.insert(h, v);
    }
    Some((out, valid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_a_torn_tail_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (hash("text", b"a"), hash("text", b"b"));
        let mut c = Cache::open(dir.path(), "model@1", "text", 2).unwrap();
        c.put("model@1", &[(a, vec![1.0, 2.0])]).unwrap();
        c.put("model@1", &[(b, vec![3.0, 4.0])]).unwrap();
        drop(c);
        let path = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[7u8; 20]).unwrap();
        let mut c = Cache::open(dir.path(), "model@1", "text", 2).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&b), Some(&vec![3.0, 4.0]));
        let d = hash("text", b"d");
        c.put("model@1", &[(d, vec![5.0, 6.0])]).unwrap();
        drop(c);
        let c = Cache::open(dir.path(), "model@1", "text", 2).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(&d), Some(&vec![5.0, 6.0]));
        // Another model's key is another file, and starts empty.
        assert!(
            Cache::open(dir.path(), "model@2", "text", 2)
                .unwrap()
                .is_empty()
        );
    }
}
