#!/usr/bin/env python3
"""Tiny random CLIP checkpoints in the Hugging Face layout, and an independent NumPy forward
pass that computes the embeddings the Rust encoder must reproduce.

The forward pass is written from the CLIP architecture (Radford et al. 2021, and the layout of
transformers' `CLIPModel` checkpoints), not from candle: pre-norm transformer blocks, causal
self-attention in the text tower, quick_gelu (x * sigmoid(1.702 x)), text pooled at the
end-of-text token, image pooled at the class token after `post_layernorm`, then the bias-free
projections and L2 normalisation.

Usage:
  python3 scripts/clip_fixtures.py                       # rewrites tests/fixtures/clip_tiny/
                                                         # and tests/fixtures/embed_catalogue/
  python3 scripts/clip_fixtures.py --shape vit-b-32 --out /tmp/vit-b-32   # benchmark-size
  python3 scripts/clip_fixtures.py --shape vit-l-14 --out /tmp/vit-l-14   # random weights

Needs numpy, pillow and tokenizers (`pip install numpy pillow tokenizers`); the tests read the
committed files and need no Python. Weights are drawn with variance 1/fan-in (not the usual
0.02 scale, at which the network is so nearly linear that a wrong activation moves the output
by less than the test tolerance).
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

SHAPES = {
    # text: hidden, intermediate, layers, heads, max positions; vision: hidden, intermediate,
    # layers, heads, image size, patch; projection.
    "tiny": dict(t=(32, 64, 2, 4, 16), v=(48, 96, 2, 4, 32, 8), proj=24, vocab=None),
    "vit-b-32": dict(t=(512, 2048, 12, 8, 77), v=(768, 3072, 12, 12, 224, 32), proj=512, vocab=49408),
    "vit-l-14": dict(t=(768, 3072, 12, 12, 77), v=(1024, 4096, 24, 16, 224, 14), proj=768, vocab=49408),
}

CLIP_SPLIT = (
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"
)
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]

CORPUS = (
    "a photo of a cat a photo of a dog a red shirt a blue shirt the striped dress "
    "a pair of shoes a photo of a bird a small car a green apple a yellow banana "
    "a happy face a sad face a house with a red roof"
)


# ---------------------------------------------------------------- tokenizer (CLIP-like BPE)

def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1)
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def learn_merges(words, count):
    """Greedy BPE on the corpus words (each ends in </w>), like CLIP's own vocabulary."""
    seqs = [list(w[:-1]) + [w[-1] + "</w>"] for w in words]
    merges = []
    for _ in range(count):
        pairs = {}
        for s in seqs:
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + 1
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        merged = best[0] + best[1]
        new = []
        for s in seqs:
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            new.append(out)
        seqs = new
    return merges


def write_tokenizer(path):
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    alphabet = bytes_to_unicode()
    vocab = {}
    for c in alphabet:
        vocab[c] = len(vocab)
    for c in alphabet:
        vocab[c + "</w>"] = len(vocab)
    merges = learn_merges(CORPUS.split(), 40)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    # As in CLIP's vocabulary the two special tokens come last, so end-of-text is the highest id.
    sot, eot = len(vocab), len(vocab) + 1
    vocab["<|startoftext|>"] = sot
    vocab["<|endoftext|>"] = eot
    tok = Tokenizer(
        models.BPE(
            vocab=vocab,
            merges=merges,
            unk_token="<|endoftext|>",
            end_of_word_suffix="</w>",
            continuing_subword_prefix="",
            fuse_unk=False,
        )
    )
    tok.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tok.post_processor = processors.RobertaProcessing(
        ("<|endoftext|>", eot), ("<|startoftext|>", sot), trim_offsets=False,
        add_prefix_space=False,
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|startoftext|>", "<|endoftext|>"])
    tok.save(path)
    return tok, len(vocab)


# ---------------------------------------------------------------- weights

def make_weights(shape, vocab, rng):
    th, ti, tl, _, tpos = shape["t"]
    vh, vi, vl, _, isz, patch = shape["v"]
    proj = shape["proj"]
    w = {}

    def lin(name, n_in, n_out, bias=True):
        w[name + ".weight"] = rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)).astype(np.float32)
        if bias:
            w[name + ".bias"] = rng.normal(0, 0.1, n_out).astype(np.float32)

    def ln(name, n):
        w[name + ".weight"] = (1 + rng.normal(0, 0.1, n)).astype(np.float32)
        w[name + ".bias"] = rng.normal(0, 0.1, n).astype(np.float32)

    def layers(prefix, n, h, inter):
        for i in range(n):
            p = f"{prefix}.encoder.layers.{i}"
            for q in ("q_proj", "k_proj", "v_proj", "out_proj"):
                lin(f"{p}.self_attn.{q}", h, h)
            ln(f"{p}.layer_norm1", h)
            ln(f"{p}.layer_norm2", h)
            lin(f"{p}.mlp.fc1", h, inter)
            lin(f"{p}.mlp.fc2", inter, h)

    w["text_model.embeddings.token_embedding.weight"] = rng.normal(0, 1, (vocab, th)).astype(np.float32)
    w["text_model.embeddings.position_embedding.weight"] = rng.normal(0, 1, (tpos, th)).astype(np.float32)
    layers("text_model", tl, th, ti)
    ln("text_model.final_layer_norm", th)
    npos = (isz // patch) ** 2 + 1
    w["vision_model.embeddings.class_embedding"] = rng.normal(0, 1, vh).astype(np.float32)
    w["vision_model.embeddings.patch_embedding.weight"] = rng.normal(
        0, 1 / np.sqrt(3 * patch * patch), (vh, 3, patch, patch)
    ).astype(np.float32)
    w["vision_model.embeddings.position_embedding.weight"] = rng.normal(0, 1, (npos, vh)).astype(np.float32)
    ln("vision_model.pre_layrnorm", vh)
    layers("vision_model", vl, vh, vi)
    ln("vision_model.post_layernorm", vh)
    lin("visual_projection", vh, proj, bias=False)
    lin("text_projection", th, proj, bias=False)
    w["logit_scale"] = np.array(2.6592, dtype=np.float32)
    return w


def save_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        b = a.tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_config(path, shape, vocab):
    th, ti, tl, tn, tpos = shape["t"]
    vh, vi, vl, vn, isz, patch = shape["v"]
    cfg = {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "projection_dim": shape["proj"],
        "logit_scale_init_value": 2.6592,
        "text_config": {
            "hidden_size": th, "intermediate_size": ti, "num_hidden_layers": tl,
            "num_attention_heads": tn, "max_position_embeddings": tpos, "vocab_size": vocab,
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": shape["proj"],
            # The real openai/clip-vit-* configs carry these placeholders; the loader must not
            # take end-of-text from them.
            "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1, "model_type": "clip_text_model",
        },
        "vision_config": {
            "hidden_size": vh, "intermediate_size": vi, "num_hidden_layers": vl,
            "num_attention_heads": vn, "image_size": isz, "patch_size": patch, "num_channels": 3,
            "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": shape["proj"],
            "model_type": "clip_vision_model",
        },
    }
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)


def write_preprocessor(path, size):
    # The old CLIPFeatureExtractor form that openai/clip-vit-base-patch32 ships (plain ints).
    cfg = {
        "crop_size": size, "do_center_crop": True, "do_normalize": True, "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": MEAN, "image_std": STD,
        "resample": 3, "size": size,
    }
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)


# ---------------------------------------------------------------- NumPy forward pass

def layer_norm(x, w, b, eps=1e-5):
    x = x.astype(np.float64)
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def act(x, kind):
    if kind == "quick_gelu":
        return x / (1 + np.exp(-1.702 * x))
    # exact gelu, the deliberate mistake the tests must catch
    from math import erf
    return 0.5 * x * (1 + np.vectorize(erf)(x / np.sqrt(2)))


def encoder(x, w, prefix, n_layers, heads, causal, activation):
    b, s, h = x.shape
    hd = h // heads
    mask = np.triu(np.full((s, s), -np.inf), 1) if causal else np.zeros((s, s))
    for i in range(n_layers):
        p = f"{prefix}.encoder.layers.{i}"
        lin = lambda n, t: t @ w[f"{p}.{n}.weight"].T.astype(np.float64) + w[f"{p}.{n}.bias"]
        y = layer_norm(x, w[f"{p}.layer_norm1.weight"], w[f"{p}.layer_norm1.bias"])
        q = lin("self_attn.q_proj", y).reshape(b, s, heads, hd).transpose(0, 2, 1, 3)
        k = lin("self_attn.k_proj", y).reshape(b, s, heads, hd).transpose(0, 2, 1, 3)
        v = lin("self_attn.v_proj", y).reshape(b, s, heads, hd).transpose(0, 2, 1, 3)
        att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = (att @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
        x = x + lin("self_attn.out_proj", o)
        y = layer_norm(x, w[f"{p}.layer_norm2.weight"], w[f"{p}.layer_norm2.bias"])
        x = x + lin("mlp.fc2", act(lin("mlp.fc1", y), activation))
    return x


def normalise(e):
    return e / np.linalg.norm(e, axis=-1, keepdims=True)


def text_forward(w, shape, ids, activation="quick_gelu", pool=None):
    """One sequence at a time (no padding), pooled at the end-of-text token, which the
    tokenizer puts last."""
    _, _, tl, tn, _ = shape["t"]
    out = []
    for seq in ids:
        x = w["text_model.embeddings.token_embedding.weight"][seq].astype(np.float64)
        x = x + w["text_model.embeddings.position_embedding.weight"][: len(seq)]
        x = encoder(x[None], w, "text_model", tl, tn, True, activation)[0]
        x = layer_norm(x, w["text_model.final_layer_norm.weight"], w["text_model.final_layer_norm.bias"])
        pooled = x[len(seq) - 1 if pool is None else pool]
        out.append(pooled @ w["text_projection.weight"].T)
    return normalise(np.array(out))


def image_forward(w, shape, pixels, activation="quick_gelu"):
    """pixels: (b, 3, H, W) float, already preprocessed."""
    vh, _, vl, vn, isz, patch = shape["v"]
    b = pixels.shape[0]
    g = isz // patch
    # A stride-`patch` convolution without bias is a linear map of each flattened patch.
    p = pixels.reshape(b, 3, g, patch, g, patch).transpose(0, 2, 4, 1, 3, 5).reshape(b, g * g, -1)
    kernel = w["vision_model.embeddings.patch_embedding.weight"].reshape(vh, -1).astype(np.float64)
    x = p @ kernel.T
    cls = np.broadcast_to(w["vision_model.embeddings.class_embedding"], (b, 1, vh))
    x = np.concatenate([cls, x], 1) + w["vision_model.embeddings.position_embedding.weight"]
    x = layer_norm(x, w["vision_model.pre_layrnorm.weight"], w["vision_model.pre_layrnorm.bias"])
    x = encoder(x, w, "vision_model", vl, vn, False, activation)
    x = layer_norm(x[:, 0], w["vision_model.post_layernorm.weight"], w["vision_model.post_layernorm.bias"])
    return normalise(x @ w["visual_projection.weight"].T)


def preprocess(path, size):
    """CLIPImageProcessor: RGB, shortest side to `size` (PIL bicubic), centre crop, 1/255,
    normalise."""
    from PIL import Image

    img = Image.open(path).convert("RGB")
    wd, ht = img.size
    short, long = (wd, ht) if wd <= ht else (ht, wd)
    new_long = int(size * long / short)
    nw, nh = (size, new_long) if wd <= ht else (new_long, size)
    if (nw, nh) != (wd, ht):
        img = img.resize((nw, nh), Image.BICUBIC)
    a = np.asarray(img, dtype=np.float64)
    top, left = (nh - size) // 2, (nw - size) // 2
    a = a[top : top + size, left : left + size] / 255.0
    a = (a - MEAN) / STD
    return a.transpose(2, 0, 1)


# ---------------------------------------------------------------- fixtures

TEXTS = [
    "a photo of a cat",
    "A RED   shirt!",
    "",
    "the striped dress, size 42",
    # longer than the tiny model's 16 positions: must be cut to 16 with end-of-text last
    "a photo of a dog and a photo of a bird and a green apple and a yellow banana",
]

CLASSES = [("cat", "a photo of a cat"), ("dog", "a photo of a dog"), ("shirt", "a red shirt")]


def write_images(folder, rng):
    from PIL import Image

    os.makedirs(folder, exist_ok=True)
    specs = {  # name: (width, height); the first three need no resize at size 32
        "tall.png": (32, 40),
        "wide.png": (44, 32),
        "square.png": (32, 32),
        "big.jpg": (50, 64),  # goes through the resize
    }
    for name, (wd, ht) in specs.items():
        yy, xx = np.mgrid[0:ht, 0:wd]
        base = np.stack([(xx * 7 + yy * 3) % 256, (yy * 11) % 256, (xx * yy) % 256], -1)
        noise = rng.integers(0, 60, (ht, wd, 3))
        a = np.clip(base + noise, 0, 255).astype(np.uint8)
        if name.endswith(".jpg"):
            Image.fromarray(a).save(os.path.join(folder, name), quality=95)
        else:
            Image.fromarray(a).save(os.path.join(folder, name))
    with open(os.path.join(folder, "broken.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n this is not an image")
    return list(specs)


def write_catalogue(root, images):
    import csv

    os.makedirs(root, exist_ok=True)
    rows = [
        ("i1", "a photo of a cat", "images/tall.png", "cat"),
        ("i2", "a red shirt", "images/wide.png", "shirt"),
        ("i3", "a photo of a dog", "images/square.png", "dog"),
        ("i4", "a blue shirt", "images/big.jpg", "shirt"),
        ("i5", "a cat on a sofa", "images/broken.png", "cat"),
        ("i6", "a small dog", "images/missing.png", "dog"),
        ("i7", "a dog without a picture", "", ""),
    ]
    with open(os.path.join(root, "items.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "description", "image", "label"])
        w.writerows(rows)
    with open(os.path.join(root, "classes.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "prompt"])
        w.writerows(CLASSES)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="tiny", choices=sorted(SHAPES))
    ap.add_argument("--out", default=None)
    ap.add_argument("--seed", type=int, default=10)
    a = ap.parse_args()
    shape = SHAPES[a.shape]
    rng = np.random.default_rng(a.seed)
    out = a.out or "tests/fixtures/clip_tiny"
    os.makedirs(out, exist_ok=True)
    tok, tok_vocab = write_tokenizer(os.path.join(out, "tokenizer.json"))
    vocab = shape["vocab"] or tok_vocab
    w = make_weights(shape, vocab, rng)
    save_safetensors(os.path.join(out, "model.safetensors"), w)
    write_config(os.path.join(out, "config.json"), shape, vocab)
    size = shape["v"][4]
    write_preprocessor(os.path.join(out, "preprocessor_config.json"), size)
    if a.shape != "tiny":
        print(f"wrote {out} ({sum(v.size for v in w.values()):,} parameters)")
        return

    max_pos = shape["t"][4]
    ids = []
    for t in TEXTS:
        e = tok.encode(t).ids
        if len(e) > max_pos:
            e = e[: max_pos - 1] + [e[-1]]
        ids.append(e)
    cat = "tests/fixtures/embed_catalogue"
    names = write_images(os.path.join(cat, "images"), rng)
    write_catalogue(cat, names)
    pixels = np.stack([preprocess(os.path.join(cat, "images", n), size) for n in names])
    expected = {
        "texts": TEXTS,
        "ids": ids,
        "text": text_forward(w, shape, ids).tolist(),
        "text_gelu": text_forward(w, shape, ids, "gelu").tolist(),
        "text_pool0": text_forward(w, shape, ids, pool=0).tolist(),
        "images": names,
        "pixels_checksum": [float(p.sum()) for p in pixels],
        "pixels": pixels.round(7).tolist(),
        "image": image_forward(w, shape, pixels).tolist(),
        "image_gelu": image_forward(w, shape, pixels, "gelu").tolist(),
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    import numpy, PIL, tokenizers

    with open(os.path.join(out, "VERSIONS.txt"), "w") as f:
        f.write(f"python {sys.version.split()[0]}\nnumpy {numpy.__version__}\n"
                f"pillow {PIL.__version__}\ntokenizers {tokenizers.__version__}\n")
    print(f"wrote {out} and {cat}")


if __name__ == "__main__":
    main()
