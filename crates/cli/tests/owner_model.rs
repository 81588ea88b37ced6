//! A site owner's own model, trained from a handful of intents as the docs describe
//! (`tests/fixtures/bike-shop`: a bicycle shop's eight questions, twenty examples
//! each, and nothing out of scope to learn from), answers its own questions and says
//! honestly when a question is not its business instead of guessing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bike-shop")
        .join(name)
}

/// `baton classify --model MODEL`, one JSON object per message.
fn classify(model: &Path, messages: &[&str]) -> Vec<serde_json::Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["classify", "--model"])
        .arg(model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all((messages.join("\n") + "\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn a_small_model_of_its_own_answers_its_questions_and_not_others() {
    let model = std::env::temp_dir().join(format!("baton-bike-{}.bin", std::process::id()));
    let trained = Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["train", "--examples"])
        .arg(fixture("examples.csv"))
        .arg("--kb")
        .arg(fixture("kb.toml"))
        .arg("--out")
        .arg(&model)
        .output()
        .unwrap();
    assert!(
        trained.status.success(),
        "{}",
        String::from_utf8_lossy(&trained.stderr)
    );

    // Phrasings that are in no example.
    let own = [
        ("are you open on sunday afternoons?", "opening_hours"),
        (
            "my gears keep slipping, can you fix that this week",
            "book_repair",
        ),
        ("how long is the frame guaranteed for", "warranty"),
    ];
    let texts: Vec<&str> = own.iter().map(|(text, _)| *text).collect();
    for (result, (text, intent)) in classify(&model, &texts).iter().zip(own) {
        assert_eq!(result["intent"], intent, "{text}: {result}");
    }

    // Not the shop's business, or not in its language: a person is offered, no guess.
    let others = [
        "who won the tour de france",
        "asdfghjkl qwerty",
        "quelle est l'heure d'ouverture",
        "wo ist meine Bestellung",
        "do you sell gift cards",
    ];
    for (result, text) in classify(&model, &others).iter().zip(others) {
        assert!(result["intent"].is_null(), "{text}: {result}");
        let reasons = result["reasons"].as_array().unwrap();
        assert!(
            reasons.iter().any(|r| r == "out_of_scope"),
            "{text}: {result}"
        );
    }
    std::fs::remove_file(&model).ok();
}
