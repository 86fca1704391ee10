// SPDX-License-Identifier: GPL-2.0
//! Policy files as text, before any parser sees them: how much is read,
//! how deeply it may nest, which of the three formats it is, and how much
//! of a value an error message repeats.
//!
//! Every command that reads a policy file (`policy apply`, `check`, `show`,
//! `test`, `diff`, `convert`, `run`, `oci-hook`, `agent plan`) reads it
//! through [`read`] and decides its format with [`detect`], so a file is
//! the same format, and fails the same way, whichever command reads it.

use crate::policy::action::PolicyError;
use serde::Serialize;
use std::io::Read;

/// The largest policy file read, 4 MiB. A policy is at most 64 KiB on the
/// wire (one netlink attribute), and a Docker profile is about 20 KiB; the
/// cap leaves room for comments and for a List of many SyscallPolicies,
/// and keeps a wrong file (a log, an image) from being read whole and
/// echoed back in an error.
pub const MAX_BYTES: usize = 4 << 20;

/// How deeply `[...]` and `{...}` may nest. A policy nests at most about
/// six levels (`spec.selector.matchExpressions[].values[]`); the YAML
/// parser takes quadratic time on deep flow nesting (a 200 KB file of
/// brackets took 46 s of CPU to refuse), so deeper text is refused before
/// it is parsed.
pub const MAX_DEPTH: usize = 64;

/// How many characters of a value an error message repeats.
pub const MAX_ECHO: usize = 80;

/// Which of the three formats a policy file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A native policy (`default`, `rules`).
    Native,
    /// An OCI/Docker seccomp profile (`defaultAction`, `syscalls`).
    SeccompProfile,
    /// A SyscallPolicy resource (`apiVersion`, `kind`).
    SyscallPolicy,
}

impl Format {
    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native policy",
            Format::SeccompProfile => "seccomp profile",
            Format::SyscallPolicy => "SyscallPolicy resource",
        }
    }
}

/// A policy file that cannot be read as text; `name` is the file's name
/// (`standard input` for '-').
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening or reading it failed.
    #[error("{name}: {source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
    /// More than [`MAX_BYTES`].
    #[error("{name}: larger than {} MiB, the most a policy file may be: not a policy file", max >> 20)]
    TooLarge { name: String, max: usize },
    /// Not UTF-8; `at` is the offset of the first byte that is not.
    #[error("{name}: not UTF-8 text (byte {at}): not a policy file")]
    NotUtf8 { name: String, at: usize },
}

/// The text of the policy file `file` ('-': standard input), at most
/// [`MAX_BYTES`]; errors name the file.
pub fn read(file: &str) -> Result<String, ReadError> {
    if file == "-" {
        read_from("standard input", std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(file).map_err(|source| ReadError::Io {
            name: file.to_string(),
            source,
        })?;
        read_from(file, f)
    }
}

/// The text `from` gives, at most [`MAX_BYTES`]; errors name `name`.
pub fn read_from(name: &str, from: impl Read) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    from.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            name: name.to_string(),
            source,
        })?;
    if bytes.len() > MAX_BYTES {
        return Err(ReadError::TooLarge {
            name: name.to_string(),
            max: MAX_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        name: name.to_string(),
        at: e.utf8_error().valid_up_to(),
    })
}

/// Refuses text whose brackets nest deeper than [`MAX_DEPTH`].
///
/// Counted on the text, without parsing it: `[` and `{` where a YAML or
/// JSON value can begin (at the start of a line or after `[ { , : -`),
/// outside quoted strings and comments. Block nesting (indentation) is not
/// counted: the parser is fast on it, and its own recursion limit refuses
/// it.
pub fn check_depth(text: &str) -> Result<(), PolicyError> {
    let b = text.as_bytes();
    let (mut depth, mut line, mut line_start) = (0usize, 1usize, 0usize);
    // The last byte that is not a space or tab, and the one before it.
    let mut last = b'\n';
    let mut before_last = b'\n';
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let value_may_start = matches!(last, b'\n' | b'[' | b'{' | b',' | b':')
            || (last == b'-' && matches!(before_last, b'\n' | b' ' | b'\t'));
        match c {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t' | b'\n') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' if value_may_start => {
                // A quoted string, to its closing quote: `\"` escapes in
                // double quotes, `''` in single quotes.
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' if c == b'"' => i += 1,
                        b'\'' if c == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 1,
                        q if q == c => break,
                        b'\n' => {
                            line += 1;
                            line_start = i + 1;
                        }
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'[' | b'{' if value_may_start => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(PolicyError::TooDeep {
                        max: MAX_DEPTH,
                        line,
                        column: text[line_start..i].chars().count() + 1,
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if !matches!(c, b' ' | b'\t' | b'\r') {
            before_last = if c == b'\n' { b'\n' } else { last };
            last = c;
        }
        i += 1;
    }
    Ok(())
}

/// Top-level keys of a seccomp profile besides `defaultAction`.
const PROFILE_ONLY_KEYS: &[&str] = &[
    "syscalls",
    "defaultErrnoRet",
    "architectures",
    "archMap",
    "listenerPath",
    "flags",
];

/// The format of a policy file, from its document's top-level keys:
/// `defaultAction` makes a seccomp profile; else `apiVersion` or `kind` a
/// SyscallPolicy resource; else `default` or `rules` a native policy; else
/// `syscalls` (or another key only profiles have) a seccomp profile; else
/// native, whose parser then names what is wrong.
///
/// The keys are read even from a document that does not parse (a trailing
/// comma, a missing quote), so that the error reported is the one of the
/// format the file was meant to be, with its line and column. Where no key
/// can be made out at all, the names only one format uses (`defaultAction`,
/// `apiVersion`) anywhere in the text decide.
pub fn detect(text: &str) -> Format {
    let keys = top_level_keys(text);
    let has = |names: &[&str]| keys.iter().any(|k| names.contains(&k.as_str()));
    let known = [
        &["defaultAction", "apiVersion", "kind", "default", "rules"][..],
        PROFILE_ONLY_KEYS,
    ];
    if !known.iter().any(|k| has(k)) {
        if has_word(text, "defaultAction") {
            return Format::SeccompProfile;
        }
        if has_word(text, "apiVersion") {
            return Format::SyscallPolicy;
        }
    }
    if has(&["defaultAction"]) {
        Format::SeccompProfile
    } else if has(&["apiVersion", "kind"]) {
        Format::SyscallPolicy
    } else if has(&["default", "rules"]) {
        Format::Native
    } else if has(PROFILE_ONLY_KEYS) {
        Format::SeccompProfile
    } else {
        Format::Native
    }
}

/// Whether `word` is in `text` with no letter, digit or `_` either side.
fn has_word(text: &str, word: &str) -> bool {
    let part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(word).any(|(i, _)| {
        !part(text[..i].chars().next_back()) && !part(text[i + word.len()..].chars().next())
    })
}

/// The keys of the top-level mapping of `text`: parsed when it parses
/// (and is not too deep to parse), else scanned for.
pub fn top_level_keys(text: &str) -> Vec<String> {
    // A JSON document (every seccomp profile) parses as JSON first, its
    // values skipped unread: parsing Docker's profile as YAML to learn its
    // keys took 4.9 million instructions, over half of `policy apply
    // --dry-run` (callgrind), against about a tenth of that this way.
    // serde_json refuses nesting past 128 levels at once, so no depth check
    // goes first.
    if text.trim_start().starts_with('{') {
        type Keys = std::collections::BTreeMap<String, serde::de::IgnoredAny>;
        if let Ok(m) = serde_json::from_str::<Keys>(text) {
            return m.into_keys().collect();
        }
    }
    if check_depth(text).is_ok() {
        if let Ok(v) = serde_norway::from_str::<serde_norway::Value>(text) {
            return match v {
                serde_norway::Value::Mapping(m) => m
                    .keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
        }
    }
    scan_keys(text)
}

/// The top-level keys of a document that may not parse: the keys at the
/// outermost level of a JSON (or YAML flow) object, or the `key:` lines
/// that start in column 0 of a YAML block mapping.
fn scan_keys(text: &str) -> Vec<String> {
    let body: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .collect();
    let flow = body
        .first()
        .is_some_and(|l| l.trim_start().starts_with('{'));
    if flow {
        flow_keys(text)
    } else {
        body.iter()
            .filter(|l| !l.starts_with([' ', '\t', '-', '[', '{']))
            .filter_map(|l| block_key(l))
            .collect()
    }
}

/// `key` of a `key: value` line (the key quoted or not).
fn block_key(line: &str) -> Option<String> {
    let line = line.trim_end();
    if let Some(rest) = line.strip_prefix('"').or_else(|| line.strip_prefix('\'')) {
        let q = line.as_bytes()[0] as char;
        let end = rest.find(q)?;
        return rest[end + 1..]
            .trim_start()
            .starts_with(':')
            .then(|| rest[..end].to_string());
    }
    let colon = line
        .find(": ")
        .or_else(|| line.strip_suffix(':').map(str::len))?;
    Some(line[..colon].trim().to_string())
}

/// The keys at depth 1 of a JSON-like flow object: each string (or bare
/// word) right after the opening `{` or a `,`, and followed by `:`.
fn flow_keys(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let (mut keys, mut depth, mut i) = (Vec::new(), 0usize, 0usize);
    let mut expect_key = false;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => {
                depth += 1;
                expect_key = depth == 1 && b[i] == b'{';
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let s = text.get(start..i.min(b.len())).unwrap_or("");
                let colon = text
                    .get(i + 1..)
                    .is_some_and(|r| r.trim_start().starts_with(':'));
                if expect_key && depth == 1 && colon {
                    keys.push(s.to_string());
                }
                expect_key = false;
            }
            c if expect_key && depth == 1 && (c.is_ascii_alphabetic() || c == b'_') => {
                // A bare YAML flow key: `{default: allow}`.
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                if text[i..].trim_start().starts_with(':') {
                    keys.push(text[start..i].to_string());
                }
                expect_key = false;
                continue;
            }
            c if !c.is_ascii_whitespace() => expect_key = false,
            _ => {}
        }
        i += 1;
    }
    keys
}

/// `msg` with every quoted value (in backquotes or double quotes) longer
/// than [`MAX_ECHO`] characters cut to that many, ending in `...`: a
/// parser's error repeats the value it could not take, however long.
pub fn shorten(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len().min(4096));
    let mut rest = msg;
    while let Some(open) = rest.find(['`', '"']) {
        let q = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find(q) else {
            out.push_str(&cut(after));
            return out;
        };
        out.push_str(&cut(&after[..close]));
        out.push(q);
        rest = &after[close + 1..];
    }
    out.push_str(&cut_tail(rest));
    out
}

/// `s` cut to [`MAX_ECHO`] characters and `...`.
fn cut(s: &str) -> String {
    match s.char_indices().nth(MAX_ECHO) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_string(),
    }
}

/// What follows the last quote: unquoted text a parser copied from the
/// file has no quotes to find, so a very long tail is cut as well.
fn cut_tail(s: &str) -> String {
    const TAIL: usize = 16 * MAX_ECHO;
    match s.char_indices().nth(TAIL) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_top_level_keys_even_when_the_text_does_not_parse() {
        let cases = [
            // A Docker profile with a trailing comma: not JSON.
            (
                "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [],\n}\n",
                Format::SeccompProfile,
            ),
            // A Docker profile written as YAML.
            (
                "defaultAction: SCMP_ACT_ERRNO\nsyscalls:\n  - names: [read]\n    action: SCMP_ACT_ALLOW\n",
                Format::SeccompProfile,
            ),
            // A profile with a missing quote.
            ("{\"defaultAction: \"SCMP_ACT_ALLOW\", \"syscalls\": [}", Format::SeccompProfile),
            ("{\n \"syscalls\": [\n", Format::SeccompProfile),
            ("apiVersion: sysfence.dev/v1alpha1\nkind: SyscallPolicy\nspec: {\n", Format::SyscallPolicy),
            ("# comment\ndefault: allow\nrules: [\n", Format::Native),
            ("{default: allow, rules: [}", Format::Native),
            ("default: allow\nrules:\n  - {syscalls: [read], action: errno}\n", Format::Native),
            ("", Format::Native),
            ("[1, 2]", Format::Native),
            ("frobnicate: 1\n", Format::Native),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text), want, "{text}");
        }
        // Keys below the top level are not the document's.
        assert_eq!(
            detect("{\"x\": {\"defaultAction\": 1}, \"default\": \"allow\",}"),
            Format::Native
        );
        assert_eq!(
            detect("default: allow\nx:\n  defaultAction: 1\n  kind: 2\n  - ["),
            Format::Native
        );
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing_and_quoted_brackets_do_not_count() {
        let deep = format!(
            "default: allow\nrules: {}{}\n",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let start = std::time::Instant::now();
        let e = check_depth(&deep).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "nested more than 64 levels deep at line 2 column {} (a policy nests at most a few)",
                7 + 65
            )
        );
        assert!(start.elapsed().as_secs_f64() < 1.0);
        let ok = format!(
            "default: allow # {}\nrules: [{{syscalls: [read], action: errno}}]\nx: \"{}\"\ny: '{}'\nz: a[[[[b\n",
            "[".repeat(100),
            "[".repeat(100),
            "{".repeat(100)
        );
        assert!(check_depth(&ok).is_ok());
        assert!(check_depth(&"[".repeat(MAX_DEPTH)).is_ok());
        assert!(check_depth(&"[".repeat(MAX_DEPTH + 1)).is_err());
        assert!(check_depth(&format!("a: {}", "{ b: ".repeat(MAX_DEPTH + 1))).is_err());
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let long = "A".repeat(10_000);
        let msg = format!("default: unknown variant `{long}`, expected one of `allow`, `errno`");
        let short = shorten(&msg);
        assert_eq!(
            short,
            format!(
                "default: unknown variant `{}...`, expected one of `allow`, `errno`",
                "A".repeat(MAX_ECHO)
            )
        );
        let msg = format!(
            "invalid type: string \"{long}\", expected struct PolicyFile at line 1 column 1"
        );
        assert_eq!(
            shorten(&msg),
            format!(
                "invalid type: string \"{}...\", expected struct PolicyFile at line 1 column 1",
                "A".repeat(MAX_ECHO)
            )
        );
        assert_eq!(shorten("plain `short` message"), "plain `short` message");
        assert!(shorten(&format!("unquoted {long}")).len() < 2000);
        assert!(shorten(&format!("unclosed `{long}")).len() < 200);
    }

    #[test]
    fn files_over_the_cap_are_refused_without_reading_them_whole() {
        let big = std::io::repeat(b'a').take(64 << 20);
        let e = read_from("big.yaml", big).unwrap_err().to_string();
        assert_eq!(
            e,
            "big.yaml: larger than 4 MiB, the most a policy file may be: not a policy file"
        );
        assert_eq!(
            read_from("x", &b"default: allow\n"[..]).unwrap(),
            "default: allow\n"
        );
        let e = read_from("x", &b"default: \xff\n"[..])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x: not UTF-8 text (byte 9): not a policy file");
    }
}
