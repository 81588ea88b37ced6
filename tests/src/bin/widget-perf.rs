//! What the widget costs the host page, measured in headless Chromium with its own
//! performance APIs: when the launcher appears, the long tasks (> 50 ms on the main
//! thread) on the same page with and without the widget, and how long the chat takes
//! to become usable after a click. `cargo xtask bench widget` runs this against
//! `wrangler dev`.
//!
//! Usage: `widget-perf BASE_URL RUNS`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use baton_tests::browser::{Browser, BrowserKind};
use serde_json::Value;

/// Long tasks and, with the widget, its own marks, read after the page has settled.
struct PageRun {
    long_tasks: Vec<f64>,
    launcher_ms: Option<f64>,
    ready_ms: Option<f64>,
    open_ms: Option<f64>,
}

const READ_MARKS: &str = "
  const at = (name) => { const e = performance.getEntriesByName(name)[0]; return e ? e.startTime : null; };
  const start = at('baton:loader-start');
  return {
    longTasks: (window.__longTasks || []).map((t) => t.duration),
    launcher: start === null || at('baton:launcher') === null ? null : at('baton:launcher') - start,
    ready: start === null || at('baton:ready') === null ? null : at('baton:ready') - start,
  };";

async fn measure(browser: &Browser, url: &str, with_widget: bool) -> PageRun {
    browser.client.goto(url).await.unwrap();
    // Let the page settle: the loader fetches the chat when the browser is idle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut open_ms = None;
    if with_widget {
        let launcher = browser.find_in_widget("button.launcher").await;
        let clicked = Instant::now();
        launcher.click().await.unwrap();
        browser.find_in_widget(".suggestions .chip").await;
        open_ms = Some(clicked.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let marks = browser.client.execute(READ_MARKS, vec![]).await.unwrap();
    let numbers = |value: &Value| value.as_f64();
    PageRun {
        long_tasks: marks["longTasks"]
            .as_array()
            .map(|tasks| tasks.iter().filter_map(numbers).collect())
            .unwrap_or_default(),
        launcher_ms: numbers(&marks["launcher"]),
        ready_ms: numbers(&marks["ready"]),
        open_ms,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn max(values: impl Iterator<Item = f64>) -> f64 {
    values.fold(0.0, f64::max)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, runs] = &args[..] else {
        eprintln!("usage: widget-perf BASE_URL RUNS");
        std::process::exit(2);
    };
    let runs: usize = runs.parse().unwrap();
    let base = base.trim_end_matches('/');
    let mut with = Vec::new();
    let mut without = Vec::new();
    // Calibration: a page that blocks its main thread for 120 ms must show a long task.
    let browser = Browser::start(BrowserKind::Chromium).await;
    let calibration = measure(
        &browser,
        &format!("{base}/test/perf-without.html?busy=120"),
        false,
    )
    .await;
    browser.close().await;
    for _ in 0..runs {
        // A fresh browser each run: nothing cached, like a first visit.
        let browser = Browser::start(BrowserKind::Chromium).await;
        without.push(measure(&browser, &format!("{base}/test/perf-without.html"), false).await);
        browser.close().await;
        let browser = Browser::start(BrowserKind::Chromium).await;
        with.push(measure(&browser, &format!("{base}/test/perf-with.html"), true).await);
        browser.close().await;
    }
    let longest = |runs: &[PageRun]| max(runs.iter().flat_map(|r| r.long_tasks.iter().copied()));
    let count = |runs: &[PageRun]| runs.iter().map(|r| r.long_tasks.len()).sum::<usize>();
    println!("Chromium, headless, {runs} cold loads each (fresh profile per load):\n");
    println!(
        "Calibration: a page that blocks for 120 ms showed {} long task(s), longest {:.0} ms.\n",
        calibration.long_tasks.len(),
        max(calibration.long_tasks.iter().copied())
    );
    println!("| measure | without the widget | with the widget |");
    println!("|---|---:|---:|");
    println!(
        "| long tasks (> 50 ms), all runs | {} | {} |",
        count(&without),
        count(&with)
    );
    println!(
        "| longest task, ms | {:.0} | {:.0} |",
        longest(&without),
        longest(&with)
    );
    let median_of =
        |pick: fn(&PageRun) -> Option<f64>| median(with.iter().filter_map(pick).collect());
    println!(
        "| launcher drawn after the loader starts, median ms | | {:.1} |",
        median_of(|r| r.launcher_ms)
    );
    println!(
        "| chat loaded in the background (idle), median ms after loader start | | {:.0} |",
        median_of(|r| r.ready_ms)
    );
    println!(
        "| click to usable chat (model loaded), median ms | | {:.0} |",
        median_of(|r| r.open_ms)
    );
    println!(
        "{}",
        serde_json::json!({
            "runs": runs,
            "long_tasks_without": count(&without),
            "long_tasks_with": count(&with),
            "longest_without_ms": longest(&without),
            "longest_with_ms": longest(&with),
            "launcher_ms": median_of(|r| r.launcher_ms),
            "ready_ms": median_of(|r| r.ready_ms),
            "open_ms": median_of(|r| r.open_ms),
        })
    );
}
