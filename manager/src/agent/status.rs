// SPDX-License-Identifier: GPL-2.0
//! What one node's agent reports on one policy (`status.nodes[]`), from
//! the plan's outcome and how its actions went. Pure, like the planner.

use super::crd::{Condition, NodeStatus, ShadowStatus};
use super::reconcile::{Outcome, Placed};
use crate::kernel::shadow::Report;
use std::collections::{BTreeMap, HashMap};

/// At most this much of `lastError`.
const MAX_ERROR: usize = 1024;

/// The report, or `None` when this node has nothing to say (the policy
/// selects nothing here and is valid): then any earlier entry is removed.
///
/// `failed` maps the cgroups whose apply failed to the error.
pub fn node_status(
    node: &str,
    o: &Outcome,
    failed: &HashMap<u64, String>,
    previous: Option<&NodeStatus>,
    now: &str,
) -> Option<NodeStatus> {
    let matched = o.containers.len();
    if matched == 0 && o.invalid.is_none() && !o.no_selector {
        return None;
    }
    let mut errors: Vec<String> = Vec::new();
    if o.no_selector {
        errors.push(
            "spec.selector is missing, so the policy selects no pod: `selector: {}` selects every pod of the namespace".into(),
        );
    }
    if let Some(e) = &o.invalid {
        errors.push(format!(
            "spec: {e} (the containers it selects keep the policy they had)"
        ));
    }
    let (mut applied, mut conflicts, mut manual, mut missing) = (0, Vec::new(), Vec::new(), 0);
    for p in &o.containers {
        let failure = p.cgroup.as_ref().and_then(|c| failed.get(&c.id));
        match (&p.placed, failure) {
            (Placed::Applied, _) => applied += 1,
            (Placed::Applying | Placed::Promoting, None) => applied += 1,
            (Placed::Applying | Placed::Promoting, Some(e)) => {
                errors.push(format!("{}: {e}", p.container))
            }
            (Placed::NoCgroup, _) => {
                missing += 1;
                errors.push(format!(
                    "{}: no cgroup found for container {} of pod UID {}",
                    p.container, p.container.container_id, p.container.pod_uid
                ));
            }
            (Placed::Manual, _) => {
                let id = p.cgroup.as_ref().map_or(0, |c| c.id);
                manual.push(if o.shadow {
                    format!(
                        "{} (cgroup {id} has a shadow the agent did not set; `sysfence policy discard-shadow --cgroup {id}` on the node hands it over)",
                        p.container
                    )
                } else {
                    format!(
                        "{} (cgroup {id} has a policy the agent did not apply; `sysfence policy delete --cgroup {id}` on the node hands it over)",
                        p.container
                    )
                });
            }
            (Placed::Held, _) => {}
            (Placed::Conflict(k), _) => conflicts.push(format!("{} (held by {k})", p.container)),
        }
    }
    let failed_n = o
        .containers
        .iter()
        .filter(|p| {
            matches!(p.placed, Placed::Applying | Placed::Promoting)
                && p.cgroup
                    .as_ref()
                    .is_some_and(|c| failed.contains_key(&c.id))
        })
        .count();
    let ready = errors.is_empty() && applied == matched && !o.no_selector;
    let reason = if o.no_selector {
        "NoSelector"
    } else if o.invalid.is_some() {
        "InvalidSpec"
    } else if failed_n > 0 {
        "ApplyFailed"
    } else if !conflicts.is_empty() {
        "OtherPolicy"
    } else if !manual.is_empty() {
        "ManualPolicy"
    } else if missing > 0 {
        "CgroupNotFound"
    } else {
        "Applied"
    };
    let ready_msg = if o.shadow {
        format!("shadow set on {applied} of {matched} selected containers on {node} (recorded, not enforced)")
    } else {
        format!("applied to {applied} of {matched} selected containers on {node}")
    };
    let mut conds = vec![Condition {
        type_: "Ready".into(),
        status: if ready { "True" } else { "False" }.into(),
        reason: reason.into(),
        message: ready_msg,
        last_transition_time: None,
    }];
    let mut held: Vec<String> = conflicts.clone();
    held.extend(manual.iter().cloned());
    conds.push(Condition {
        type_: "Conflict".into(),
        status: if held.is_empty() { "False" } else { "True" }.into(),
        reason: if !conflicts.is_empty() {
            "OtherPolicy"
        } else if !manual.is_empty() {
            "ManualPolicy"
        } else {
            "NoConflict"
        }
        .into(),
        message: if held.is_empty() {
            String::new()
        } else {
            format!("containers held elsewhere: {}", held.join(", "))
        },
        last_transition_time: None,
    });
    for c in &mut conds {
        let before = previous.and_then(|p| p.conditions.iter().find(|x| x.type_ == c.type_));
        c.last_transition_time = match before {
            Some(b) if b.status == c.status => b.last_transition_time.clone(),
            _ => Some(now.to_string()),
        };
    }
    let last_error = (!errors.is_empty()).then(|| {
        let mut s = String::new();
        for (i, e) in errors.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            if s.len() + sep.len() + e.len() > MAX_ERROR {
                s.push_str(&format!("; and {} more", errors.len() - i));
                break;
            }
            s.push_str(sep);
            s.push_str(e);
        }
        s
    });
    Some(NodeStatus {
        node: node.to_string(),
        observed_generation: o.generation,
        matched_containers: matched as u32,
        applied_containers: applied as u32,
        last_error,
        conditions: conds,
        shadow: None,
    })
}

/// Whether an action (as the shadow record writes it) lets the call
/// through.
fn passes(action: &str) -> bool {
    action == "allow" || action == "log"
}

/// The shadow records of a `mode: shadow` policy's containers, summed, in
/// its node report (`shadow`); `None` for another mode. `records` maps
/// cgroups to their shadow's record; a record that could not be read goes
/// to `lastError`.
pub fn with_shadow(
    mut s: NodeStatus,
    o: &Outcome,
    records: &BTreeMap<u64, Result<Report, String>>,
) -> NodeStatus {
    if !o.shadow {
        return s;
    }
    let mut sum = ShadowStatus::default();
    let mut errors = Vec::new();
    for p in &o.containers {
        match p.cgroup.as_ref().and_then(|c| records.get(&c.id)) {
            None => {}
            Some(Err(e)) => errors.push(format!("{}: the shadow record: {e}", p.container)),
            Some(Ok(r)) => {
                sum.containers += 1;
                sum.differed += r.differed;
                for d in &r.differences {
                    if passes(&d.shadow) || !passes(&d.enforced) {
                        continue;
                    }
                    sum.would_refuse.total += d.count;
                    let name = d
                        .syscall
                        .map_or_else(|| format!("#{}", d.nr), str::to_string);
                    *sum.would_refuse.by_syscall.entry(name).or_default() += d.count;
                }
            }
        }
    }
    if !errors.is_empty() {
        let mut e = s.last_error.take().unwrap_or_default();
        for x in errors {
            if e.len() + x.len() + 2 > MAX_ERROR {
                break;
            }
            if !e.is_empty() {
                e.push_str("; ");
            }
            e.push_str(&x);
        }
        s.last_error = Some(e);
    }
    s.shadow = Some(sum);
    s
}

/// RFC 3339 UTC, to the second, of a time since the Unix epoch.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400 + 3661)),
            "2000-02-29T01:01:01Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_225_599)),
            "2025-12-31T23:59:59Z"
        );
    }
}
