//! Which column plays which role, from the tables' schemas alone: embedding columns are lists
//! of floats told apart by name, the id is `id` or `*_id`, the label `label`/`category`/
//! `class`. What the user names wins; every choice is said in a note.

use super::columns::Kind;
use super::table::Table;
use crate::DatasetError;
use crate::dataset::mapping::{ColumnOverrides, Mapping};

const IMAGE_HINTS: &[&str] = &[
    "image", "img", "vision", "visual", "photo", "picture", "pixel",
];
const TEXT_HINTS: &[&str] = &[
    "text", "txt", "title", "desc", "caption", "sentence", "language",
];
const LABEL_NAMES: &[&str] = &["label", "category", "class", "labels", "class_name"];
const TEXT_NAMES: &[&str] = &[
    "description",
    "text",
    "title",
    "caption",
    "product_title",
    "name",
    "desc",
];
const TEXT_PARTS: &[&str] = &["title", "description", "caption"];
const IMAGE_NAMES: &[&str] = &[
    "image",
    "image_url",
    "image_path",
    "url",
    "img",
    "path",
    "image_file",
    "file_name",
    "filename",
];
const IMAGE_PARTS: &[&str] = &["image", "url", "img"];

/// A column of one of the tables.
struct Candidate<'a> {
    name: &'a str,
    kind: Kind,
}

fn candidates(tables: &[Table]) -> Vec<Candidate<'_>> {
    let mut out: Vec<Candidate> = Vec::new();
    for t in tables {
        for f in t.schema.fields() {
            if !out.iter().any(|c| c.name == f.name()) {
                out.push(Candidate {
                    name: f.name(),
                    kind: Kind::of(f.data_type()),
                });
            }
        }
    }
    out
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn hinted(name: &str, hints: &[&str]) -> bool {
    let n = lower(name);
    hints.iter().any(|h| n.contains(h))
}

fn all_columns(tables: &[Table]) -> String {
    candidates(tables)
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The chosen mapping and one note per role.
pub struct Detection {
    pub mapping: Mapping,
    pub notes: Vec<String>,
}

/// Choose the columns of `tables` (the first one is the primary table) for each role.
/// `given` names columns the user chose (on the command line or in the app), `manifest`
/// those `catalogue.ron` names; the user's win.
pub fn detect(
    tables: &[Table],
    given: &ColumnOverrides,
    manifest: &ColumnOverrides,
) -> Result<Detection, DatasetError> {
    let from = |cli: &Option<String>| {
        if cli.is_some() {
            "given"
        } else {
            "from catalogue.ron"
        }
    };
    let sources = [
        from(&given.id),
        from(&given.label),
        from(&given.text),
        from(&given.image),
        from(&given.image_embedding),
        from(&given.text_embedding),
    ];
    let given = &given.or(manifest);
    let cands = candidates(tables);
    let primary = &tables[0];
    let mut notes = Vec::new();
    let err = |msg: String| DatasetError::file(&primary.path, msg);

    // A named column must exist and fit its role.
    let check = |role: &str, flag: &str, name: &str, embedding: bool| {
        let Some(c) = cands.iter().find(|c| c.name == name) else {
            return Err(err(format!(
                "the {role} column `{name}` (named with {flag} or in catalogue.ron) is in none of the tables; they have {}.",
                all_columns(tables)
            )));
        };
        let fits = if embedding {
            c.kind.is_embedding()
        } else {
            c.kind.is_textual()
        };
        if !fits {
            let wanted = if embedding {
                "a list of float16, float32 or float64"
            } else {
                "text or integers"
            };
            let found = match &c.kind {
                Kind::OtherList(t) | Kind::Other(t) => t.clone(),
                Kind::Embedding { .. } => "a list of floats".into(),
                Kind::Text => "text".into(),
                Kind::Integer => "integers".into(),
            };
            return Err(err(format!(
                "the {role} column `{name}` holds {found}; it must be {wanted}."
            )));
        }
        Ok(())
    };

    // The id.
    let id = match &given.id {
        Some(name) => {
            check("id", "--id-column", name, false)?;
            if let Some(t) = tables.iter().find(|t| !t.has(name)) {
                return Err(DatasetError::file(
                    &t.path,
                    format!("lacks the id column `{name}`; every table is joined on it."),
                ));
            }
            notes.push(format!("id: `{name}` ({})", sources[0]));
            name.clone()
        }
        None => {
            let fits = |f: &arrow_schema::Field| {
                Kind::of(f.data_type()).is_textual() && tables.iter().all(|t| t.has(f.name()))
            };
            let fields = primary.schema.fields();
            let exact = fields.iter().find(|f| lower(f.name()) == "id" && fits(f));
            let suffixed = || {
                fields
                    .iter()
                    .find(|f| lower(f.name()).ends_with("_id") && fits(f))
            };
            let Some(f) = exact.or_else(suffixed) else {
                return Err(err(format!(
                    "has no id column (text or integers named `id` or `*_id`, in every table); name one with --id-column (columns: {}).",
                    all_columns(tables)
                )));
            };
            notes.push(format!("id: `{}` (detected: named like an id)", f.name()));
            f.name().clone()
        }
    };

    let mut taken: Vec<String> = vec![id.clone()];
    let pick_text = |role: &str,
                     flag: &str,
                     source: &str,
                     given: &Option<String>,
                     names: &[&str],
                     parts: &[&str],
                     taken: &mut Vec<String>,
                     notes: &mut Vec<String>|
     -> Result<Option<String>, DatasetError> {
        if given.as_deref() == Some("") {
            notes.push(format!("{role}: none ({source})"));
            return Ok(None);
        }
        if let Some(name) = given {
            check(role, flag, name, false)?;
            notes.push(format!("{role}: `{name}` ({source})"));
            taken.push(name.clone());
            return Ok(Some(name.clone()));
        }
        let free = |c: &&Candidate| c.kind.is_textual() && !taken.iter().any(|t| t == c.name);
        let found = names
            .iter()
            .find_map(|n| cands.iter().filter(free).find(|c| lower(c.name) == *n))
            .or_else(|| {
                cands
                    .iter()
                    .filter(free)
                    .find(|c| parts.iter().any(|p| lower(c.name).contains(p)))
            });
        match found {
            Some(c) => {
                notes.push(format!("{role}: `{}` (detected: by its name)", c.name));
                taken.push(c.name.to_string());
                Ok(Some(c.name.to_string()))
            }
            None => {
                notes.push(format!(
                    "{role}: none (no column named like one; {flag} names it)"
                ));
                Ok(None)
            }
        }
    };
    let label = pick_text(
        "label",
        "--label-column",
        sources[1],
        &given.label,
        LABEL_NAMES,
        &[],
        &mut taken,
        &mut notes,
    )?;
    let text = pick_text(
        "description",
        "--text-column",
        sources[2],
        &given.text,
        TEXT_NAMES,
        TEXT_PARTS,
        &mut taken,
        &mut notes,
    )?;
    let image = pick_text(
        "image",
        "--image-column",
        sources[3],
        &given.image,
        IMAGE_NAMES,
        IMAGE_PARTS,
        &mut taken,
        &mut notes,
    )?;

    // The embeddings.
    if let Some(name) = given.image_embedding.as_ref().filter(|n| !n.is_empty()) {
        check("image embedding", "--image-embedding-column", name, true)?;
    }
    if let Some(name) = given.text_embedding.as_ref().filter(|n| !n.is_empty()) {
        check("text embedding", "--text-embedding-column", name, true)?;
    }
    let free: Vec<&str> = cands
        .iter()
        .filter(|c| c.kind.is_embedding())
        .map(|c| c.name)
        .filter(|n| given.image_embedding.as_deref() != Some(n))
        .filter(|n| given.text_embedding.as_deref() != Some(n))
        .collect();
    let by_hint = |hints: &[&str], other: &[&str]| -> Vec<&str> {
        free.iter()
            .copied()
            .filter(|n| hinted(n, hints) && !hinted(n, other))
            .collect()
    };
    let image_hinted = by_hint(IMAGE_HINTS, TEXT_HINTS);
    let text_hinted = by_hint(TEXT_HINTS, IMAGE_HINTS);
    let unhinted: Vec<&str> = free
        .iter()
        .copied()
        .filter(|n| !image_hinted.contains(n) && !text_hinted.contains(n))
        .collect();
    let choose = |role: &str,
                  flag: &str,
                  source: &str,
                  given: &Option<String>,
                  hinted: &[&str],
                  notes: &mut Vec<String>|
     -> Result<Option<String>, DatasetError> {
        if given.as_deref() == Some("") {
            notes.push(format!("{role}: none ({source})"));
            return Ok(None);
        }
        if let Some(name) = given {
            notes.push(format!("{role}: `{name}` ({source})"));
            return Ok(Some(name.clone()));
        }
        match hinted {
            [] => Ok(None),
            [one] => {
                notes.push(format!(
                    "{role}: `{one}` (detected: a list of floats named like one)"
                ));
                Ok(Some(one.to_string()))
            }
            many => Err(err(format!(
                "has several {role} columns ({}); name one with {flag}.",
                many.iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    };
    let image_embedding = choose(
        "image embedding",
        "--image-embedding-column",
        sources[4],
        &given.image_embedding,
        &image_hinted,
        &mut notes,
    )?;
    let text_embedding = choose(
        "text embedding",
        "--text-embedding-column",
        sources[5],
        &given.text_embedding,
        &text_hinted,
        &mut notes,
    )?;
    if image_embedding.is_none() && text_embedding.is_none() {
        let msg = match &unhinted[..] {
            [] => "has no embedding column (a list of float16, float32 or float64); at least one modality is needed".to_string(),
            names => format!(
                "has the embedding column(s) {} but their names do not say image or text; name them with --image-embedding-column or --text-embedding-column",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return Err(err(format!("{msg}.")));
    }
    if image_embedding.is_none() && given.image_embedding.is_none() {
        notes.push("image embedding: none (text only)".into());
    }
    if text_embedding.is_none() && given.text_embedding.is_none() {
        notes.push("text embedding: none (image only)".into());
    }
    Ok(Detection {
        mapping: Mapping {
            id,
            label,
            text,
            image,
            image_embedding,
            text_embedding,
        },
        notes,
    })
}
