// Times the triage engine compiled to wasm, as the widget runs it, and POSTs the
// numbers to /result (served by `cargo xtask bench triage`). No customer text is
// reported: only counts and timings.
import init, { DecisionBench } from './pkg/bench.js';

const LOADS = 30;
const REPEATS = 20;
const ROUNDS = 3;

function quantile(sorted, q) {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

async function run() {
  let t0 = performance.now();
  await init({ module_or_path: './pkg/bench_bg.wasm' });
  const instantiateMs = performance.now() - t0;
  const model = new Uint8Array(await (await fetch('model.bin')).arrayBuffer());
  const heldout = await (await fetch('heldout.json')).json();

  // Model load: Engine::from_bytes (plus the copy of the bytes into wasm memory).
  t0 = performance.now();
  const engine = new DecisionBench(model);
  const firstLoadMs = performance.now() - t0;
  // `?first-load`: only the first load in this fresh page (xtask opens it again and
  // again in new browser profiles, since one first load is a noisy sample).
  if (new URLSearchParams(location.search).has('first-load')) {
    return { user_agent: navigator.userAgent, instantiate_ms: instantiateMs, load_first_ms: firstLoadMs };
  }
  const loads = [];
  for (let i = 0; i < LOADS; i++) {
    t0 = performance.now();
    const e = new DecisionBench(model);
    loads.push(performance.now() - t0);
    e.free();
  }
  loads.sort((a, b) => a - b);

  // Accuracy of the top intent, and a warm-up pass over every message.
  let correct = 0;
  for (const row of heldout) {
    if (engine.top_intent(row.text) === row.label) correct++;
    engine.decide(row.text, 1);
  }

  // Per message: each message REPEATS times, mean per run, in µs (sorted).
  let sink = 0;
  const timePerMessage = (work) => {
    const times = [];
    for (const row of heldout) {
      t0 = performance.now();
      sink += work(row.text);
      times.push(((performance.now() - t0) * 1000) / REPEATS);
    }
    return times.sort((a, b) => a - b);
  };
  // The whole decision, ROUNDS times (the round with the lowest median counts, to damp
  // noise from other work on the machine), then its parts for the breakdown.
  let perMessage = null;
  for (let round = 0; round < ROUNDS; round++) {
    const times = timePerMessage((text) => engine.decide(text, REPEATS));
    if (perMessage === null || quantile(times, 0.5) < quantile(perMessage, 0.5)) perMessage = times;
  }
  const escalated = sink / ROUNDS;
  const classify = timePerMessage((text) => engine.classify(text, REPEATS));
  const redact = timePerMessage((text) => engine.redact(text, REPEATS));
  const mean = perMessage.reduce((a, b) => a + b, 0) / perMessage.length;
  return {
    user_agent: navigator.userAgent,
    cross_origin_isolated: self.crossOriginIsolated === true,
    messages: heldout.length,
    rounds: ROUNDS,
    accuracy: correct / heldout.length,
    escalated_share: escalated / (heldout.length * REPEATS),
    model_bytes: model.length,
    instantiate_ms: instantiateMs,
    load_first_ms: firstLoadMs,
    load_median_ms: quantile(loads, 0.5),
    decide_median_us: quantile(perMessage, 0.5),
    decide_p99_us: quantile(perMessage, 0.99),
    decide_mean_us: mean,
    classify_median_us: quantile(classify, 0.5),
    redact_median_us: quantile(redact, 0.5),
  };
}

async function report(body) {
  document.getElementById('status').textContent = 'done';
  await fetch('/result', { method: 'POST', body: JSON.stringify(body) });
}

run().then(report, (e) => report({ error: String(e) }));
