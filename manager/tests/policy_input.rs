// SPDX-License-Identifier: GPL-2.0
//! Policy files a user gets wrong, as `sysfence policy check` and `policy
//! apply --dry-run` read them: the format comes from the top-level keys
//! even when the text does not parse, the error is that format's with its
//! line and column, and oversized or deeply nested input is refused
//! quickly with a short message.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/docker-default.json"
);

/// Writes `text` to a file of its own; returns its path.
fn file(name: &str, text: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("sysfence-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

fn sysfence(args: &[&str]) -> (Output, Duration) {
    let start = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .args(args)
        .output()
        .unwrap();
    (o, start.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The one error line of `policy check FILE` and of `policy apply
/// --dry-run FILE`, which must agree.
fn error_of(f: &str) -> String {
    let (check, _) = sysfence(&["policy", "check", "--caps", "", f]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let (apply, _) = sysfence(&["policy", "apply", "--dry-run", "--caps", "", f]);
    assert_eq!(apply.status.code(), Some(1), "{}", stderr(&apply));
    let line = stderr(&apply);
    assert!(
        stderr(&check).starts_with(&line),
        "check and apply differ:\n{}\n{line}",
        stderr(&check)
    );
    line
}

#[test]
fn a_docker_profile_with_a_trailing_comma_is_a_profile_with_a_json_error() {
    let text = std::fs::read_to_string(DOCKER).unwrap();
    let end = text.trim_end().rfind('}').unwrap();
    let broken = format!("{},\n}}\n", text[..end].trim_end());
    let lines = broken.lines().count();
    let f = file("trailing.json", broken.as_bytes());
    assert_eq!(
        error_of(&f),
        format!("sysfence: {f}: seccomp profile: not valid JSON: trailing comma at line {lines} column 1\n")
    );
}

#[test]
fn a_docker_profile_written_as_yaml_is_told_it_is_yaml() {
    let f = file(
        "profile.yaml",
        b"defaultAction: SCMP_ACT_ERRNO\nsyscalls:\n  - names: [read, write]\n    action: SCMP_ACT_ALLOW\n",
    );
    let e = error_of(&f);
    assert_eq!(
        e,
        format!("sysfence: {f}: seccomp profile: not JSON (this one is YAML; profiles are JSON, as Docker and runc read them): expected value at line 1 column 1\n")
    );
    assert!(!e.contains("unknown field"), "{e}");
}

#[test]
fn a_native_policy_with_a_syntax_error_is_reported_as_one_with_line_and_column() {
    let f = file(
        "native.yaml",
        b"default: allow\nrules:\n  - {syscalls: [read], action: errno\n",
    );
    let e = error_of(&f);
    assert!(
        e.starts_with(&format!("sysfence: {f}: not a YAML or JSON document: ")),
        "{e}"
    );
    assert!(e.contains("at line 4 column 1"), "{e}");
    // A resource with a syntax error is a resource.
    let f = file(
        "resource.yaml",
        b"apiVersion: sysfence.dev/v1alpha1\nkind: SyscallPolicy\nmetadata: {name: web\nspec: {default: allow}\n",
    );
    let e = error_of(&f);
    assert!(e.contains("line 4 column"), "{e}");
}

#[test]
fn a_huge_file_is_refused_by_its_size_without_echoing_it() {
    let mut big = b"default: ".to_vec();
    big.resize(50 << 20, b'A');
    big.push(b'\n');
    let f = file("huge.yaml", &big);
    let (o, took) = sysfence(&["policy", "check", &f]);
    eprintln!("50 MB file refused in {took:?}");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("sysfence: {f}: larger than 4 MiB, the most a policy file may be: not a policy file\nsysfence: 1 of 1 file(s) failed\n")
    );
    let _ = std::fs::remove_file(&f);
}

#[test]
fn a_long_value_is_cut_in_the_error() {
    let mut text = b"default: ".to_vec();
    text.resize(1 << 20, b'A');
    text.push(b'\n');
    let f = file("long.yaml", &text);
    let e = error_of(&f);
    assert!(e.len() < 400, "{} bytes: {e}", e.len());
    assert!(
        e.contains(&format!("unknown variant `{}...`", "A".repeat(80))),
        "{e}"
    );
}

#[test]
fn deeply_nested_yaml_is_refused_in_well_under_a_second() {
    let n = 100_000;
    let text = format!(
        "default: allow\nrules: {}{}\n",
        "[".repeat(n),
        "]".repeat(n)
    );
    let f = file("nested.yaml", text.as_bytes());
    for args in [
        vec!["policy", "check", &f],
        vec!["policy", "apply", "--dry-run", &f],
        vec!["policy", "show", &f],
    ] {
        let (o, took) = sysfence(&args);
        // The old parser took 46 s of CPU on this (release build).
        eprintln!("{args:?}: refused in {took:?}");
        assert!(took < Duration::from_secs(5), "{args:?} took {took:?}");
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).starts_with(&format!(
                "sysfence: {f}: nested more than 64 levels deep at line 2 column 72"
            )),
            "{}",
            stderr(&o)
        );
    }
}
