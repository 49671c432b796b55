#!/usr/bin/env python3
"""Write the Parquet test fixtures the way real writers do (pyarrow, pandas, polars), and a
SQID-shaped conversion of sample_data/. Run from the repository root:

    pip install pyarrow pandas polars
    python3 scripts/parquet_fixtures.py

Writes tests/fixtures/parquet/ (small catalogues, one per writer and shape, plus a few broken
files) and tests/fixtures/sqid_sample/ (sample_data as SQID's three tables + a class table),
and records the writer versions in tests/fixtures/parquet/VERSIONS.txt.
"""

import csv
import os
import random
import sys

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "parquet")
SQID = os.path.join(ROOT, "tests", "fixtures", "sqid_sample")
SAMPLE = os.path.join(ROOT, "sample_data")

N, D = 12, 8
CLASSES = ["cat", "dog", "fish"]


def small_catalogue(seed=0):
    """12 items of 3 classes in 8 dimensions; item 3 has no image view, item 5 no text view."""
    rng = np.random.default_rng(seed)
    centres = np.eye(D)[: len(CLASSES)] * 3.0
    labels = [CLASSES[i % 3] for i in range(N)]
    image = np.stack([centres[i % 3] + rng.normal(0, 0.3, D) for i in range(N)]).astype(np.float32)
    text = np.stack([centres[i % 3] + rng.normal(0, 0.3, D) for i in range(N)]).astype(np.float32)
    ids = [f"item-{i:02d}" for i in range(N)]
    desc = [f"a {labels[i]} number {i}" for i in range(N)]
    images = [f"images/{i}.png" for i in range(N)]
    return ids, desc, images, labels, image, text, centres.astype(np.float32)


def vectors(m, missing, empty_not_null=False):
    out = [list(map(float, row)) for row in m]
    for i in missing:
        out[i] = [] if empty_not_null else None
    return out


def write_classes(folder, centres):
    pq.write_table(
        pa.table(
            {
                "name": CLASSES,
                "prompt": [f"a photo of a {c}" for c in CLASSES],
                "embedding": pa.array([list(map(float, r)) for r in centres], pa.list_(pa.float32())),
            }
        ),
        os.path.join(folder, "classes.parquet"),
    )


def main():
    os.makedirs(OUT, exist_ok=True)
    ids, desc, images, labels, image, text, centres = small_catalogue()

    # pyarrow (and HF datasets < 4): list<float>, utf8, snappy; a null image and an empty text.
    d = os.path.join(OUT, "pyarrow_list")
    os.makedirs(d, exist_ok=True)
    t = pa.table(
        {
            "id": ids,
            "description": desc,
            "image": images,
            "label": labels,
            "image_embedding": pa.array(vectors(image, [3]), pa.list_(pa.float32())),
            "text_embedding": pa.array(vectors(text, [5], empty_not_null=True), pa.list_(pa.float32())),
        }
    )
    pq.write_table(t, os.path.join(d, "items.parquet"))
    write_classes(d, centres)

    # HF datasets >= 4 / LanceDB: fixed_size_list<float>[d], known only through ARROW:schema.
    d = os.path.join(OUT, "pyarrow_fixed")
    os.makedirs(d, exist_ok=True)
    fixed = pa.list_(pa.float32(), D)
    t = pa.table(
        {
            "item_id": ids,
            "caption": desc,
            "category": labels,
            "img_emb": pa.array(vectors(image, [3]), fixed),
            "txt_emb": pa.array(vectors(text, []), fixed),
        }
    )
    pq.write_table(t, os.path.join(d, "items.parquet"), row_group_size=5)
    write_classes(d, centres)

    # pyarrow float16 vectors in two shards of one table.
    d = os.path.join(OUT, "pyarrow_f16_shards")
    os.makedirs(d, exist_ok=True)
    half = pa.list_(pa.float16())
    for s, rows in enumerate([range(0, 7), range(7, N)]):
        rows = list(rows)
        pq.write_table(
            pa.table(
                {
                    "id": [ids[i] for i in rows],
                    "label": [labels[i] for i in rows],
                    "image_embedding": pa.array(
                        [np.asarray(image[i], np.float16) for i in rows], half
                    ),
                }
            ),
            os.path.join(d, f"part-{s:05d}.parquet"),
        )
    write_classes(d, centres)

    # pandas: Python float lists become list<double>; strings large_utf8 in pandas 3.
    d = os.path.join(OUT, "pandas")
    os.makedirs(d, exist_ok=True)
    df = pd.DataFrame(
        {
            "product_id": ids,
            "title": desc,
            "label": labels,
            "image_vector": vectors(image, []),
            "text_vector": vectors(text, [5]),
        }
    )
    df.to_parquet(os.path.join(d, "items.parquet"))
    write_classes(d, centres)

    # polars: large_list<f32> and zstd; strings as polars writes them.
    d = os.path.join(OUT, "polars")
    os.makedirs(d, exist_ok=True)
    pl.DataFrame(
        {
            "id": ids,
            "text": desc,
            "label": labels,
            "image_embedding": pl.Series([list(r) for r in image], dtype=pl.List(pl.Float32)),
            "text_embedding": pl.Series([list(r) for r in text], dtype=pl.Array(pl.Float32, D)),
        }
    ).write_parquet(os.path.join(d, "items.parquet"), compression="zstd")
    write_classes(d, centres)

    # A codec this build lacks (brotli), for the error message.
    d = os.path.join(OUT, "brotli")
    os.makedirs(d, exist_ok=True)
    pq.write_table(
        pa.table({"id": ids, "image_embedding": pa.array(vectors(image, []), pa.list_(pa.float32()))}),
        os.path.join(d, "items.parquet"),
        compression="brotli",
    )
    write_classes(d, centres)

    with open(os.path.join(OUT, "VERSIONS.txt"), "w") as f:
        f.write(
            f"written by scripts/parquet_fixtures.py with python {sys.version.split()[0]}, "
            f"pyarrow {pa.__version__}, pandas {pd.__version__}, polars {pl.__version__}, "
            f"numpy {np.__version__}\n"
        )
        for sub in sorted(os.listdir(OUT)):
            p = os.path.join(OUT, sub, "items.parquet")
            if os.path.exists(p):
                f.write(f"{sub}/items.parquet: {pq.read_schema(p).remove_metadata()}\n".replace("\n", "; ").rstrip("; ") + "\n")

    sqid()


def sqid():
    """sample_data as SQID lays it out: features (product_id + two CLIP list<float32>
    columns), image URLs and titles in their own tables (shuffled: they are joined on the
    id), a class table with embeddings, and a catalogue.ron naming them."""
    os.makedirs(SQID, exist_ok=True)
    with open(os.path.join(SAMPLE, "items.csv"), newline="", encoding="utf-8") as f:
        items = list(csv.DictReader(f))
    with open(os.path.join(SAMPLE, "classes.csv"), newline="", encoding="utf-8") as f:
        classes = list(csv.DictReader(f))
    image = np.load(os.path.join(SAMPLE, "image_embeddings.npy")).astype(np.float32)
    text = np.load(os.path.join(SAMPLE, "text_embeddings.npy")).astype(np.float32)
    cls = np.load(os.path.join(SAMPLE, "class_embeddings.npy")).astype(np.float32)
    ids = [it["id"] for it in items]
    f32 = pa.list_(pa.float32())
    pq.write_table(
        pa.table(
            {
                "product_id": ids,
                "clip_text_features": pa.array(list(text), f32),
                "clip_image_features": pa.array(list(image), f32),
            }
        ),
        os.path.join(SQID, "product_features.parquet"),
        row_group_size=500,
    )
    order = list(range(len(items)))
    random.Random(0).shuffle(order)
    pq.write_table(
        pa.table(
            {
                "product_id": [ids[i] for i in order],
                "image_url": [
                    "https://example.invalid/emoji/" + os.path.basename(items[i]["image"]) for i in order
                ],
            }
        ),
        os.path.join(SQID, "product_image_urls.parquet"),
    )
    random.Random(1).shuffle(order)
    pq.write_table(
        pa.table(
            {
                "product_id": [ids[i] for i in order],
                "product_title": [items[i]["description"] for i in order],
                "product_locale": ["us"] * len(order),
                "label": [items[i]["label"] for i in order],
            }
        ),
        os.path.join(SQID, "products.parquet"),
    )
    pq.write_table(
        pa.table(
            {
                "name": [c["name"] for c in classes],
                "prompt": [c["prompt"] for c in classes],
                "embedding": pa.array(list(cls), f32),
            }
        ),
        os.path.join(SQID, "classes.parquet"),
    )
    with open(os.path.join(SQID, "catalogue.ron"), "w") as f:
        f.write(
            """// sample_data/ in the Shopping Queries Image Dataset's layout (scripts/parquet_fixtures.py).
(
    tables: ["product_features.parquet", "product_image_urls.parquet", "products.parquet"],
    id: "product_id",
    description: "product_title",
    image: "image_url",
    label: "label",
    image_embedding: "clip_image_features",
    text_embedding: "clip_text_features",
    classes: (table: "classes.parquet", name: "name", prompt: "prompt", embedding: "embedding"),
)
"""
        )


if __name__ == "__main__":
    main()
