// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! `shared-abi/sysfence.yaml` must describe exactly the ids in `proto.rs`.

use std::collections::BTreeMap;
use sysfence_abi::proto::{
    access, action, attr, class, features, Abi, Cmd, Op, FAMILY_NAME, FAMILY_VERSION, MCGRP_EVENTS,
};

/// (section, name) -> value, from the spec's flow-style entries and
/// operations, with a line-based reader for the file's fixed layout.
fn read_spec() -> BTreeMap<(String, String), u64> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sysfence.yaml")).unwrap();
    let mut out = BTreeMap::new();
    let mut section = String::new();
    let mut op_name: Option<String> = None;
    for line in text.lines() {
        let t = line.trim();
        let indent = line.len() - line.trim_start().len();
        if let Some(name) = t.strip_prefix("- name: ") {
            if indent == 2 {
                section = name.to_string();
            } else {
                op_name = Some(name.to_string());
            }
            continue;
        }
        if let (Some(v), Some(n)) = (t.strip_prefix("value: "), op_name.take()) {
            out.insert(("operations".into(), n), v.parse().unwrap());
            continue;
        }
        if let Some(body) = t.strip_prefix("- {").and_then(|b| b.strip_suffix('}')) {
            let field = |k: &str| {
                body.split(", ")
                    .find_map(|kv| kv.strip_prefix(k).map(str::to_string))
            };
            let (Some(n), Some(v)) = (field("name: "), field("value: ")) else {
                continue;
            };
            let v = match v.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16).unwrap(),
                None => v.parse().unwrap(),
            };
            assert!(
                out.insert((section.clone(), n.clone()), v).is_none(),
                "{section}.{n} twice"
            );
        }
    }
    out
}

#[test]
fn spec_matches_proto() {
    let spec = read_spec();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sysfence.yaml")).unwrap();
    assert!(text.contains(&format!("\nname: {FAMILY_NAME}\n")));
    assert!(text.contains(&format!("\nversion: {FAMILY_VERSION}\n")));
    assert!(text.contains(&format!("    - name: {MCGRP_EVENTS}\n")));
    let mut want: Vec<(&str, &str, u64)> = vec![
        ("action", "kill-thread", action::KILL_THREAD.into()),
        ("action", "trap", action::TRAP.into()),
        ("action", "errno", action::ERRNO.into()),
        ("action", "log", action::LOG.into()),
        ("action", "allow", action::ALLOW.into()),
        ("action", "kill-process", action::KILL_PROCESS.into()),
        ("features", "syscall-filter", features::SYSCALL_FILTER),
        ("features", "hierarchy", features::HIERARCHY),
        ("features", "events", features::EVENTS),
        ("features", "record", features::RECORD),
        ("features", "objects", features::OBJECTS),
        ("features", "arm-on-exec", features::ARM_ON_EXEC),
        ("class", "file", class::FILE.into()),
        ("class", "exec", class::EXEC.into()),
        ("class", "socket", class::SOCKET.into()),
        ("class", "connect", class::CONNECT.into()),
        ("class", "bind", class::BIND.into()),
        ("access", "read", access::READ.into()),
        ("access", "write", access::WRITE.into()),
        ("access", "create", access::CREATE.into()),
        (
            "main",
            "info-objects-unchecked",
            attr::INFO_OBJECTS_UNCHECKED.into(),
        ),
        ("main", "arm-on-exec", attr::ARM_ON_EXEC.into()),
        ("main", "waiting-for-exec", attr::WAITING_FOR_EXEC.into()),
        ("policy", "object", attr::POLICY_OBJECT.into()),
        (
            "policy",
            "object-default",
            attr::POLICY_OBJECT_DEFAULT.into(),
        ),
        ("object", "class", attr::OBJ_CLASS.into()),
        ("object", "action", attr::OBJ_ACTION.into()),
        ("object", "path", attr::OBJ_PATH.into()),
        ("object", "prefix", attr::OBJ_PREFIX.into()),
        ("object", "access", attr::OBJ_ACCESS.into()),
        ("object", "family", attr::OBJ_FAMILY.into()),
        ("object", "type", attr::OBJ_TYPE.into()),
        ("object", "protocol", attr::OBJ_PROTOCOL.into()),
        ("object", "addr", attr::OBJ_ADDR.into()),
        ("object", "addr-prefix", attr::OBJ_ADDR_PREFIX.into()),
        ("object", "port-min", attr::OBJ_PORT_MIN.into()),
        ("object", "port-max", attr::OBJ_PORT_MAX.into()),
        ("event", "obj-class", attr::EVENT_OBJ_CLASS.into()),
        ("event", "object", attr::EVENT_OBJECT.into()),
        ("main", "cgroup-id", attr::CGROUP_ID.into()),
        ("main", "policy", attr::POLICY.into()),
        ("main", "stats", attr::STATS.into()),
        ("main", "info-version", attr::INFO_VERSION.into()),
        ("main", "info-features", attr::INFO_FEATURES.into()),
        ("main", "info-policy-count", attr::INFO_POLICY_COUNT.into()),
        ("main", "info-max-policies", attr::INFO_MAX_POLICIES.into()),
        ("main", "info-max-rules", attr::INFO_MAX_RULES.into()),
        ("main", "info-release", attr::INFO_RELEASE.into()),
        ("main", "event", attr::EVENT.into()),
        (
            "main",
            "info-events-per-sec",
            attr::INFO_EVENTS_PER_SEC.into(),
        ),
        ("policy", "default", attr::POLICY_DEFAULT.into()),
        ("policy", "bad-abi", attr::POLICY_BAD_ABI.into()),
        ("policy", "abi", attr::POLICY_ABI.into()),
        ("policy", "record", attr::POLICY_RECORD.into()),
        ("abi", "id", attr::ABI_ID.into()),
        ("abi", "rule", attr::ABI_RULE.into()),
        ("abi", "packed", attr::ABI_PACKED.into()),
        ("abi", "allow", attr::ABI_ALLOW.into()),
        ("rule", "nr", attr::RULE_NR.into()),
        ("rule", "action", attr::RULE_ACTION.into()),
        ("rule", "arg", attr::RULE_ARG.into()),
        ("arg", "index", attr::ARG_INDEX.into()),
        ("arg", "op", attr::ARG_OP.into()),
        ("arg", "value", attr::ARG_VALUE.into()),
        ("arg", "value-two", attr::ARG_VALUE_TWO.into()),
        ("stats", "allowed", attr::STATS_ALLOWED.into()),
        ("stats", "denied", attr::STATS_DENIED.into()),
        ("stats", "logged", attr::STATS_LOGGED.into()),
        ("stats", "killed", attr::STATS_KILLED.into()),
        ("stats", "trapped", attr::STATS_TRAPPED.into()),
        ("stats", "events-sent", attr::STATS_EVENTS_SENT.into()),
        ("stats", "events-dropped", attr::STATS_EVENTS_DROPPED.into()),
        ("stats", "seen-x86-64", attr::STATS_SEEN_X86_64.into()),
        ("stats", "seen-ia32", attr::STATS_SEEN_IA32.into()),
        ("stats", "seen-x32", attr::STATS_SEEN_X32.into()),
        ("stats", "seen-aarch64", attr::STATS_SEEN_AARCH64.into()),
        ("stats", "seen-arm", attr::STATS_SEEN_ARM.into()),
        ("event", "cgroup-id", attr::EVENT_CGROUP_ID.into()),
        ("event", "pid", attr::EVENT_PID.into()),
        ("event", "tid", attr::EVENT_TID.into()),
        ("event", "comm", attr::EVENT_COMM.into()),
        ("event", "abi", attr::EVENT_ABI.into()),
        ("event", "nr", attr::EVENT_NR.into()),
        ("event", "arg", attr::EVENT_ARG.into()),
        ("event", "action", attr::EVENT_ACTION.into()),
        ("event", "task-cgroup-id", attr::EVENT_TASK_CGROUP_ID.into()),
        ("event", "time-ns", attr::EVENT_TIME_NS.into()),
        ("event", "shadow", attr::EVENT_SHADOW.into()),
        (
            "event",
            "enforced-action",
            attr::EVENT_ENFORCED_ACTION.into(),
        ),
        ("features", "shadow", features::SHADOW),
        ("features", "free-with-cgroup", features::FREE_WITH_CGROUP),
        ("features", "policy-batch", features::POLICY_BATCH),
        ("main", "shadow", attr::SHADOW.into()),
        ("main", "shadow-policy", attr::SHADOW_POLICY.into()),
        ("main", "shadow-none", attr::SHADOW_NONE.into()),
        ("main", "shadow-record", attr::SHADOW_RECORD.into()),
        ("main", "batch-item", attr::BATCH_ITEM.into()),
        ("batch-item", "cgroup-id", attr::CGROUP_ID.into()),
        ("batch-item", "policy", attr::POLICY.into()),
        ("shadow-record", "since-ns", attr::SR_SINCE_NS.into()),
        ("shadow-record", "differed", attr::SR_DIFFERED.into()),
        ("shadow-record", "events-sent", attr::SR_EVENTS_SENT.into()),
        (
            "shadow-record",
            "events-dropped",
            attr::SR_EVENTS_DROPPED.into(),
        ),
        ("shadow-record", "untracked", attr::SR_UNTRACKED.into()),
        ("shadow-record", "entry", attr::SR_ENTRY.into()),
        ("shadow-entry", "abi", attr::SRE_ABI.into()),
        ("shadow-entry", "nr", attr::SRE_NR.into()),
        ("shadow-entry", "obj-class", attr::SRE_OBJ_CLASS.into()),
        (
            "shadow-entry",
            "shadow-action",
            attr::SRE_SHADOW_ACTION.into(),
        ),
        (
            "shadow-entry",
            "enforced-action",
            attr::SRE_ENFORCED_ACTION.into(),
        ),
        ("shadow-entry", "count", attr::SRE_COUNT.into()),
        ("shadow-entry", "first-ns", attr::SRE_FIRST_NS.into()),
        ("shadow-entry", "last-ns", attr::SRE_LAST_NS.into()),
        ("shadow-entry", "comm", attr::SRE_COMM.into()),
    ];
    for a in Abi::EVERY {
        want.push(("abi", a.name(), *a as u64));
    }
    let op_names = ["ne", "lt", "le", "eq", "ge", "gt", "masked-eq"];
    for (o, n) in Op::ALL.iter().zip(op_names) {
        want.push(("op", n, *o as u64));
    }
    let cmd_names = [
        "get-info",
        "policy-set",
        "policy-delete",
        "policy-get",
        "policy-dump",
        "stats-get",
        "event",
        "policy-promote",
        "shadow-discard",
        "shadow-get",
        "policy-set-batch",
    ];
    assert_eq!(Cmd::ALL.len(), cmd_names.len());
    for (c, n) in Cmd::ALL.iter().zip(cmd_names) {
        want.push(("operations", n, *c as u64));
    }
    // The ABI enum and the abi attribute set share the section name "abi":
    // the enum's entries come first in the file and are keyed apart here.
    let mut missing = Vec::new();
    for (sec, name, v) in &want {
        match spec.get(&(sec.to_string(), name.to_string())) {
            Some(got) if got == v => {}
            got => missing.push(format!("{sec}.{name}: spec {got:?}, proto {v}")),
        }
    }
    assert!(
        missing.is_empty(),
        "sysfence.yaml disagrees with proto.rs:\n{}",
        missing.join("\n")
    );
    assert_eq!(
        spec.len(),
        want.len(),
        "sysfence.yaml has entries proto.rs lacks: {spec:?}"
    );
}
