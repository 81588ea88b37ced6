#!/usr/bin/env python3
"""Static word vectors distilled from all-MiniLM-L6-v2, for `baton train --word-vectors`.

With `--write FILE` it writes the vectors of the first `--dims` in the word2vec text
format that `baton train --word-vectors` reads (the demo model's are
`crates/triage/data/demo/word-vectors.vec`); it always prints what the vectors are worth
in scikit-learn (research for issue 3, measured before the Rust side existed). Words are
split exactly as the Rust engine splits them (`features::normalize`). The word vectors come from
one linear least-squares fit: with A the messages x words matrix (each row a message's
words, weight 1/length) and T the teacher's sentence embeddings of the same messages
(the training rows of a `baton split` hold-out split plus the unlabelled in-domain
messages `teacher.py` uses), E = (A'A + lambda I)^-1 A'T, so that the mean of a message's
word vectors approximates what MiniLM says about the whole message. E is reduced by PCA to
`d` dimensions and quantised to `bits` per value; a logistic regression on the
normalised mean vectors of the training rows scores the held-out rows alone and mixed
(probabilities added) with a logistic regression on TF-IDF word 1-2 and char 2-5 grams.
It prints accuracies and the brotli size of the vectors plus the word list.

Held-out messages are never used to fit anything. Embeddings are read from (and added
to) the cache `teacher.py` writes. See BENCHMARKS.md ("Static word vectors").
"""

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

import brotli
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).parent))
import teacher  # noqa: E402

def tokens(text):
    """The words of `text` exactly as the Rust engine sees them (`features::normalize`):
    apostrophes dropped, letters lowercased, every digit `0`, anything else a break."""
    out = []
    for c in text:
        if c in "'\u2019":
            continue
        if c.isalnum():
            out.append("0" if c.isnumeric() else c.lower())
        else:
            out.append(" ")
    return "".join(out).split()


def mean_matrix(texts, vocab):
    """Messages x words, each row the mean of its known words (weight 1/count)."""
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        known = [vocab[w] for w in tokens(text) if w in vocab]
        for w in known:
            rows.append(i)
            cols.append(w)
            vals.append(1.0 / len(known))
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(vocab)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder")
    ap.add_argument("--train-rows", type=Path, required=True, help="`baton split --train-out` JSON")
    ap.add_argument("--heldout-rows", type=Path, required=True, help="`baton split --heldout-out` JSON")
    ap.add_argument("--cache", type=Path, default=Path("target/teacher-cache"), help="embedding cache folder")
    ap.add_argument("--ridge", type=float, default=0.1, help="lambda of the least-squares fit")
    ap.add_argument("--min-count", type=int, default=2, help="words seen fewer times get no vector")
    ap.add_argument("--dims", type=int, nargs="+", default=[48, 64, 96])
    ap.add_argument("--bits", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--write", type=Path, help="write the vectors of the first --dims as a word2vec text file")
    args = ap.parse_args()

    train = json.loads(args.train_rows.read_text())
    held = json.loads(args.heldout_rows.read_text())
    train_texts, held_texts = [r["text"] for r in train], [r["text"] for r in held]
    labels = sorted({r["label"] for r in train})
    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index[r["label"]] for r in train])
    y_held = np.array([index[r["label"]] for r in held])
    with open(args.data / "banking77/train.csv", newline="", encoding="utf-8") as f:
        banking77 = list(csv.DictReader(f))
    texts = train_texts + teacher.extra_messages(args.data, banking77, set(train_texts))
    targets = teacher.embed(texts, args.cache)

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    grams = sp.hstack([words.fit_transform(train_texts), chars.fit_transform(train_texts)]).tocsr()
    grams_held = sp.hstack([words.transform(held_texts), chars.transform(held_texts)]).tocsr()
    ngram = LogisticRegression(C=30, max_iter=3000).fit(grams, y).predict_proba(grams_held)
    print(f"n-gram logistic regression: {(ngram.argmax(1) == y_held).mean():.4f}")

    counts = Counter(w for text in texts for w in tokens(text))
    vocab = {w: i for i, w in enumerate(sorted(w for w, c in counts.items() if c >= args.min_count))}
    a = mean_matrix(texts, vocab)
    vectors = np.linalg.solve((a.T @ a).toarray() + args.ridge * np.eye(len(vocab)), a.T @ targets)
    centred = vectors - vectors.mean(0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    word_list = "\n".join(vocab).encode()
    print(f"{len(texts)} messages fitted, {len(vocab)} words with a vector")
    if args.write:
        reduced = centred @ components[: args.dims[0]].T
        with open(args.write, "w", encoding="utf-8", newline="\n") as f:
            f.write(f"{len(vocab)} {reduced.shape[1]}\n")
            for word, row in zip(vocab, reduced):
                f.write(word + " " + " ".join(f"{v:.3g}" for v in row) + "\n")
        print(f"wrote {args.write}")
    for d in args.dims:
        reduced = centred @ components[:d].T
        for bits in args.bits:
            levels = 2 ** (bits - 1) - 1
            scale = np.quantile(np.abs(reduced), 0.99, axis=0) / levels
            quantised = np.clip(np.round(reduced / scale), -levels, levels).astype(np.int8)

            def features(batch):
                x = mean_matrix(batch, vocab) @ (quantised * scale)
                return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)

            static = LogisticRegression(C=30, max_iter=3000).fit(features(train_texts), y)
            p = static.predict_proba(features(held_texts))
            size = len(brotli.compress(quantised.astype(np.uint8).tobytes() + word_list, quality=11))
            print(
                f"d {d:3} bits {bits}: static {(p.argmax(1) == y_held).mean():.4f}, "
                f"mixed with n-grams {((p + ngram).argmax(1) == y_held).mean():.4f}, "
                f"vectors + words {size} B brotli"
            )


if __name__ == "__main__":
    main()
