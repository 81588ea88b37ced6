// nlp.js (npm `node-nlp`, NlpManager with its defaults) on exactly the rows that
// Baton's triage engine is scored on: trains on one JSON file of {text, label},
// scores another, writes the exported model, prints one JSON line of numbers.
//
// Usage: node bench.js TRAIN.json HELDOUT.json MODEL_OUT.json
// Run by `cargo xtask bench triage`. Prints no message text.
'use strict';

const fs = require('fs');
const { NlpManager } = require('node-nlp');

function quantile(sorted, q) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

async function main() {
  const [trainPath, heldoutPath, modelOut] = process.argv.slice(2);
  if (!trainPath || !heldoutPath || !modelOut) {
    throw new Error('usage: node bench.js TRAIN.json HELDOUT.json MODEL_OUT.json');
  }
  const train = JSON.parse(fs.readFileSync(trainPath, 'utf8'));
  const heldout = JSON.parse(fs.readFileSync(heldoutPath, 'utf8'));

  const manager = new NlpManager({
    languages: ['en'],
    autoSave: false,
    autoLoad: false,
    nlu: { log: false },
  });
  for (const row of train) manager.addDocument('en', row.text, row.label);
  let t0 = process.hrtime.bigint();
  await manager.train();
  const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const exported = manager.export(true);
  fs.writeFileSync(modelOut, exported);

  // Load time of the exported model into a fresh manager.
  const loader = new NlpManager({ languages: ['en'], autoSave: false, autoLoad: false, nlu: { log: false } });
  t0 = process.hrtime.bigint();
  loader.import(exported);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;

  // Warm-up pass, which also scores accuracy; then a timed pass.
  // `accuracy` counts its answer (below its own threshold the answer is `None`);
  // `top1_accuracy` its best-scored intent, which is what Baton's accuracy counts.
  let correct = 0;
  let top1 = 0;
  for (const row of heldout) {
    const result = await manager.process('en', row.text);
    if (result.intent === row.label) correct++;
    const ranked = (result.nluAnswer && result.nluAnswer.classifications) || result.classifications || [];
    if (ranked.length > 0 && ranked[0].intent === row.label) top1++;
  }
  const perMessage = [];
  for (const row of heldout) {
    t0 = process.hrtime.bigint();
    await manager.process('en', row.text);
    perMessage.push(Number(process.hrtime.bigint() - t0) / 1e3);
  }
  perMessage.sort((a, b) => a - b);
  console.log(JSON.stringify({
    library: 'node-nlp ' + require('node-nlp/package.json').version,
    node: process.version,
    train_rows: train.length,
    messages: heldout.length,
    accuracy: correct / heldout.length,
    top1_accuracy: top1 / heldout.length,
    train_seconds: trainSeconds,
    load_ms: loadMs,
    process_median_us: quantile(perMessage, 0.5),
    process_p99_us: quantile(perMessage, 0.99),
  }));
}

main().catch((e) => {
  console.error(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
