//! The guard against messages as citizens type them: every secret in the corpus is caught, no ordinary
//! number is flagged, and nothing of a secret reaches a reply, a record or the bytes of the database.

use shebao::store::{SledStore, Store};
use shebao::text::guard::guard;
use shebao::text::numerals::{digit, is_letter_o};

use crate::helpers::shipped;

/// One message of `tests/data/guard_secrets.tsv`: its category, the digits of each secret in it, the message.
struct SecretCase {
    category: String,
    secrets: Vec<String>,
    message: String,
}

fn secret_cases() -> Vec<SecretCase> {
    [
        include_str!("data/guard_secrets.tsv"),
        include_str!("data/redteam_secrets.tsv"),
    ]
    .concat()
    .lines()
    .filter(|l| !l.is_empty() && !l.starts_with('#'))
    .map(|l| {
        let mut cols = l.splitn(3, '\t');
        let (category, secrets, message) = (
            cols.next().unwrap(),
            cols.next().unwrap(),
            cols.next().unwrap(),
        );
        SecretCase {
            category: category.to_string(),
            secrets: secrets.split('|').map(str::to_string).collect(),
            message: message.to_string(),
        }
    })
    .collect()
}

fn ordinary_messages() -> Vec<&'static str> {
    [
        include_str!("data/guard_ordinary.txt"),
        include_str!("data/redteam_ordinary.txt"),
    ]
    .into_iter()
    .flat_map(str::lines)
    .filter(|l| !l.is_empty() && !l.starts_with('#'))
    .collect()
}

/// The digits a reader could take from `text`: every char any script reads as a digit (Chinese numerals
/// and the letter O included, wherever they stand) in ASCII, joined across anything that is not a letter;
/// a letter ends a number (`|`).
fn readable_digits(text: &str) -> String {
    text.chars()
        .filter_map(|c| match digit(c) {
            Some((d, _)) => Some(char::from(b'0' + d)),
            None if is_letter_o(c) => Some('0'),
            None if c.is_alphanumeric() => Some('|'),
            None => None,
        })
        .collect()
}

#[test]
fn every_secret_in_the_corpus_is_caught_deleted_and_masked() {
    let mut missed = Vec::new();
    let cases = secret_cases();
    for case in &cases {
        let g = guard(&case.message);
        let readable = readable_digits(&g.redacted);
        let survived: Vec<&String> = case
            .secrets
            .iter()
            .filter(|s| readable.contains(s.as_str()))
            .collect();
        if !g.must_delete() || !survived.is_empty() {
            missed.push(format!(
                "{}: {:?} -> {:?} (deleted: {}, survived: {survived:?})",
                case.category,
                case.message,
                g.redacted,
                g.must_delete()
            ));
        }
    }
    assert!(
        cases.len() >= 100,
        "the corpus has {} messages",
        cases.len()
    );
    assert!(
        missed.is_empty(),
        "{} of {} missed:\n{}",
        missed.len(),
        cases.len(),
        missed.join("\n")
    );
}

#[test]
fn no_ordinary_message_in_the_corpus_is_flagged() {
    let flagged: Vec<String> = ordinary_messages()
        .into_iter()
        .filter_map(|m| {
            let g = guard(m);
            (!g.is_clean()).then(|| format!("{m:?} -> {:?}", g.redacted))
        })
        .collect();
    assert!(flagged.is_empty(), "flagged:\n{}", flagged.join("\n"));
}

#[test]
fn no_secret_of_the_corpus_reaches_a_reply_a_record_or_the_database_files() {
    let kb = shipped();
    let db = tempfile::tempdir().unwrap();
    let cases = secret_cases();
    let mut output = Vec::new();
    {
        let store = SledStore::open(db.path()).unwrap();
        // Each message twice: alone, and as a question the bot cannot answer, so records are kept.
        let input: String = cases
            .iter()
            .map(|c| format!("{}\n{}，医保卡能报销多少\n", c.message, c.message))
            .collect();
        shebao::cli::chat::run(&kb, &store, input.as_bytes(), &mut output, || 1_764_600_000)
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let records = runtime.block_on(store.unanswered(0)).unwrap();
        assert!(!records.is_empty(), "questions were kept for review");
        for r in &records {
            for text in [r.text.as_str(), r.normalized.as_str()] {
                let readable = readable_digits(text);
                for case in &cases {
                    // Records are not tied to their message: shorter secrets of one message would be
                    // found by chance in another's ordinary numbers (24小时). They are checked per message
                    // in the test above.
                    for s in case.secrets.iter().filter(|s| s.len() >= 4) {
                        assert!(!readable.contains(s.as_str()), "record {text:?} holds {s}");
                    }
                }
            }
        }
        runtime.block_on(store.sync()).unwrap();
    }
    // The answers name service numbers (12333 holds 123): those are the bot's, not the citizen's.
    let mut replies = readable_digits(&String::from_utf8_lossy(&output));
    for service in shebao::text::redact::SERVICE_NUMBERS {
        replies = replies.replace(service, "|");
    }
    let mut bytes = String::new();
    for entry in crate::helpers::files_under(db.path()) {
        bytes.push_str(&readable_digits(&String::from_utf8_lossy(
            &std::fs::read(entry).unwrap(),
        )));
    }
    for case in &cases {
        for s in case.secrets.iter().filter(|s| s.len() >= 3) {
            assert!(
                !replies.contains(s.as_str()),
                "a reply holds {s} of {:?}",
                case.message
            );
        }
        // Shorter runs occur by chance in any binary file; four digits of a secret do not.
        for s in case.secrets.iter().filter(|s| s.len() >= 6) {
            assert!(
                !bytes.contains(s.as_str()),
                "the database holds {s} of {:?}",
                case.message
            );
        }
    }
}
