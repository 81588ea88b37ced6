//! The `baton` binary end to end on the test fixtures.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../triage/tests/fixtures")
        .join(name)
}

/// A fresh folder for one test's files, under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("baton-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `baton args` with its three streams piped.
fn spawn_baton(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn baton(args: &[&str], stdin: &str) -> (bool, String, String) {
    baton_bytes(args, stdin.as_bytes())
}

/// Runs `baton args` with `stdin` as raw bytes (which need not be UTF-8).
fn baton_bytes(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    let mut child = spawn_baton(args);
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn train(out: &Path) {
    train_with(out, &[]);
}

/// `baton train` as the knowledge-base docs give it, with no tuning; what it wrote to
/// stderr (it must succeed).
fn train_as_documented(examples: &Path, kb: &Path, out: &Path) -> String {
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let (ok, _, err) = baton(
        &[
            "train",
            "--examples",
            &path(examples),
            "--kb",
            &path(kb),
            "--out",
            &path(out),
        ],
        "",
    );
    assert!(ok, "{err}");
    err
}

/// `baton classify --model model` on one message per line: one JSON object each.
fn classify(model: &Path, messages: &[&str]) -> Vec<serde_json::Value> {
    let (ok, out, err) = baton(
        &["classify", "--model", model.to_str().unwrap()],
        &(messages.join("\n") + "\n"),
    );
    assert!(ok, "{err}");
    out.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn train_with(out: &Path, extra: &[&str]) {
    let (ok, err) = try_train(out, extra);
    assert!(ok, "{err}");
}

/// Trains on the fixtures; whether it worked, and what it wrote to stderr.
fn try_train(out: &Path, extra: &[&str]) -> (bool, String) {
    try_train_on(&[&fixture("examples.csv")], out, extra)
}

/// Trains on `examples` with the fixture knowledge base.
fn try_train_on(examples: &[&Path], out: &Path, extra: &[&str]) -> (bool, String) {
    let kb = fixture("kb.toml");
    let mut args = vec!["train", "--examples"];
    args.extend(examples.iter().map(|e| e.to_str().unwrap()));
    args.extend([
        "--kb",
        kb.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--buckets-log2",
        "14",
        "--max-rows",
        "0",
    ]);
    args.extend(extra);
    let (ok, _, err) = baton(&args, "");
    (ok, err)
}

/// Three-dimensional vectors: one axis per fixture intent, for words of its examples
/// and for one nonsense word no example uses (so its letters give nothing away).
const VECTORS: &str = "\
when 1 0 0\narrive 1 0 0\narrived 1 0 0\nwaiting 1 0 0\ndelivery 1 0 0\ndelivered 1 0 0
way 1 0 0\ncome 1 0 0\ntrack 1 0 0\nstatus 1 0 0\nzugzwang 1 0 0
lost 0 1 0\nstolen 0 1 0\nstole 0 1 0\nwallet 0 1 0\nmisplaced 0 1 0\nmissing 0 1 0\npurse 0 1 0
xyzzy 0 1 0
exchange 0 0 1\nrate 0 0 1\nrates 0 0 1\ncurrency 0 0 1\nconversion 0 0 1\neuros 0 0 1\nqwyjibo 0 0 1
Dollars 0 0 1
";

#[test]
fn word_vectors_let_the_model_understand_words_no_example_used() {
    let dir = scratch("vectors");
    let vectors = dir.join("v.vec");
    std::fs::write(&vectors, VECTORS).unwrap();
    let (a, b) = (dir.join("a.bin"), dir.join("b.bin"));
    // Nothing out of scope: this is about which intent the vectors make likeliest.
    let args = [
        "--word-vectors",
        vectors.to_str().unwrap(),
        "--vector-weight",
        "4",
        "--oos-threshold",
        "0",
    ];
    train_with(&a, &args);
    train_with(&b, &args);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // Without vectors the fixture model answers lost_or_stolen_card for every "my ..." and
    // exchange_rate for every "the ...".
    let messages = [
        "my zugzwang",
        "my xyzzy",
        "my qwyjibo",
        "the zugzwang",
        "the xyzzy",
        "the qwyjibo",
    ];
    let intents: Vec<serde_json::Value> = classify(&a, &messages)
        .iter()
        .map(|result| result["intent"].clone())
        .collect();
    let expected = ["card_arrival", "lost_or_stolen_card", "exchange_rate"];
    assert_eq!(
        intents,
        expected
            .iter()
            .chain(&expected)
            .map(|&i| serde_json::Value::from(i))
            .collect::<Vec<_>>()
    );

    // A broken file: the error names the file and line, never the word.
    std::fs::write(&vectors, "when 1 0 0\nsecretword 1 0\n").unwrap();
    let (ok, err) = try_train(&dir.join("c.bin"), &args);
    assert!(!ok);
    assert!(err.contains("v.vec: line 2: 2 values, expected 3"), "{err}");
    assert!(!err.contains("secretword"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn train_is_deterministic_and_classify_prints_json_lines() {
    let dir = scratch("test");
    let (a, b) = (dir.join("a.bin"), dir.join("b.bin"));
    train(&a);
    train(&b);
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let (ok, out, err) = baton(
        &["classify", "--model", a.to_str().unwrap()],
        "my card hasn't arrived\nagent pls, my card is 4111 1111 1111 1111\n",
    );
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["intent"], "card_arrival");
    assert_eq!(lines[0]["escalate"], false);
    assert!(lines[0]["confidence"].as_f64().unwrap() > 0.0);
    assert_eq!(lines[1]["escalate"], true);
    assert!(lines[1]["reasons"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("explicit_request")));
    assert_eq!(
        lines[1]["redacted"],
        "agent pls, my card is [card •••• 1111]"
    );

    let eval = |data: &Path| {
        let args = ["eval", "--model", a.to_str().unwrap(), "--data"];
        baton(&[&args[..], &[data.to_str().unwrap()]].concat(), "")
    };
    let (ok, out, err) = eval(&fixture("examples.csv"));
    assert!(ok, "{err}");
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["n"], 36);
    assert!(last["accuracy"].as_f64().unwrap() > 0.9);
    assert!(last["macro_f1"].is_number());

    // A mislabelled example: eval names the intent and what it was taken for, never
    // the message.
    let mislabelled = dir.join("mislabelled.csv");
    std::fs::write(
        &mislabelled,
        "text,category\nwhat exchange rate do you use for my secret trip,card_arrival\n",
    )
    .unwrap();
    let (ok, out, err) = eval(&mislabelled);
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("card_arrival") && l.contains("0/1")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("card_arrival") && l.contains("-> exchange_rate")),
        "{out}"
    );
    assert!(!out.contains("secret"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs `baton args` with `stdin` written by a thread (the command may stop reading it),
/// reads `lines` lines of its output (0 or 1) and closes the pipe, as `| head` does; then
/// whether it succeeded, what it read, and what the command wrote to stderr.
fn baton_read_by_head(args: &[&str], stdin: String, lines: usize) -> (bool, String, String) {
    use std::io::{BufRead, BufReader};
    let mut child = spawn_baton(args);
    let mut input = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The command may be gone before it has read everything: that is fine.
        let _ = input.write_all(stdin.as_bytes());
    });
    let mut first = String::new();
    let output = child.stdout.take().unwrap();
    if lines > 0 {
        BufReader::new(output).read_line(&mut first).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status.success(),
        first,
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn output_read_by_a_program_that_stops_early_ends_the_command_quietly() {
    // `baton classify < messages.txt | head -1` and `baton eval … | head -1`: once the reader has
    // gone, the command stops, successfully and without a panic message.
    let model = scratch("pipe").join("model.bin");
    train(&model);
    let model = model.to_str().unwrap();
    let messages = "where is my card\n".repeat(20_000);
    // 2 MB of answers: far more than a pipe holds, so classify writes after `head` has gone.
    let (ok, first, err) = baton_read_by_head(&["classify", "--model", model], messages, 1);
    assert!(first.starts_with("{\""), "{first}");
    assert!(ok && err.is_empty(), "{err}");

    let examples = fixture("examples.csv");
    let eval = [
        "eval",
        "--model",
        model,
        "--data",
        examples.to_str().unwrap(),
    ];
    // Closed before eval has written its first line (it loads and scores first).
    let (ok, _, err) = baton_read_by_head(&eval, String::new(), 0);
    assert!(ok && err.is_empty(), "{err}");
}

#[test]
fn a_sites_own_examples_train_beside_a_public_corpus() {
    // The fixture cut in two between intents, as a public corpus and a site's own
    // examples: read as one set, they give the model the whole file gives, byte for byte.
    let dir = scratch("files");
    let examples = std::fs::read_to_string(fixture("examples.csv")).unwrap();
    let (header, rows) = examples.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    let category = |row: &str| row.rsplit(',').next().unwrap().to_owned();
    let cut = (1..rows.len())
        .find(|&i| i >= rows.len() / 2 && category(rows[i]) != category(rows[i - 1]))
        .unwrap();
    let (corpus, own) = rows.split_at(cut);
    let (corpus_file, own_file) = (dir.join("corpus.csv"), dir.join("own.csv"));
    std::fs::write(&corpus_file, format!("{header}\n{}\n", corpus.join("\n"))).unwrap();
    std::fs::write(&own_file, format!("{header}\n{}\n", own.join("\n"))).unwrap();
    let (whole, parts) = (dir.join("whole.bin"), dir.join("parts.bin"));
    let split = ["--holdout-fraction", "0.2", "--seed", "3"];
    train_with(&whole, &split);
    let two_files = |out: &Path| try_train_on(&[&corpus_file, &own_file], out, &split);
    let (ok, err) = two_files(&parts);
    assert!(ok, "{err}");
    assert!(std::fs::read(&parts).unwrap() == std::fs::read(&whole).unwrap());

    // A category the knowledge base lacks is reported in the file and line it is on.
    std::fs::write(
        &own_file,
        format!(
            "{header}\n{}\nwhere is my sofa,order_status\n",
            own.join("\n")
        ),
    )
    .unwrap();
    let (ok, err) = two_files(&dir.join("bad.bin"));
    assert!(!ok);
    let line = own.len() + 2;
    assert!(
        err.contains(&format!(
            "`order_status` ({} line {line})",
            own_file.display()
        )),
        "{err}"
    );
    assert!(!err.contains("sofa"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_name_the_file_and_never_echo_messages() {
    let (ok, _, err) = baton(
        &["classify", "--model", fixture("kb.toml").to_str().unwrap()],
        "",
    );
    assert!(!ok);
    assert!(
        err.contains("kb.toml") && err.contains("not a Baton triage model"),
        "{err}"
    );
}

#[test]
fn split_writes_the_rows_that_eval_holds_out() {
    let dir = scratch("split");
    let (train_json, held_json) = (dir.join("train.json"), dir.join("held.json"));
    let (ok, _, err) = baton(
        &[
            "split",
            "--data",
            fixture("examples.csv").to_str().unwrap(),
            "--holdout-fraction",
            "0.25",
            "--seed",
            "7",
            "--train-out",
            train_json.to_str().unwrap(),
            "--heldout-out",
            held_json.to_str().unwrap(),
        ],
        "",
    );
    assert!(ok, "{err}");
    let read = |p: &Path| -> Vec<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (rows, held) = (read(&train_json), read(&held_json));
    let examples = std::fs::read_to_string(fixture("examples.csv")).unwrap();
    assert_eq!(rows.len() + held.len(), examples.lines().count() - 1);
    assert!(!held.is_empty() && held.iter().all(|h| !rows.contains(h)));
    assert!(held
        .iter()
        .all(|h| h["text"].is_string() && h["label"].is_string()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn eval_refuses_categories_the_model_lacks_and_files_with_no_rows() {
    // The shipped demo model (the default) and files a site owner might pass it.
    let dir = scratch("eval-check");
    let eval = |name: &str, contents: &str| {
        let data = dir.join(name);
        std::fs::write(&data, contents).unwrap();
        let (ok, out, err) = baton(&["eval", "--data", data.to_str().unwrap()], "");
        assert!(!ok, "{out}");
        (data.display().to_string(), err)
    };
    let (file, err) = eval(
        "unknown.csv",
        "text,category\nmy card hasn't arrived,card_arrival\nsecret hours question,opening_hours\n",
    );
    assert!(
        err.contains(&format!(
            "{file}: line 3: category `opening_hours` is not an intent of the model (it knows `"
        )),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
    // No --model: the demo model's intents, and the error says whose they are.
    assert!(
        err.contains("that is the demo model: pass --model"),
        "{err}"
    );
    let (_, err) = eval("oos.csv", "text,category\ntell me a joke,out_of_scope\n");
    assert!(
        err.contains("line 2") && err.contains("baton eval-oos"),
        "{err}"
    );
    let (file, err) = eval("empty.csv", "text,category\n");
    assert!(
        err.contains(&format!("{file}: no examples to score")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_that_are_not_utf8_name_the_file_and_line() {
    let dir = scratch("latin1");
    let examples = std::fs::read(fixture("examples.csv")).unwrap();
    let csv = dir.join("latin1.csv");
    std::fs::write(
        &csv,
        [&examples[..], b"caf\xe9 card,card_arrival\n"].concat(),
    )
    .unwrap();
    let line = examples.iter().filter(|&&b| b == b'\n').count() + 1;
    let (ok, err) = try_train_on(&[&csv], &dir.join("m.bin"), &[]);
    assert!(!ok);
    assert!(
        err.contains(&format!(
            "latin1.csv: line {line}: not valid UTF-8 text; the file must be saved as UTF-8 (in Excel"
        )),
        "{err}"
    );
    let kb = dir.join("kb.toml");
    let fixture_kb = std::fs::read(fixture("kb.toml")).unwrap();
    std::fs::write(&kb, [b"# caf\xe9\n", &fixture_kb[..]].concat()).unwrap();
    let (ok, _, err) = baton(
        &[
            "train",
            "--examples",
            fixture("examples.csv").to_str().unwrap(),
            "--kb",
            kb.to_str().unwrap(),
            "--out",
            dir.join("m.bin").to_str().unwrap(),
        ],
        "",
    );
    assert!(!ok);
    assert!(
        err.contains("kb.toml: line 1: not valid UTF-8 text; the file must be saved as UTF-8"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn classify_answers_every_line_even_blank_long_or_not_utf8_ones() {
    let long = "é".repeat(3_000);
    let input = [
        b"my card hasn't arrived\n".as_slice(),
        b"caf\xe9 \xff\n",
        b"   \n",
        long.as_bytes(),
        b"\nwhere is my card\r\n",
    ]
    .concat();
    let (ok, out, err) = baton_bytes(&["classify"], &input);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0]["intent"].is_string(), "{out}");
    assert_eq!(
        lines[1],
        serde_json::json!({"line": 2, "error": "not valid UTF-8"})
    );
    assert_eq!(lines[2]["intent"], serde_json::Value::Null);
    assert_eq!(lines[2]["confidence"], 0.0);
    assert_eq!(lines[2]["escalate"], false);
    // Only the first 4,000 bytes, cut between characters.
    assert_eq!(lines[3]["redacted"], "é".repeat(2_000));
    assert_eq!(lines[4]["redacted"], "where is my card");
    assert!(
        err.contains("stdin line 2: not valid UTF-8")
            && err.contains("stdin line 4 is 6000 bytes long; only its first 4000 bytes"),
        "{err}"
    );
}

#[test]
fn chat_names_unknown_commands_and_skips_lines_that_are_not_utf8() {
    let (ok, out, err) = baton_bytes(&["chat"], b"/foo\n\xff\xfe\n/quit\n");
    assert!(ok, "{err}");
    let replies: Vec<&str> = out
        .split("> ")
        .flat_map(str::lines)
        .filter(|l| l.starts_with("bot:"))
        .collect();
    assert_eq!(
        replies,
        ["bot: Unknown command. Commands: /yes, /no, /handoff, /quit."],
        "{out}"
    );
    assert!(err.contains("not valid UTF-8"), "{err}");
}

#[test]
fn train_reads_excel_csv_and_warns_about_a_message_under_two_categories() {
    let dir = scratch("conflict");
    let examples = std::fs::read_to_string(fixture("examples.csv")).unwrap();
    assert!(examples
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("When will my card arrive?,"));
    let line = examples.lines().count() + 1;
    let csv = dir.join("excel.csv");
    // A byte-order mark and CRLF line ends, as Excel's "CSV UTF-8" writes them.
    let contents = format!("\u{feff}{examples} when will MY card arrive? ,exchange_rate\n");
    std::fs::write(&csv, contents.replace('\n', "\r\n")).unwrap();
    let (ok, err) = try_train_on(&[&csv], &dir.join("m.bin"), &[]);
    assert!(ok, "{err}");
    assert!(
        err.contains(&format!(
            "warning: {}: line 2 (`card_arrival`) and line {line} (`exchange_rate`) are the same message under two categories",
            csv.display()
        )),
        "{err}"
    );
    assert!(!err.to_lowercase().contains("when will"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A site owner's own model, trained from a handful of intents as the docs describe
/// (`bike-shop`: a bicycle shop's eight questions, twenty examples each, and nothing out
/// of scope to learn from), answers its own questions and says honestly when a question
/// is not its business instead of guessing.
#[test]
fn a_small_model_of_its_own_answers_its_questions_and_not_others() {
    let dir = scratch("bike-shop");
    let model = dir.join("model.bin");
    train_as_documented(
        &fixture("bike-shop/examples.csv"),
        &fixture("bike-shop/kb.toml"),
        &model,
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
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A site owner trying the demo in French hears what a customer would: the bot answers
/// only in English by itself.
#[test]
fn chat_says_which_language_it_answers_in() {
    let (ok, out, err) = baton_bytes(
        &["chat"],
        "ma carte n'est pas arrivée, pourquoi ?\n/quit\n".as_bytes(),
    );
    assert!(ok, "{err}");
    assert!(
        out.contains("bot: I can only answer questions in English by myself."),
        "{out}"
    );
}

/// A model of three intents, one of them sensitive, has no out-of-scope class: an
/// off-topic question spreads over its intents, a third to the sensitive one by chance.
/// That is out of scope, not a sensitive topic; a stolen card still is one. (The
/// knowledge base and examples of knowledge-base.html, trained as it says.)
#[test]
fn a_small_model_tells_an_off_topic_question_from_a_sensitive_one() {
    let dir = scratch("sensitive-bar");
    let (kb, examples, model) = (
        dir.join("my-kb.toml"),
        dir.join("my-examples.csv"),
        dir.join("my-model.bin"),
    );
    std::fs::write(
        &kb,
        r#"[site]
id = "my-shop"
name = "Larkspur"
language = "en"

[[intent]]
id = "card_arrival"
title = "When will my card arrive?"
answer = "Cards are posted within 2 working days of your order."

[[intent]]
id = "request_refund"
title = "How do I get a refund?"
answer = "Return unused items within 14 days of delivery."

[[intent]]
id = "lost_or_stolen_card"
title = "I lost my card or it was stolen"
answer = "First, freeze your card in the app under Card, Freeze."
sensitive = true
"#,
    )
    .unwrap();
    std::fs::write(
        &examples,
        "text,category
\"when will my card arrive?\",card_arrival
\"my new card still hasn't come\",card_arrival
\"how long does the card take to be delivered\",card_arrival
\"I want my money back for the lamp\",request_refund
\"how do I return something\",request_refund
\"someone stole my wallet with my card in it\",lost_or_stolen_card
\"I can't find my card anywhere\",lost_or_stolen_card
",
    )
    .unwrap();
    let err = train_as_documented(&examples, &kb, &model);
    assert!(err.contains("fewer than 10 training examples"), "{err}");
    let results = classify(
        &model,
        &[
            "who won the football match",
            "what are your opening hours",
            "someone stole my wallet with my card",
        ],
    );
    let reasons: Vec<&serde_json::Value> = results.iter().map(|r| &r["reasons"]).collect();
    assert_eq!(
        reasons[0],
        &serde_json::json!(["out_of_scope"]),
        "{results:?}"
    );
    assert_eq!(
        reasons[1],
        &serde_json::json!(["out_of_scope"]),
        "{results:?}"
    );
    assert!(
        reasons[2]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "sensitive_intent"),
        "{results:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Mistakes a site owner can make with `train`'s files: none loses a file, and no error
/// shows a message (which may hold a customer's card number).
#[test]
fn train_keeps_its_inputs_and_the_messages_in_them_out_of_errors() {
    let dir = scratch("owner-mistakes");
    let kb = dir.join("kb.toml");
    std::fs::copy(fixture("kb.toml"), &kb).unwrap();
    let kb_text = std::fs::read(&kb).unwrap();
    let examples = fixture("examples.csv");
    let train_into = |out: &Path, examples: &Path, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--examples",
            examples.to_str().unwrap(),
            "--kb",
            kb.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let (ok, _, err) = baton(&args, "");
        (ok, err)
    };

    // The model written over the knowledge base: refused, the file untouched.
    let (ok, err) = train_into(&kb, &examples, &[]);
    assert!(!ok && err.contains("that is the knowledge base"), "{err}");
    assert_eq!(std::fs::read(&kb).unwrap(), kb_text);
    // A folder that does not exist: said before training, not after.
    let (ok, err) = train_into(&dir.join("models/shop.bin"), &examples, &[]);
    assert!(!ok && err.contains("does not exist"), "{err}");
    assert!(!err.contains("trained on"), "{err}");
    // The same file twice.
    let (ok, _, err) = baton(
        &[
            "train",
            "--examples",
            examples.to_str().unwrap(),
            examples.to_str().unwrap(),
            "--kb",
            kb.to_str().unwrap(),
            "--out",
            dir.join("m.bin").to_str().unwrap(),
        ],
        "",
    );
    assert!(!ok && err.contains("given twice"), "{err}");
    // An option out of range is refused when read.
    let (ok, err) = train_into(&dir.join("m.bin"), &examples, &["--oos-threshold", "1.5"]);
    assert!(!ok && err.contains("from 0 to 1"), "{err}");

    // Columns swapped on one row, and a file without a header: the message is not shown.
    let card = "4242 4242 4242 4242";
    let swapped = dir.join("swapped.csv");
    let mut rows = std::fs::read_to_string(&examples).unwrap();
    rows.push_str(&format!("card_arrival,my card {card} was stolen\n"));
    std::fs::write(&swapped, rows).unwrap();
    let (ok, err) = train_into(&dir.join("m.bin"), &swapped, &[]);
    assert!(!ok && err.contains("swapped.csv line"), "{err}");
    assert!(
        !err.contains(card) && err.contains("right way round"),
        "{err}"
    );
    let headless = dir.join("headless.csv");
    std::fs::write(
        &headless,
        format!("my card {card} was stolen,lost_or_stolen_card\n"),
    )
    .unwrap();
    let (ok, err) = train_into(&dir.join("m.bin"), &headless, &[]);
    assert!(!ok && err.contains("not a header"), "{err}");
    assert!(!err.contains(card), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chat_rates_only_the_answer_just_given() {
    let (ok, out, err) = baton(
        &["chat"],
        "/no\nwhen will my card arrive\n/yes\n/no\nwho won the football match\n/no\n/quit\n",
    );
    assert!(ok, "{err}");
    let notes: Vec<&str> = out
        .split("> ")
        .flat_map(str::lines)
        .filter(|l| l.starts_with('(') || l.starts_with("bot: Sorry about that"))
        .collect();
    assert_eq!(
        notes,
        [
            "(no answer to rate: /yes and /no rate the bot's last answer)",
            "(noted: the answer helped)",
            "(no answer to rate: /yes and /no rate the bot's last answer)",
            "(no answer to rate: /yes and /no rate the bot's last answer)",
        ],
        "{out}"
    );
}

/// Examples written in French for a knowledge base in English train a model that
/// refuses its own questions (it does not answer another language): `train` says so.
#[test]
fn train_warns_when_the_examples_are_in_another_language_than_the_answers() {
    let dir = scratch("french-examples");
    let examples = dir.join("exemples.csv");
    std::fs::write(
        &examples,
        "text,category
quand est-ce que je vais recevoir ma carte,card_arrival
ma nouvelle carte n'est toujours pas arrivée,card_arrival
je n'ai pas encore reçu ma carte bancaire,card_arrival
on m'a volé mon portefeuille avec ma carte,lost_or_stolen_card
je ne trouve plus ma carte nulle part,lost_or_stolen_card
j'ai perdu ma carte dans le métro,lost_or_stolen_card
quel est le taux de change pour les euros,exchange_rate
combien coûte la conversion en dollars,exchange_rate
est-ce que le taux de change est bon aujourd'hui,exchange_rate
",
    )
    .unwrap();
    let (ok, err) = try_train_on(&[&examples], &dir.join("model.bin"), &[]);
    assert!(ok, "{err}");
    assert!(err.contains("read as another language"), "{err}");
    let (ok, err) = try_train(&dir.join("english.bin"), &[]);
    assert!(ok && !err.contains("another language"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Four intents of 15 examples each leave 8 rows to calibrate on, 7 of them right: the
/// temperature fit went to 0.07 and the model was near-certain of everything, so 9 of
/// these 10 questions the shop does not answer got one of its answers (5 with the fit
/// leaning towards 1, as it does now). Its own questions are still answered.
#[test]
fn a_model_calibrated_on_a_few_rows_still_turns_away_what_it_does_not_know() {
    let dir = scratch("tea-shop");
    let model = dir.join("model.bin");
    train_as_documented(
        &fixture("tea-shop/examples.csv"),
        &fixture("tea-shop/kb.toml"),
        &model,
    );
    let intents_of = |messages: &[&str]| -> Vec<serde_json::Value> {
        classify(&model, messages)
            .iter()
            .map(|result| result["intent"].clone())
            .collect()
    };
    let own = [
        ("where's my stuff", "order_status"),
        ("has my package been dispatched", "order_status"),
        ("what do you charge for postage", "shipping_cost"),
        ("is there free delivery", "shipping_cost"),
        ("I want my money back", "returns"),
        ("how can I send this tea back", "returns"),
        ("what's the best way to make a cup of sencha", "brewing"),
        ("water temperature for white tea", "brewing"),
    ];
    let texts: Vec<&str> = own.iter().map(|(text, _)| *text).collect();
    for (intent, (text, expected)) in intents_of(&texts).iter().zip(own) {
        assert_eq!(intent, expected, "{text}");
    }
    let others = [
        "what is the capital of peru",
        "can I pay with paypal",
        "do you have a physical store in Berlin",
        "what are your opening hours",
        "can I change my password",
        "is your packaging plastic free",
        "do you sell coffee",
        "how do I use a discount code",
        "what's the weather like tomorrow",
        "who won the football match",
    ];
    let turned_away = intents_of(&others).iter().filter(|i| i.is_null()).count();
    assert!(turned_away >= 5, "only {turned_away} of 10 turned away");
    std::fs::remove_dir_all(&dir).unwrap();
}
