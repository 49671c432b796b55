//! A model named by its Hugging Face hub id (`openai/clip-vit-base-patch32`): hf-hub 0.5
//! downloads the files into the standard cache (`$HF_HOME/hub`, by default
//! `~/.cache/huggingface/hub`) and finds them there next time without the network.
//! `HF_ENDPOINT` points it at another server (the tests use one on 127.0.0.1) and
//! `HF_HUB_OFFLINE=1` forbids the network.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};

use super::EmbedError;
use super::model::{CONFIG, ModelFiles, PREPROCESSOR, TOKENIZER, WEIGHTS, WEIGHTS_PTH};

/// Whether `model` is meant as a hub id rather than a folder: `owner/name`, not an existing
/// path, no leading `.` or `/`.
pub fn looks_like_hub_id(model: &str) -> bool {
    let parts: Vec<&str> = model.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('.')
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
        && !Path::new(model).exists()
}

/// The model's files, from the cache or downloaded into it.
pub fn fetch(id: &str, revision: &str, progress: bool) -> Result<ModelFiles, EmbedError> {
    let repo = Repo::with_revision(id.to_string(), RepoType::Model, revision.to_string());
    let cache = Cache::from_env();
    let offline = std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v == "true");
    let api = ApiBuilder::from_env()
        .with_progress(progress)
        .build()
        .map_err(|e| EmbedError::internal(format!("the hub client could not start ({e}).")))?;
    let api_repo = api.repo(repo.clone());
    let get = |file: &str| -> Result<PathBuf, Fetch> {
        if let Some(p) = cache.repo(repo.clone()).get(file) {
            return Ok(p);
        }
        if offline {
            return Err(Fetch::Unreachable("HF_HUB_OFFLINE is set".into()));
        }
        api_repo.download(file).map_err(Fetch::from)
    };
    let endpoint = std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into());
    let explain = |file: &str, f: Fetch| -> EmbedError {
        match f {
            Fetch::NotFound => EmbedError::input(format!(
                "{endpoint}/{id} has no {file} at revision `{revision}`; is `{id}` a CLIP model repository (and the revision right)?"
            )),
            Fetch::Unreachable(why) => EmbedError::input(format!(
                "could not download {file} of {id} ({why}) and it is not in the Hugging Face cache at {}; on a machine with network run the same command once (or download {CONFIG}, {WEIGHTS}, {TOKENIZER} and {PREPROCESSOR} from {endpoint}/{id} into one folder and pass that folder to --model).",
                cache.path().display()
            )),
        }
    };
    let config = get(CONFIG).map_err(|f| explain(CONFIG, f))?;
    let weights = match get(WEIGHTS) {
        Ok(p) => p,
        // Some older repositories ship only the PyTorch pickle.
        Err(Fetch::NotFound) => get(WEIGHTS_PTH).map_err(|f| explain(WEIGHTS, f))?,
        Err(f) => return Err(explain(WEIGHTS, f)),
    };
    let tokenizer = get(TOKENIZER).map_err(|f| explain(TOKENIZER, f))?;
    let preprocessor = get(PREPROCESSOR).map_err(|f| explain(PREPROCESSOR, f))?;
    // The cache lays files out as snapshots/<commit>/<file>: the commit is the revision.
    let commit = config
        .parent()
        .and_then(Path::file_name)
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|| revision.to_string());
    Ok(ModelFiles {
        id: id.to_string(),
        revision: commit,
        config,
        weights,
        tokenizer,
        preprocessor,
    })
}

enum Fetch {
    NotFound,
    Unreachable(String),
}

impl From<ApiError> for Fetch {
    fn from(e: ApiError) -> Fetch {
        match &e {
            ApiError::RequestError(r) if matches!(**r, ureq::Error::StatusCode(404)) => {
                Fetch::NotFound
            }
            _ => Fetch::Unreachable(e.to_string()),
        }
    }
}
