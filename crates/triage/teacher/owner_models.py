"""A site owner's own model, simulated: for each of 8 CLINC150 domains, the first 8
intents (by name) with 20 training queries each become a knowledge base and an examples
CSV, trained with `baton train` as the docs tell an owner (no out-of-scope data), and
scored on the domain's validation queries of those intents (in scope) and on CLINC150's
`oos_val` queries plus 100 validation queries of other domains (out of scope; none of
them trained on). Prints, for out-of-scope thresholds 0.2-0.6, the share of in-scope
queries kept (and answered right) and of out-of-scope ones rejected.

    python3 crates/triage/teacher/owner_models.py --data ../shared/data --baton target/release/baton

With --background K, the models also learn an out-of-scope class from K training queries
per CLINC150 intent of the other domains (`baton train --oos-clinc`), and the script
prints what the trained default keeps and rejects instead.
"""
import argparse, csv, json, os, random, subprocess, tempfile

DOMAINS = ['banking', 'credit_cards', 'kitchen_and_dining', 'home', 'auto_and_commute',
           'travel', 'utility', 'work']

ap = argparse.ArgumentParser()
ap.add_argument('--data', required=True)
ap.add_argument('--baton', default='target/release/baton')
ap.add_argument('--background', type=int, default=0)
args = ap.parse_args()
clinc = os.path.join(args.data, 'clinc150')
data = json.load(open(os.path.join(clinc, 'train_val.json')))
domains = json.load(open(os.path.join(clinc, 'domains.json')))
work = tempfile.mkdtemp(prefix='owner-models-')


def classify(model, texts):
    out = subprocess.run([args.baton, 'classify', '--model', model], input='\n'.join(texts) + '\n',
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


results = []
for domain in DOMAINS:
    intents = sorted(domains[domain])[:8]
    rng = random.Random(7)
    examples, kb, model = (os.path.join(work, domain + ext) for ext in ('.csv', '.toml', '.bin'))
    with open(examples, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['text', 'category'])
        for intent in intents:
            rows = [t for t, label in data['train'] if label == intent]
            rng.shuffle(rows)
            for text in rows[:20]:
                w.writerow([text, intent])
    with open(kb, 'w') as f:
        f.write(f'[site]\nid = "{domain.replace("_", "-")}"\nname = "{domain}"\n\n')
        for intent in intents:
            f.write(f'[[intent]]\nid = "{intent}"\ntitle = "About {intent}"\n'
                    f'answer = "An answer about {intent}."\n\n')
    command = [args.baton, 'train', '--examples', examples, '--kb', kb, '--out', model]
    if args.background:
        command += ['--oos-clinc', os.path.join(clinc, 'train_val.json'), '--clinc-domains',
                    os.path.join(clinc, 'domains.json'), '--oos-per-intent', str(args.background)]
    else:
        command += ['--oos-threshold', '0']
    subprocess.run(command, check=True, capture_output=True)
    in_scope = [(t, label) for t, label in data['val'] if label in intents]
    others = [t for t, label in data['val'] if label not in domains[domain]]
    rng.shuffle(others)
    off = [t for t, _ in data['oos_val']] + others[:100]
    answered = classify(model, [t for t, _ in in_scope])
    results.append(([(r['confidence'], r['intent'], label) for r, (_, label) in zip(answered, in_scope)],
                    [(r['confidence'], r['intent']) for r in classify(model, off)]))

n = sum(len(i) for i, _ in results)
m = sum(len(o) for _, o in results)
if args.background:
    kept = sum(intent is not None for i, _ in results for _, intent, _ in i)
    right = sum(intent == label for i, _ in results for _, intent, label in i)
    rejected = sum(intent is None for _, o in results for _, intent in o)
    print(f'background {args.background}/intent: kept {kept / n:.3f}, answered right {right / n:.3f}, '
          f'out of scope rejected {rejected / m:.3f} (n = {n} / {m})')
else:
    for t in (0.2, 0.3, 0.35, 0.375, 0.4, 0.5, 0.6):
        kept = sum(c >= t for i, _ in results for c, _, _ in i)
        right = sum(c >= t and intent == label for i, _ in results for c, intent, label in i)
        rejected = sum(c < t for _, o in results for c, _ in o)
        print(f'threshold {t}: kept {kept / n:.3f}, answered right {right / n:.3f}, '
              f'out of scope rejected {rejected / m:.3f} (n = {n} / {m})')
