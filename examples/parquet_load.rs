//! Loading the same catalogue from Parquet and from the folder layout (.npy pair), in one
//! run, alternating, so that both see the same machine load and page cache.
//!
//!     cargo run --release --no-default-features --features parquet -- synth --n 1000000 --d 768 --out /tmp/synth1m
//!     cargo run --release --no-default-features --features parquet --example parquet_load -- /tmp/synth1m 3
//!
//! The first run writes DIR/parquet/items.parquet (id, description, label and both embeddings
//! as `list<float32>`, snappy, the writer's default row groups — what pyarrow writes).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::builder::{Float32Builder, ListBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use ndarray::Array2;
use pairwise_audit::Dataset;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

const BATCH: usize = 65_536;

/// User + system CPU seconds of this process so far: steadier than wall time on a shared
/// machine.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn embeddings(x: &Array2<f32>, rows: std::ops::Range<usize>) -> ArrayRef {
    let d = x.ncols();
    let mut b =
        ListBuilder::with_capacity(Float32Builder::with_capacity(rows.len() * d), rows.len());
    for i in rows {
        b.values()
            .append_slice(x.row(i).as_slice().expect("row-major"));
        b.append(true);
    }
    Arc::new(b.finish())
}

fn convert(ds: &Dataset, out: &Path) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let classes = out.parent().unwrap().join("classes.csv");
    std::fs::copy(ds.root.join("classes.csv"), &classes).unwrap();
    std::fs::copy(
        ds.root.join("class_embeddings.npy"),
        out.parent().unwrap().join("class_embeddings.npy"),
    )
    .unwrap();
    let image = ds.image_embeddings.as_ref().expect("both views");
    let text = ds.text_embeddings.as_ref().expect("both views");
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
    for start in (0..ds.len()).step_by(BATCH) {
        let rows = start..(start + BATCH).min(ds.len());
        let strings = |f: &dyn Fn(usize) -> String| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(rows.clone().map(f)))
        };
        let batch = RecordBatch::try_from_iter([
            ("id", strings(&|i| ds.items[i].id.clone())),
            ("description", strings(&|i| ds.items[i].description.clone())),
            (
                "label",
                strings(&|i| {
                    ds.items[i]
                        .label
                        .map(|c| ds.class_name(c).to_string())
                        .unwrap_or_default()
                }),
            ),
            ("image_embedding", embeddings(image, rows.clone())),
            ("text_embedding", embeddings(text, rows.clone())),
        ])
        .unwrap();
        let w = writer.get_or_insert_with(|| {
            ArrowWriter::try_new(
                std::fs::File::create(out).unwrap(),
                batch.schema(),
                Some(props.clone()),
            )
            .unwrap()
        });
        w.write(&batch).unwrap();
    }
    writer.unwrap().close().unwrap();
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: parquet_load SYNTH_DIR [RUNS]");
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let dir = Path::new(&dir);
    let table = dir.join("parquet").join("items.parquet");
    if !table.exists() {
        let t = Instant::now();
        let ds = Dataset::load(dir).unwrap();
        convert(&ds, &table);
        eprintln!(
            "wrote {} in {:.1} s",
            table.display(),
            t.elapsed().as_secs_f64()
        );
    }
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1e9;
    println!(
        "items.parquet {:.2} GB; image + text .npy {:.2} GB",
        size(&table),
        size(&dir.join("image_embeddings.npy")) + size(&dir.join("text_embeddings.npy"))
    );
    let mut wall = [Vec::new(), Vec::new()];
    let mut cpu = [Vec::new(), Vec::new()];
    for run in 0..runs {
        for (k, (name, path)) in [("npy", dir.to_path_buf()), ("parquet", table.clone())]
            .into_iter()
            .enumerate()
        {
            let (t, c) = (Instant::now(), cpu_seconds());
            let ds = Dataset::load(&path).unwrap();
            let (s, used) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
            assert_eq!(ds.modalities().len(), 2);
            println!(
                "run {run} {name}: {} × {} × 2 in {s:.2} s wall, {used:.2} s CPU",
                ds.len(),
                ds.dim()
            );
            wall[k].push(s);
            cpu[k].push(used);
            drop(ds);
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "median wall: npy {:.2} s, parquet {:.2} s (ratio {:.2}); median CPU: npy {:.2} s, parquet {:.2} s (ratio {:.2})",
        median(&wall[0]),
        median(&wall[1]),
        median(&wall[1]) / median(&wall[0]),
        median(&cpu[0]),
        median(&cpu[1]),
        median(&cpu[1]) / median(&cpu[0])
    );
}
