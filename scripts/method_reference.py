#!/usr/bin/env python3
"""A second, independent implementation of the method (docs/method.md) in NumPy.

Two uses:
  * correctness: given the same tournament permutations it must agree label for label with
    `pairwise-audit classify` (`--compare predictions.csv`);
  * speed: the baseline a NumPy user would write, timed on the same data (BENCHMARKS.md).

Usage:
  python3 scripts/method_reference.py DATASET --perms perms.json [--k 100]
      [--compare predictions.csv] [--write labels.csv]
      [--one-vs-rest CLASS [--rest CLASS] --write-ovr scores.csv]

tests/fixtures/reference_sample_k{100,20}.csv were written by this script on sample_data with
the permutations in tests/fixtures/reference_perms.json; tests/engine_reference.rs checks the
engine against them. tests/fixtures/reference_ovr_*.csv are its binary step (one class against
the rest, docs/method.md) on sample_data; tests/engine_one_vs_rest.rs checks the engine's.
"""

import argparse
import csv
import json
import sys
import time

import numpy as np


def load(ds, modality):
    try:
        X = np.load(f"{ds}/{modality}_embeddings.npy")
    except FileNotFoundError:
        return None
    return np.asarray(X, dtype=np.float64)


def normalise(M):
    n = np.linalg.norm(M, axis=1, keepdims=True)
    return np.divide(M, n, out=np.zeros_like(M), where=n > 0)


def cross_ratio(A, B):
    """Cross ratio of every column, with the project's sigma = 0 guard (docs/method.md):
    a side that is constant on a dimension (variance within 1e-10 of its mean square) gives
    that dimension the ratio 1, the value of two identical distributions."""
    ma, mb = A.mean(0), B.mean(0)
    qa, qb = (A * A).mean(0), (B * B).mean(0)
    cv = np.maximum(0.5 * (qa + qb) - ma * mb, 0.0)
    va = np.maximum(qa - ma * ma, 0.0)
    vb = np.maximum(qb - mb * mb, 0.0)
    va = np.where(va <= 1e-10 * np.abs(qa), 0.0, va)
    vb = np.where(vb <= 1e-10 * np.abs(qb), 0.0, vb)
    prod = np.sqrt(va * vb)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(cv / prod)
    return np.where(prod > 0, np.maximum(r, 1.0), 1.0)


def select(Xn, S, base, k, min_items, floor=None, margin=None):
    n, C = S.shape
    d = Xn.shape[1]
    top = S.max(1)
    floor = np.percentile(top, 10) if floor is None else floor
    pairs = {}
    for a in range(C):
        for b in range(a + 1, C):
            cand = (base == a) | (base == b)
            diff = np.abs(S[:, a] - S[:, b])
            m = np.percentile(diff[cand], 25) if (margin is None and cand.any()) else (margin or 0.0)
            keep = cand & (np.maximum(S[:, a], S[:, b]) >= floor) & (diff >= m)
            A, B = Xn[keep & (base == a)], Xn[keep & (base == b)]
            if len(A) < min_items or len(B) < min_items:
                dims = np.arange(d)
            else:
                r = cross_ratio(A, B)
                dims = np.argsort(-r, kind="stable")[: min(k, d)]
            pairs[(a, b)] = dims
    return pairs


def cos_on(X, v):
    num = X @ v
    den = np.linalg.norm(X, axis=1) * np.linalg.norm(v)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def tournament(X, K, pairs, perms):
    n, C = X.shape[0], K.shape[0]
    surv = np.tile(np.arange(C), (n, 1))
    for perm in perms:
        surv = surv[:, perm]
        s = surv.shape[1]
        winners = []
        for j in range(0, s - 1, 2):
            lo = np.minimum(surv[:, j], surv[:, j + 1])
            hi = np.maximum(surv[:, j], surv[:, j + 1])
            w = lo.copy()
            code = lo * C + hi
            for c in np.unique(code):
                a, b = divmod(int(c), C)
                idx = np.nonzero(code == c)[0]
                D = pairs[(a, b)]
                xs = X[np.ix_(idx, D)]
                ca, cb = cos_on(xs, K[a, D]), cos_on(xs, K[b, D])
                w[idx] = np.where(ca >= cb, a, b)
            winners.append(w)
        if s % 2 == 1:
            winners.append(surv[:, s - 1])
        surv = np.stack(winners, axis=1)
    return surv[:, 0]


def classify(X, K, perms, k, min_items):
    Xn, Kn = normalise(X), normalise(K)
    S = Xn @ Kn.T
    base = S.argmax(1)
    pairs = select(Xn, S, base, k, min_items)
    return base, tournament(X, K, pairs, perms)


def one_vs_rest(X, K, c, rest, k, min_items):
    """The binary step: class c against the rest (class `rest`, or the best other class),
    at full dimension and on the top-k dimensions by cross ratio of the two kept sides.
    Returns the selected dimensions and the four score columns."""
    Xn, Kn = normalise(X), normalise(K)
    S = Xn @ Kn.T
    C, d = K.shape[0], X.shape[1]
    others = [rest] if rest is not None else [b for b in range(C) if b != c]
    floor = np.percentile(S.max(1), 10)
    cs, rs = S[:, c], S[:, others].max(1)
    gap = np.abs(cs - rs)
    margin = np.percentile(gap, 25)
    to_class = cs >= rs
    keep = (np.maximum(cs, rs) >= floor) & (gap >= margin)
    A, B = Xn[keep & to_class], Xn[keep & ~to_class]
    if len(A) < min_items or len(B) < min_items:
        dims = np.arange(d)
    else:
        dims = np.argsort(-cross_ratio(A, B), kind="stable")[: min(k, d)]
    xs = X[:, dims]
    sub_c = cos_on(xs, K[c, dims])
    sub_r = np.max(np.stack([cos_on(xs, K[b, dims]) for b in others]), axis=0)
    return dims, cs, rs, sub_c, sub_r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dataset")
    p.add_argument("--perms", required=True, help="JSON array of per-round permutations")
    p.add_argument("--k", type=int, default=100)
    p.add_argument("--min-items", type=int, default=5)
    p.add_argument("--compare", help="predictions.csv of pairwise-audit classify")
    p.add_argument("--write", help="write id + the four label columns to this CSV")
    p.add_argument("--one-vs-rest", help="also run the binary step for this class name")
    p.add_argument("--rest", help="a class that stands for the rest (default: the others)")
    p.add_argument("--write-ovr", help="write the binary step's scores to this CSV")
    args = p.parse_args()

    perms = json.load(open(args.perms))
    with open(f"{args.dataset}/classes.csv", newline="", encoding="utf-8-sig") as f:
        names = [r["name"] for r in csv.DictReader(f)]
    K = np.asarray(np.load(f"{args.dataset}/class_embeddings.npy"), dtype=np.float64)
    results = {}
    for modality in ("image", "text"):
        X = load(args.dataset, modality)
        if X is None:
            continue
        t0 = time.perf_counter()
        base, pw = classify(X, K, perms, args.k, args.min_items)
        dt = time.perf_counter() - t0
        results[modality] = (base, pw)
        print(f"{modality}: n={X.shape[0]} d={X.shape[1]} C={K.shape[0]} classify {dt:.3f} s")

    if args.write:
        with open(f"{args.dataset}/items.csv", newline="", encoding="utf-8-sig") as f:
            ids = [r["id"] for r in csv.DictReader(f)]
        cols = [(f"{m}_{kind}", labels) for m, (b, pw) in results.items()
                for kind, labels in (("base", b), ("pairwise", pw))]
        with open(args.write, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["id"] + [c for c, _ in cols])
            for i, id_ in enumerate(ids):
                w.writerow([id_] + [names[labels[i]] for _, labels in cols])

    if args.one_vs_rest:
        c = names.index(args.one_vs_rest)
        rest = names.index(args.rest) if args.rest else None
        cols, dims_line = [], []
        for modality in ("image", "text"):
            X = load(args.dataset, modality)
            if X is None:
                continue
            dims, *scores = one_vs_rest(X, K, c, rest, args.k, args.min_items)
            dims_line.append(f"{modality}:" + " ".join(map(str, dims)))
            for stage, (sc, sr) in (("full", scores[:2]), ("sub", scores[2:])):
                cols += [(f"{modality}_{stage}_class", sc), (f"{modality}_{stage}_rest", sr)]
            print(f"{modality}: {int((scores[2] >= scores[3]).sum())} items to {args.one_vs_rest}"
                  f" on {len(dims)} dims")
        if args.write_ovr:
            with open(f"{args.dataset}/items.csv", newline="", encoding="utf-8-sig") as f:
                ids = [r["id"] for r in csv.DictReader(f)]
            with open(args.write_ovr, "w", newline="", encoding="utf-8") as f:
                f.write("# dims " + " | ".join(dims_line) + "\n")
                w = csv.writer(f, lineterminator="\n")
                w.writerow(["id"] + [name for name, _ in cols])
                for i, id_ in enumerate(ids):
                    w.writerow([id_] + [repr(float(v[i])) for _, v in cols])

    if args.compare:
        with open(args.compare, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        bad = 0
        for modality, (base, pw) in results.items():
            for col, labels in ((f"{modality}_base", base), (f"{modality}_pairwise", pw)):
                theirs = [r[col] for r in rows]
                ours = [names[c] for c in labels]
                diff = sum(a != b for a, b in zip(theirs, ours))
                print(f"{col}: {len(ours) - diff}/{len(ours)} agree")
                bad += diff
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
