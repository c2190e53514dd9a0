//! Known-failures lists: parsing, comparing and recording, with the cases
//! a CI run meets (new, changed, stale, ambiguous).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
use super::*;
use crate::runner::CaseResult;

const DEFAULT: &str = "x25519-sha256-aes256gcm";

fn case(suite: &str, file: &str, tc_id: u32, status: Status) -> CaseResult {
    CaseResult {
        file: format!("vectors/{suite}/{file}"),
        suite: suite.into(),
        tc_id,
        comment: String::new(),
        flags: Vec::new(),
        result: crate::vectors::Verdict::Valid,
        alternative_steps: Vec::new(),
        status,
        needs: Vec::new(),
        step_count: 0,
    }
}

fn refused(step: Option<usize>, class: &str) -> Status {
    Status::Failed {
        step,
        expected: "x".into(),
        actual: format!("error {class}: no"),
    }
}

fn accepted(step: Option<usize>) -> Status {
    Status::Failed {
        step,
        expected: "x".into(),
        actual: "accepted, plaintext 00".into(),
    }
}

fn report(cases: Vec<CaseResult>) -> Report {
    Report {
        implementation: "test 1".into(),
        cases,
    }
}

#[test]
fn entries_say_suite_file_tcid_and_how() {
    let k = KnownFailures::parse(
        "# F1\nsignal-v3/x3dh.json 25 failed accepted  # trailing\n\
         x25519-sha256-aes256gcm/session_scenarios.json 178 failed step=12 class=authentication\n\
         signal-v3/primitives.json 3 errored\n",
    )
    .unwrap();
    assert_eq!(k.entries.len(), 3);
    let key = Key {
        suite: DEFAULT.into(),
        file: "session_scenarios.json".into(),
        tc_id: 178,
    };
    assert_eq!(
        k.entries[&key],
        Failure::Failed {
            step: Some(12),
            did: Did::Refused("authentication".into())
        }
    );
    assert_eq!(
        k.entries[&key].to_string(),
        "failed step=12 class=authentication"
    );
}

#[test]
fn bare_file_names_and_entries_without_the_how_are_refused_with_the_fix() {
    let e = KnownFailures::parse("# x\nx3dh.json 25 failed accepted\n").unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.message.contains("SUITE/x3dh.json"), "{}", e.message);
    let e = KnownFailures::parse("signal-v3/x3dh.json 25 failed\n").unwrap_err();
    assert!(
        e.message.contains("--write-known-failures"),
        "{}",
        e.message
    );
    for bad in [
        "signal-v3/x3dh.json x failed accepted",
        "signal-v3/x3dh.json 1 failed step=a accepted",
        "signal-v3/x3dh.json 1 failed class=",
        "signal-v3/x3dh.json 1 passed",
        "a/b/x3dh.json 1 errored",
        "signal-v3/x3dh.json 1 errored\nsignal-v3/x3dh.json 1 errored",
    ] {
        assert!(KnownFailures::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_list_of_one_suite_does_not_absorb_the_same_tcids_of_another() {
    let known = KnownFailures::parse(&format!("{DEFAULT}/x3dh.json 25 failed accepted\n")).unwrap();
    let r = report(vec![
        case(DEFAULT, "x3dh.json", 25, accepted(None)),
        case("signal-v3", "x3dh.json", 25, accepted(None)),
    ]);
    let c = compare(&r, &known);
    assert_eq!(c.matched, 1);
    assert_eq!(c.new.len(), 1);
    assert_eq!(c.new[0].0.suite, "signal-v3");
    assert!(!c.is_clean());
}

#[test]
fn a_listed_case_failing_otherwise_is_changed() {
    let known = KnownFailures::parse(&format!(
        "{DEFAULT}/s.json 1 failed step=3 class=authentication\n{DEFAULT}/s.json 2 failed accepted\n{DEFAULT}/s.json 3 errored\n"
    ))
    .unwrap();
    // Same as listed: clean.
    let same = report(vec![
        case(DEFAULT, "s.json", 1, refused(Some(3), "authentication")),
        case(DEFAULT, "s.json", 2, accepted(None)),
        case(
            DEFAULT,
            "s.json",
            3,
            Status::Errored {
                message: "x".into(),
                stderr: None,
            },
        ),
    ]);
    assert!(compare(&same, &known).is_clean());
    // Another step, another class, accepted instead of refused, failed instead of errored.
    for (tc, status) in [
        (1, refused(Some(4), "authentication")),
        (1, refused(Some(3), "malformed")),
        (1, accepted(Some(3))),
        (2, refused(None, "state")),
        (3, accepted(None)),
    ] {
        let mut cases = same.cases.clone();
        cases[tc as usize - 1].status = status;
        let c = compare(&report(cases), &known);
        assert_eq!(c.changed.len(), 1, "tc {tc}");
        assert!(!c.is_clean());
        assert!(c.lines(3)[0].starts_with("CHANGED:"));
    }
}

#[test]
fn listed_cases_that_pass_are_skipped_or_absent_are_stale() {
    let known = KnownFailures::parse(&format!(
        "{DEFAULT}/s.json 1 errored\n{DEFAULT}/s.json 2 errored\n{DEFAULT}/s.json 3 errored\n"
    ))
    .unwrap();
    let skipped = Status::Skipped {
        reason: String::new(),
        missing: Vec::new(),
    };
    let r = report(vec![
        case(DEFAULT, "s.json", 1, Status::Passed),
        case(DEFAULT, "s.json", 2, skipped),
    ]);
    let c = compare(&r, &known);
    let why: Vec<_> = c.stale.iter().map(|s| s.2).collect();
    assert_eq!(
        why,
        [
            StaleBecause::Passed,
            StaleBecause::Skipped,
            StaleBecause::NotRun
        ]
    );
}

#[test]
fn two_copies_of_a_file_in_one_run_are_ambiguous() {
    let mut a = case(DEFAULT, "s.json", 1, Status::Passed);
    let mut b = a.clone();
    a.file = "one/s.json".into();
    b.file = "two/s.json".into();
    let c = compare(&report(vec![a, b]), &KnownFailures::default());
    assert_eq!(c.ambiguous.len(), 1);
    assert!(!c.is_clean());
}

#[test]
fn recording_keeps_comments_of_remaining_entries_and_drops_fixed_paragraphs() {
    let previous = "# header\n# about the list\n\n\
                    # F1: kept\nx3dh.json 25 failed  # why\nx3dh.json 26 failed\n\n\
                    # F2: fixed since\nx3dh.json 40 failed\n";
    let r = report(vec![
        case("signal-v3", "x3dh.json", 25, accepted(None)),
        case("signal-v3", "x3dh.json", 26, Status::Passed),
        case("signal-v3", "x3dh.json", 40, Status::Passed),
        case("signal-v3", "s.json", 7, refused(Some(2), "duplicate")),
    ]);
    let rec = record(&r, Some(previous), "unused").unwrap();
    assert_eq!(
        rec.text,
        "# header\n# about the list\n\n\
         # F1: kept\nsignal-v3/x3dh.json 25 failed accepted  # why\n\n\
         # Not in the previous list: explain each (finding id, cause) or fix it.\n\
         signal-v3/s.json 7 failed step=2 class=duplicate\n"
    );
    assert_eq!((rec.entries, rec.added, rec.removed), (2, 1, 2));
    // The written list reads back and matches the run exactly.
    let known = KnownFailures::parse(&rec.text).unwrap();
    assert!(compare(&r, &known).is_clean());
    // Re-recording from it changes nothing.
    assert_eq!(
        record(&r, Some(&rec.text), "unused").unwrap().text,
        rec.text
    );
}

#[test]
fn recording_from_scratch_writes_the_header() {
    let r = report(vec![case(
        DEFAULT,
        "s.json",
        1,
        Status::Errored {
            message: "x".into(),
            stderr: None,
        },
    )]);
    let rec = record(&r, None, "line one\nline two").unwrap();
    assert_eq!(
        rec.text,
        format!("# line one\n# line two\n\n{DEFAULT}/s.json 1 errored\n")
    );
}

#[test]
fn reasons_are_the_comment_block_above_each_entry_and_its_trailing_comment() {
    let text = "# Header of the list: not a reason.\n\
                \n\
                # F1: the signature is never verified.\n\
                # session_builder.js, line 12.\n\
                signal-v3/x3dh.json 25 failed accepted\n\
                signal-v3/x3dh.json 26 failed accepted  # also <b>here</b>\n\
                # F2: a second block in the same paragraph.\n\
                signal-v3/x3dh.json 27 failed class=state\n\
                \n\
                signal-v3/x3dh.json 28 errored\n";
    let k = KnownFailures::parse(text).unwrap();
    let reason = |tc_id| {
        k.reasons
            .get(&Key {
                suite: "signal-v3".into(),
                file: "x3dh.json".into(),
                tc_id,
            })
            .cloned()
    };
    let f1 = "F1: the signature is never verified.\nsession_builder.js, line 12.";
    assert_eq!(reason(25).as_deref(), Some(f1));
    assert_eq!(
        reason(26),
        Some(format!("{f1}\nalso <b>here</b>")),
        "the block goes on over consecutive entries"
    );
    assert_eq!(
        reason(27).as_deref(),
        Some("F2: a second block in the same paragraph.")
    );
    assert_eq!(
        reason(28),
        None,
        "a paragraph without comments has no reason"
    );
    assert_eq!(k.entries.len(), 4);
}
