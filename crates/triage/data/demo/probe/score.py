"""Scores the demo model (or another) on the probe of shoppers' messages.

Each CSV holds `text,expected`; `expected` is one of `explicit`, `no_explicit`,
`frustration`, `sensitive`, `oos`, `intent:a|b` (any of these intents, no escalation, no
frustration) or `redact:<the exact redacted text>`. Prints each group's count and its
misses. Standard library only:

    cargo build --release --bin baton
    python3 crates/triage/data/demo/probe/score.py [--model FILE] [CSV ...]
"""
import csv
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BATON = os.path.join(HERE, "../../../../../target/release/baton")


def as_expected(expected, r):
    reasons = r["reasons"]
    if expected == "explicit":
        return r["escalate"] and "explicit_request" in reasons
    if expected == "no_explicit":
        return "explicit_request" not in reasons
    if expected == "frustration":
        return "frustration" in reasons or "sensitive_intent" in reasons
    if expected == "sensitive":
        return r["escalate"] and ("sensitive_intent" in reasons or "explicit_request" in reasons)
    if expected == "oos":
        return "out_of_scope" in reasons
    if expected.startswith("intent:"):
        return (r["intent"] in expected[7:].split("|") and not r["escalate"]
                and "frustration" not in reasons)
    if expected.startswith("redact:"):
        return r["redacted"] == expected[7:]
    raise ValueError(f"unknown expectation {expected!r}")


def main(args):
    model = []
    if args[:1] == ["--model"]:
        model, args = ["--model", args[1]], args[2:]
    for path in args or sorted(glob.glob(os.path.join(HERE, "[A-H]_*.csv"))):
        rows = list(csv.DictReader(open(path, encoding="utf-8")))
        text = "".join(row["text"] + "\n" for row in rows)
        out = subprocess.run([BATON, "classify", *model], input=text.encode(),
                             capture_output=True, check=True).stdout.decode().splitlines()
        results = [(row, json.loads(line)) for row, line in zip(rows, out)]
        right = sum(as_expected(row["expected"], r) for row, r in results)
        print(f"{os.path.basename(path)}: {right}/{len(rows)}")
        for row, r in results:
            if not as_expected(row["expected"], r):
                print(f"  miss: {row['text']!r} -> {r['intent']} {r['confidence']:.3f} "
                      f"{r['reasons']} {r['redacted']!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
