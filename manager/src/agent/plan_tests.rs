// SPDX-License-Identifier: GPL-2.0
//! The planner, the status it leads to and `agent plan`, on the host: an
//! in-memory kernel, cgroup trees in temporary directories.

use super::cgroups::{tests::TempDir, Cgroup, Lookup};
use super::crd::SyscallPolicy;
use super::inputs::{pod_info, policy_input};
use super::kernel::{execute, Fake, Kernel};
use super::reconcile::*;
use super::state::{Owned, State};
use super::status::node_status;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

fn policy(name: &str, created: &str, spec: &str) -> PolicyInput {
    let text = format!(
        "apiVersion: sysfence.dev/v1alpha1\nkind: SyscallPolicy\nmetadata:\n  name: {name}\n  namespace: shop\n  generation: 3\n  creationTimestamp: \"{created}\"\nspec:\n{spec}"
    );
    let p: SyscallPolicy = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    policy_input(&p)
}

const WEB: &str = "  selector: {matchLabels: {app: web}}\n  default: allow\n  rules: [{syscalls: [mount], action: errno}]\n";

fn pod(name: &str, uid: &str, labels: &[(&str, &str)], ctrs: &[(&str, &str)]) -> PodInfo {
    PodInfo {
        namespace: "shop".into(),
        name: name.into(),
        uid: uid.into(),
        node: Some("n1".into()),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        spec_containers: ctrs.iter().map(|(n, _)| n.to_string()).collect(),
        containers: ctrs
            .iter()
            .map(|(n, id)| ContainerInfo {
                name: n.to_string(),
                id: Some(id.to_string()),
                running: true,
                terminated: false,
            })
            .collect(),
    }
}

/// Container `id` of any pod lives in cgroup (number in the id).
struct Ids(HashMap<String, u64>);
impl Lookup for Ids {
    fn find(&self, _pod: &str, id: &str) -> Option<Cgroup> {
        self.0.get(id).map(|n| Cgroup {
            id: *n,
            path: PathBuf::from(format!("/cg/{n}")),
        })
    }
}

fn ids(list: &[(&str, u64)]) -> Ids {
    Ids(list.iter().map(|(k, v)| (k.to_string(), *v)).collect())
}

/// One pass: plan against the fake kernel, carry it out, give back the
/// plan and the failures.
fn pass(
    pols: &[PolicyInput],
    pods: &[PodInfo],
    k: &mut Fake,
    st: &mut State,
    cg: &dyn Lookup,
) -> (Plan, HashMap<u64, String>) {
    let live = k.policies().unwrap();
    let plan = plan(&World {
        node: Some("n1"),
        policies: pols,
        pods,
        kernel: &live,
        state: st,
        cgroups: cg,
    });
    let ex = execute(&plan, k, st);
    (plan, ex.failed)
}

fn kinds(p: &Plan) -> Vec<String> {
    p.actions
        .iter()
        .map(|a| match a {
            Action::Apply {
                cgroup,
                why,
                policy,
                shadow: false,
                ..
            } => format!("apply {} {} {why:?}", cgroup.id, policy.name),
            Action::Apply {
                cgroup,
                why,
                policy,
                shadow: true,
                ..
            } => format!("shadow {} {} {why:?}", cgroup.id, policy.name),
            Action::Promote { cgroup, policy, .. } => format!("promote {cgroup} {}", policy.name),
            Action::Delete { cgroup, why, owned } if owned.shadow => {
                format!("discard {cgroup} {why:?}")
            }
            Action::Delete { cgroup, why, .. } => format!("delete {cgroup} {why:?}"),
            Action::Forget { cgroup, why, .. } => format!("forget {cgroup} {why:?}"),
        })
        .collect()
}

#[test]
fn label_selectors_as_kubernetes_reads_them() {
    use crate::policy::resource::{LabelSelector, Requirement, SelectorOp::*};
    let labels: BTreeMap<String, String> = [("app", "web"), ("tier", "front")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let req = |key: &str, operator, values: &[&str]| Requirement {
        key: key.into(),
        operator,
        values: values.iter().map(|s| s.to_string()).collect(),
    };
    let sel = |ml: &[(&str, &str)], me: Vec<Requirement>| LabelSelector {
        match_labels: ml
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        match_expressions: me,
    };
    assert!(selects(&sel(&[], vec![]), &labels), "empty selects all");
    assert!(selects(&sel(&[("app", "web")], vec![]), &labels));
    assert!(!selects(
        &sel(&[("app", "web"), ("x", "y")], vec![]),
        &labels
    ));
    assert!(selects(
        &sel(&[], vec![req("tier", In, &["front", "back"])]),
        &labels
    ));
    assert!(!selects(
        &sel(&[], vec![req("tier", In, &["back"])]),
        &labels
    ));
    assert!(!selects(&sel(&[], vec![req("nope", In, &["x"])]), &labels));
    assert!(selects(
        &sel(&[], vec![req("tier", NotIn, &["back"])]),
        &labels
    ));
    assert!(selects(
        &sel(&[], vec![req("nope", NotIn, &["x"])]),
        &labels
    ));
    assert!(!selects(
        &sel(&[], vec![req("tier", NotIn, &["front"])]),
        &labels
    ));
    assert!(selects(&sel(&[], vec![req("app", Exists, &[])]), &labels));
    assert!(!selects(&sel(&[], vec![req("nope", Exists, &[])]), &labels));
    assert!(selects(
        &sel(&[], vec![req("nope", DoesNotExist, &[])]),
        &labels
    ));
    assert!(!selects(
        &sel(&[("app", "web")], vec![req("app", DoesNotExist, &[])]),
        &labels
    ));
}

#[test]
fn apply_then_nothing_then_replace_on_change_then_delete() {
    let cg = ids(&[("c1", 11), ("c2", 12)]);
    let pods = vec![
        pod(
            "web-0",
            "u0",
            &[("app", "web")],
            &[("nginx", "c1"), ("log", "c2")],
        ),
        pod("db-0", "u1", &[("app", "db")], &[("pg", "c3")]),
    ];
    let mut k = Fake::default();
    let mut st = State::default();
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let (p, failed) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 web New", "apply 12 web New"]);
    let key = web.key.clone();
    let s = node_status("n1", &p.outcomes[&key], &failed, None, "T0").unwrap();
    assert_eq!((s.matched_containers, s.applied_containers), (2, 2));
    assert_eq!(s.observed_generation, Some(3));
    assert_eq!(s.conditions[0].type_, "Ready");
    assert_eq!(s.conditions[0].status, "True");
    assert_eq!(s.conditions[1].status, "False");
    assert_eq!(s.last_error, None);
    assert_eq!(st.cgroups[&11].policy, "shop/web");
    assert_eq!(st.cgroups[&11].pod, "shop/web-0");
    assert_eq!(k.sets, 2);

    // Idempotent: nothing sent, and the status (times included) unchanged.
    let (p, failed) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    assert_eq!(k.sets, 2);
    let s2 = node_status("n1", &p.outcomes[&key], &failed, Some(&s), "T1").unwrap();
    assert_eq!(s2, s);

    // Only the nginx container, and another policy content: replace one,
    // delete the other.
    let narrower = policy(
        "web",
        "2024-01-01T00:00:00Z",
        &format!(
            "  containers: [nginx]\n{}",
            WEB.replace("errno", "kill-process")
        ),
    );
    let (p, _) = pass(std::slice::from_ref(&narrower), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 web Changed", "delete 12 NotSelected"]);
    assert!(!k.policies.contains_key(&12) && !st.cgroups.contains_key(&12));

    // Audit mode is another content, too.
    let audit = policy(
        "web",
        "2024-01-01T00:00:00Z",
        &format!("  mode: audit\n  containers: [nginx]\n{WEB}"),
    );
    let (p, _) = pass(&[audit], &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 web Changed"]);

    // The policy is deleted.
    let (p, _) = pass(&[], &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["delete 11 PolicyDeleted"]);
    assert!(k.policies.is_empty() && st.cgroups.is_empty());
}

#[test]
fn the_selection_names_each_pods_containers_policy_before_they_run() {
    use crate::node::selection::{hex_decode, Verdict};
    let mut pending = pod("web-1", "U1", &[("app", "web")], &[]);
    pending.spec_containers = vec!["nginx".into(), "log".into()];
    let running = pod("web-0", "u0", &[("app", "web")], &[("nginx", "c1")]);
    let db = pod("db-0", "u2", &[("app", "db")], &[("pg", "c2")]);
    let mut elsewhere = pod("web-9", "u9", &[("app", "web")], &[("nginx", "c9")]);
    elsewhere.node = Some("n2".into());
    let old = policy("web-old", "2023-01-01T00:00:00Z", WEB);
    let newer = policy(
        "web-new",
        "2024-01-01T00:00:00Z",
        &format!(
            "  containers: [log]
{WEB}"
        ),
    );
    let bad = policy(
        "db",
        "2024-01-01T00:00:00Z",
        "  selector: {matchLabels: {app: db}}
  default: allow
  rules: [{syscalls: [frobnicate], action: errno}]
",
    );
    let pods = [pending, running, db, elsewhere];
    let sel = selection(Some("n1"), &[newer, old.clone(), bad], &pods);
    // Every pod of the node, by UID in lower case; not the other node's.
    assert_eq!(
        sel.pods.keys().map(String::as_str).collect::<Vec<_>>(),
        ["u0", "u1", "u2"]
    );
    // The oldest policy wins, for containers not yet running too.
    let v = sel.verdict("u1", "log");
    let Verdict::Policy { key, wire, pod } = v else {
        panic!("{v:?}")
    };
    assert_eq!((key.as_str(), pod.as_str()), ("shop/web-old", "shop/web-1"));
    assert_eq!(Ok(wire), old.wire);
    assert!(matches!(sel.verdict("u1", "nginx"), Verdict::Policy { .. }));
    assert_eq!(sel.verdict("u1", "sidecar"), Verdict::NotSelected);
    assert!(
        matches!(sel.verdict("u2", "pg"), Verdict::Invalid { error, .. } if error.contains("frobnicate"))
    );
    assert_eq!(sel.verdict("u9", "nginx"), Verdict::UnknownPod);
    // Only policies some container gets, each once.
    assert_eq!(
        sel.policies.keys().map(String::as_str).collect::<Vec<_>>(),
        ["shop/db", "shop/web-old"]
    );
    assert!(hex_decode(sel.policies["shop/web-old"].wire.as_deref().unwrap()).is_some());
}

#[test]
fn a_container_the_hook_set_up_is_owned_and_kept_while_it_starts() {
    use crate::node::selection::content_hash;
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let wire = web.wire.clone().unwrap();
    let mut k = Fake::default();
    let mut st = State::default();
    // The hook sets the policy on the new container's cgroup and claims it
    // (what adopt_claims puts in the state).
    let back = k.set(21, &wire).unwrap();
    st.cgroups.insert(
        21,
        Owned {
            policy: "shop/web".into(),
            desired: content_hash(&wire),
            kernel: back,
            pod: "shop/web-1".into(),
            pod_uid: "u1".into(),
            container: "nginx".into(),
            container_id: "c21".into(),
            path: "/cg/21".into(),
            shadow: false,
        },
    );
    let sets = k.sets;
    // Starting: the pod's status does not list the container yet.
    let mut starting = pod("web-1", "u1", &[("app", "web")], &[]);
    starting.spec_containers = vec!["nginx".into()];
    let cg = ids(&[("c21", 21)]);
    let (p, _) = pass(
        std::slice::from_ref(&web),
        &[starting.clone()],
        &mut k,
        &mut st,
        &cg,
    );
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    assert!(k.policies.contains_key(&21) && st.cgroups.contains_key(&21));
    // Created, not started: the status lists its ID, waiting. Still kept.
    let mut created = pod("web-1", "u1", &[("app", "web")], &[("nginx", "c21")]);
    created.containers[0].running = false;
    let (p, _) = pass(std::slice::from_ref(&web), &[created], &mut k, &mut st, &cg);
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    // Running: the agent's own, already in place: nothing sent.
    let running = pod("web-1", "u1", &[("app", "web")], &[("nginx", "c21")]);
    let (p, failed) = pass(
        std::slice::from_ref(&web),
        std::slice::from_ref(&running),
        &mut k,
        &mut st,
        &cg,
    );
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    assert_eq!(k.sets, sets);
    let s = node_status("n1", &p.outcomes[&web.key], &failed, None, "T0").unwrap();
    assert_eq!((s.matched_containers, s.applied_containers), (1, 1));
    // A change reaches it like any container the agent applied.
    let changed = policy(
        "web",
        "2024-01-01T00:00:00Z",
        &WEB.replace("errno", "kill-process"),
    );
    let (p, _) = pass(
        std::slice::from_ref(&changed),
        &[running],
        &mut k,
        &mut st,
        &cg,
    );
    assert_eq!(kinds(&p), ["apply 21 web Changed"]);
    // A container whose start failed (its cgroup is gone) is not kept.
    let (p, _) = pass(
        std::slice::from_ref(&changed),
        &[starting],
        &mut k,
        &mut st,
        &ids(&[]),
    );
    assert_eq!(kinds(&p), ["delete 21 ContainerGone"]);
}

#[test]
fn the_agent_takes_over_the_hooks_claims() {
    use super::state::adopt_claims;
    use crate::node::selection::{read_claims, write_claim};
    let dir = TempDir::new("claims");
    let o = Owned {
        policy: "shop/web".into(),
        desired: 1,
        kernel: 2,
        pod: "shop/web-1".into(),
        pod_uid: "u1".into(),
        container: "nginx".into(),
        container_id: "c21".into(),
        path: "/cg/21".into(),
        shadow: false,
    };
    write_claim(&dir.0, 21, &o).unwrap();
    std::fs::write(dir.0.join("claims/x.json"), "{}").unwrap();
    let mut st = State::default();
    let a = adopt_claims(&dir.0, &mut st);
    assert_eq!(st.cgroups.get(&21), Some(&o));
    assert_eq!(a.log.len(), 2, "{:?}", a.log);
    assert!(a
        .log
        .iter()
        .any(|l| l.contains("the OCI hook applied shop/web")));
    // The files stay until the state is saved, then go.
    assert_eq!(read_claims(&dir.0).0.len(), 1);
    a.remove_files();
    assert_eq!(read_claims(&dir.0), (vec![], vec![]));
}

#[test]
fn containers_that_are_not_running_or_elsewhere_are_not_selected() {
    let cg = ids(&[("c1", 11), ("c2", 12), ("c3", 13), ("c4", 14)]);
    let mut stopped = pod("web-0", "u0", &[("app", "web")], &[("a", "c1")]);
    stopped.containers[0].running = false;
    let mut no_id = pod("web-1", "u1", &[("app", "web")], &[("a", "c2")]);
    no_id.containers[0].id = None;
    let mut other_node = pod("web-2", "u2", &[("app", "web")], &[("a", "c3")]);
    other_node.node = Some("n2".into());
    let mut other_ns = pod("web-3", "u3", &[("app", "web")], &[("a", "c4")]);
    other_ns.namespace = "bank".into();
    let mut k = Fake::default();
    let mut st = State::default();
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let (p, _) = pass(
        std::slice::from_ref(&web),
        &[stopped, no_id, other_node, other_ns],
        &mut k,
        &mut st,
        &cg,
    );
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    assert!(p.outcomes[&web.key].containers.is_empty());
    // Nothing selected and valid: nothing to report from this node.
    assert_eq!(
        node_status("n1", &p.outcomes[&web.key], &HashMap::new(), None, "T"),
        None
    );
}

#[test]
fn the_oldest_policy_wins_a_conflict_and_the_other_takes_over_when_it_goes() {
    let cg = ids(&[("c1", 11)]);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("nginx", "c1")])];
    let old = policy("zz-old", "2023-06-01T00:00:00Z", WEB);
    let new = policy(
        "aa-new",
        "2024-06-01T00:00:00Z",
        &WEB.replace("errno", "kill-process"),
    );
    let mut k = Fake::default();
    let mut st = State::default();
    let (p, failed) = pass(&[new.clone(), old.clone()], &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 zz-old New"]);
    let s = node_status("n1", &p.outcomes[&new.key], &failed, None, "T").unwrap();
    assert_eq!((s.matched_containers, s.applied_containers), (1, 0));
    assert_eq!(s.conditions[0].status, "False");
    assert_eq!(s.conditions[0].reason, "OtherPolicy");
    assert_eq!(s.conditions[1].status, "True");
    assert!(
        s.conditions[1]
            .message
            .contains("shop/web-0/nginx (held by shop/zz-old)"),
        "{:?}",
        s.conditions[1]
    );
    let s_old = node_status("n1", &p.outcomes[&old.key], &failed, None, "T").unwrap();
    assert_eq!(s_old.conditions[0].status, "True");
    // Same answer whatever the order they come in.
    let (p2, _) = pass(&[old.clone(), new.clone()], &pods, &mut k, &mut st, &cg);
    assert!(p2.actions.is_empty());
    // The old one goes: the new one replaces it, nothing is deleted.
    let (p, _) = pass(std::slice::from_ref(&new), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 aa-new Changed"]);
    assert_eq!(st.cgroups[&11].policy, "shop/aa-new");
    // Ties on time go by name.
    let a = policy("a", "2024-01-01T00:00:00Z", WEB);
    let b = policy("b", "2024-01-01T00:00:00Z", WEB);
    let (p, _) = pass(&[b.clone(), a.clone()], &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 a Changed"]);
    assert!(matches!(
        &p.outcomes[&b.key].containers[0].placed,
        Placed::Conflict(k) if k.name == "a"
    ));
}

#[test]
fn manual_policies_are_never_touched() {
    let cg = ids(&[("c1", 11), ("c2", 12)]);
    let pods = vec![pod(
        "web-0",
        "u0",
        &[("app", "web")],
        &[("a", "c1"), ("b", "c2")],
    )];
    let mut k = Fake::default();
    // An operator's `sysfence policy apply` on both, and one more cgroup
    // that no pod has.
    for cg in [11, 12, 99] {
        k.policies.insert(cg, b"by hand".to_vec());
    }
    let mut st = State::default();
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let (p, failed) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    let s = node_status("n1", &p.outcomes[&web.key], &failed, None, "T").unwrap();
    assert_eq!((s.matched_containers, s.applied_containers), (2, 0));
    assert_eq!(s.conditions[1].reason, "ManualPolicy");
    assert!(s.conditions[1]
        .message
        .contains("sysfence policy delete --cgroup 11"));
    // The policy goes: the hand-applied ones stay.
    let (p, _) = pass(&[], &pods, &mut k, &mut st, &cg);
    assert!(p.actions.is_empty());
    assert_eq!(k.policies.len(), 3);
    // The operator deletes one by hand: the agent takes it over.
    k.policies.remove(&12);
    let (p, _) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 12 web New"]);
    assert_eq!(k.policies[&11], b"by hand");
}

#[test]
fn drift_is_corrected_while_selected_and_left_alone_after() {
    let cg = ids(&[("c1", 11)]);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c1")])];
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let mut k = Fake::default();
    let mut st = State::default();
    pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    // Replaced by hand: restored while the resource selects it.
    k.policies.insert(11, b"by hand".to_vec());
    let (p, _) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 web Drifted"]);
    // Deleted by hand (or the module reloaded): applied again.
    k.policies.clear();
    let (p, _) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 web Missing"]);
    // Replaced by hand, then the resource goes: the operator's stays.
    k.policies.insert(11, b"by hand".to_vec());
    let (p, _) = pass(&[], &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["forget 11 ChangedByHand"]);
    assert_eq!(k.policies[&11], b"by hand");
    assert!(st.cgroups.is_empty());
    // Owned, but gone from the kernel, and no longer wanted: forgotten.
    k.policies.clear();
    pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    k.policies.clear();
    let (p, _) = pass(&[], &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["forget 11 GoneFromKernel"]);
}

#[test]
fn containers_that_go_lose_their_policy() {
    let cg = ids(&[("c1", 11), ("c9", 19)]);
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let mut k = Fake::default();
    let mut st = State::default();
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c1")])];
    pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    // The container restarted: new ID, new cgroup; the old cgroup went
    // with the old container.
    let cg = ids(&[("c9", 19)]);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c9")])];
    let (p, _) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 19 web New", "delete 11 ContainerGone"]);
    // The pod's labels change: no longer selected.
    let pods = vec![pod("web-0", "u0", &[("app", "other")], &[("a", "c9")])];
    let (p, _) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["delete 19 NotSelected"]);
}

#[test]
fn an_invalid_policy_keeps_what_its_containers_have() {
    let cg = ids(&[("c1", 11), ("c2", 12)]);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c1")])];
    let mut k = Fake::default();
    let mut st = State::default();
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    let before = k.policies.clone();
    let broken = policy(
        "web",
        "2024-01-01T00:00:00Z",
        &WEB.replace("mount", "no_such_call"),
    );
    assert!(broken.wire.as_ref().unwrap_err().contains("no_such_call"));
    // A new container meanwhile gets nothing either.
    let pods2 = vec![pod(
        "web-0",
        "u0",
        &[("app", "web")],
        &[("a", "c1"), ("b", "c2")],
    )];
    let (p, failed) = pass(std::slice::from_ref(&broken), &pods2, &mut k, &mut st, &cg);
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    assert_eq!(k.policies, before);
    let s = node_status("n1", &p.outcomes[&broken.key], &failed, None, "T").unwrap();
    assert_eq!(s.conditions[0].reason, "InvalidSpec");
    assert!(s
        .last_error
        .as_deref()
        .unwrap()
        .contains("unknown syscall `no_such_call`"));
    assert!(s
        .last_error
        .as_deref()
        .unwrap()
        .contains("keep the policy they had"));
}

#[test]
fn a_policy_without_selector_selects_nothing_and_says_so() {
    let cg = ids(&[("c1", 11)]);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c1")])];
    let none = policy("none", "2024-01-01T00:00:00Z", "  default: allow\n");
    let all = policy(
        "all",
        "2024-01-01T00:00:00Z",
        "  selector: {}\n  default: log\n",
    );
    let (mut k, mut st) = (Fake::default(), State::default());
    let (p, failed) = pass(&[none.clone(), all.clone()], &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 all New"]);
    let s = node_status("n1", &p.outcomes[&none.key], &failed, None, "T").unwrap();
    assert_eq!(s.conditions[0].reason, "NoSelector");
    assert!(s.last_error.unwrap().contains("`selector: {}`"));
}

#[test]
fn an_unfound_cgroup_is_reported_and_keeps_what_it_has() {
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c1")])];
    let (mut k, mut st) = (Fake::default(), State::default());
    pass(
        std::slice::from_ref(&web),
        &pods,
        &mut k,
        &mut st,
        &ids(&[("c1", 11)]),
    );
    // The cgroup cannot be found this time (a wrong root, a slow runtime).
    let (p, failed) = pass(
        std::slice::from_ref(&web),
        &pods,
        &mut k,
        &mut st,
        &ids(&[]),
    );
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    assert!(k.policies.contains_key(&11));
    let s = node_status("n1", &p.outcomes[&web.key], &failed, None, "T").unwrap();
    assert_eq!(s.conditions[0].reason, "CgroupNotFound");
    assert!(s
        .last_error
        .unwrap()
        .contains("no cgroup found for container c1 of pod UID u0"));
}

#[test]
fn failures_are_reported_and_retried() {
    let cg = ids(&[("c1", 11)]);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c1")])];
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let mut k = Fake {
        fail_set: Some("refused by the kernel: too many policies".into()),
        ..Fake::default()
    };
    let mut st = State::default();
    let (p, failed) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(failed.len(), 1);
    assert!(st.cgroups.is_empty());
    let s = node_status("n1", &p.outcomes[&web.key], &failed, None, "T0").unwrap();
    assert_eq!((s.matched_containers, s.applied_containers), (1, 0));
    assert_eq!(s.conditions[0].reason, "ApplyFailed");
    assert_eq!(s.conditions[0].last_transition_time.as_deref(), Some("T0"));
    assert!(s
        .last_error
        .as_deref()
        .unwrap()
        .contains("too many policies"));
    k.fail_set = None;
    let (p, failed) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["apply 11 web New"]);
    let s2 = node_status("n1", &p.outcomes[&web.key], &failed, Some(&s), "T1").unwrap();
    assert_eq!(s2.conditions[0].status, "True");
    assert_eq!(s2.conditions[0].last_transition_time.as_deref(), Some("T1"));
    // Conflict stayed False: its time is kept.
    assert_eq!(s2.conditions[1].last_transition_time.as_deref(), Some("T0"));
    assert_eq!(s2.last_error, None);
}

#[test]
fn a_restarted_agent_converges_from_its_state_file_without_changes() {
    let t = TempDir::new("state");
    let file = t.0.join("agent/state.json");
    let cg = ids(&[("c1", 11), ("c2", 12)]);
    let pods = vec![pod(
        "web-0",
        "u0",
        &[("app", "web")],
        &[("a", "c1"), ("b", "c2")],
    )];
    let web = policy("web", "2024-01-01T00:00:00Z", WEB);
    let mut k = Fake::default();
    let mut st = State::load(&file).unwrap();
    assert!(st.cgroups.is_empty());
    pass(std::slice::from_ref(&web), &pods, &mut k, &mut st, &cg);
    st.save(&file).unwrap();
    // The agent is gone for a while: the kernel keeps everything; a pod
    // goes meanwhile. Back, it reads its state and only removes that one.
    let mut st2 = State::load(&file).unwrap();
    assert_eq!(st2, st);
    let pods = vec![pod("web-0", "u0", &[("app", "web")], &[("a", "c1")])];
    let (p, _) = pass(std::slice::from_ref(&web), &pods, &mut k, &mut st2, &cg);
    assert_eq!(kinds(&p), ["delete 12 ContainerGone"]);
    // A corrupt state file is an error that says what to do.
    std::fs::write(&file, "{").unwrap();
    assert!(State::load(&file)
        .unwrap_err()
        .to_string()
        .contains("delete it to start over"));
}

#[test]
fn pods_from_the_api_objects() {
    let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web-0", "namespace": "shop", "uid": "u0", "labels": {"app": "web"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "nginx"}, {"name": "side"}, {"name": "gone"}]},
        "status": {"qosClass": "Burstable", "containerStatuses": [
            {"name": "nginx", "containerID": "containerd://abc", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
             "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}},
            {"name": "side", "containerID": "cri-o://def", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
            {"name": "gone", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ContainerCreating"}}}
        ]}
    }))
    .unwrap();
    let p = pod_info(&pod);
    assert_eq!((p.namespace.as_str(), p.uid.as_str()), ("shop", "u0"));
    assert_eq!(p.node.as_deref(), Some("n1"));
    assert_eq!(p.containers.len(), 3);
    assert_eq!(p.containers[0].id.as_deref(), Some("abc"));
    assert!(p.containers[0].running);
    assert_eq!(p.containers[1].id.as_deref(), Some("def"));
    assert!(!p.containers[1].running && !p.containers[1].terminated);
    assert_eq!(p.containers[2].id, None);
    assert_eq!(p.spec_containers, ["nginx", "side", "gone"]);
    // A static pod's mirror: the kubelet's UID, which its cgroup carries.
    let mirror: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "etcd-n1", "namespace": "kube-system", "uid": "1b2c3d4e-0000-4000-8000-000000000001",
                     "annotations": {"kubernetes.io/config.mirror": "9F86D081884C7D659A2FEAA0C55AD015",
                                     "kubernetes.io/config.source": "file"}},
        "spec": {"nodeName": "n1", "containers": [{"name": "etcd"}]},
        "status": {"containerStatuses": [
            {"name": "etcd", "containerID": "containerd://e1", "image": "i", "imageID": "", "ready": false, "restartCount": 1,
             "state": {"terminated": {"exitCode": 1}}}
        ]}
    }))
    .unwrap();
    let m = pod_info(&mirror);
    assert_eq!(m.uid, "9f86d081884c7d659a2feaa0c55ad015");
    assert!(m.containers[0].terminated && !m.containers[0].running);
}

#[test]
fn owned_entries_keep_their_file_format() {
    // The state file is read by the next agent version: its shape is fixed.
    let mut st = State {
        version: 1,
        ..State::default()
    };
    st.cgroups.insert(
        7,
        Owned {
            policy: "shop/web".into(),
            desired: 1,
            kernel: 2,
            pod: "shop/web-0".into(),
            pod_uid: "u0".into(),
            container: "nginx".into(),
            container_id: "abc".into(),
            path: "/sys/fs/cgroup/x".into(),
            shadow: false,
        },
    );
    let v = serde_json::to_value(&st).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"version": 1, "cgroups": {"7": {
            "policy": "shop/web", "desired": 1, "kernel": 2, "pod": "shop/web-0",
            "podUid": "u0", "container": "nginx", "containerId": "abc",
            "path": "/sys/fs/cgroup/x"}}})
    );
}

/// `agent plan` end to end: files in, a real cgroup tree of every layout,
/// the in-memory kernel.
/// `agent plan` on files against the fake kernel, with no claims.
fn plan_files(
    args: &super::PlanArgs,
    policies: &[SyscallPolicy],
    pods: &[k8s_openapi::api::core::v1::Pod],
    st: &mut State,
    k: &mut Fake,
) -> Result<super::Planned, Box<dyn std::error::Error>> {
    let live = k.policies().unwrap();
    super::plan_with(
        args,
        policies,
        pods,
        &live,
        st,
        k,
        &super::state::Adopted::default(),
    )
}

#[test]
fn plan_command_from_files_on_a_real_cgroup_tree() {
    use super::cgroups::tests::{layout, Driver, Runtime, C1, C2, UID};
    let t = TempDir::new("plan");
    let uid2 = "aaaaaaaa-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
    let (_, c1) = layout(Runtime::Containerd, Driver::Systemd, "burstable", UID, C1);
    let (_, c2) = layout(Runtime::Crio, Driver::Cgroupfs, "guaranteed", uid2, C2);
    t.mkdirs(&[format!("cg/{c1}"), format!("cg/{c2}")]);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/agent");
    let args = super::PlanArgs {
        policies: PathBuf::from(fixtures).join("policies"),
        pods: PathBuf::from(fixtures).join("pods.json"),
        node_name: Some("node-1".into()),
        cgroup_root: t.0.join("cg"),
        state_file: t.0.join("state.json"),
        apply: true,
        json: true,
    };
    let policies = super::inputs::load_policies(&args.policies).unwrap();
    let pods = super::inputs::load_pods(&args.pods).unwrap();
    let mut k = Fake::default();
    let mut st = State::default();
    let out = plan_files(&args, &policies, &pods, &mut st, &mut k).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let out = out.text;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let acts: Vec<(String, String)> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["container"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        acts,
        [
            ("apply".to_string(), "shop/web-7d9f-abcde/nginx".to_string()),
            ("apply".to_string(), "shop/api-0/api".to_string()),
        ],
        "{out}"
    );
    let id1 =
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(t.0.join("cg").join(&c1)).unwrap());
    assert_eq!(v["actions"][0]["cgroup"], id1);
    assert!(k.policies.contains_key(&id1));
    // Statuses as the agent would report them.
    let pol = |name: &str| {
        v["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["policy"] == name)
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .clone()
    };
    assert_eq!(pol("shop/web")["status"]["appliedContainers"], 1);
    assert_eq!(pol("shop/web")["status"]["node"], "node-1");
    assert_eq!(pol("shop/api-audit")["status"]["appliedContainers"], 1);
    assert_eq!(
        pol("shop/late")["status"]["conditions"][1]["reason"],
        "OtherPolicy"
    );
    assert_eq!(pol("bank/idle")["status"], serde_json::Value::Null);
    // Again: nothing to do; the text form says so.
    let args = super::PlanArgs {
        json: false,
        apply: false,
        ..args
    };
    let out = plan_files(&args, &policies, &pods, &mut st, &mut k).unwrap();
    assert!(out.problems.is_empty(), "{:?}", out.problems);
    let out = out.text;
    assert!(out.starts_with("no change to make"), "{out}");
    assert!(
        out.contains(
            "shop/web: 1 of 1 selected containers applied after this plan; Ready=True (Applied)"
        ),
        "{out}"
    );
    // The audit policy in the kernel logs where it would refuse.
    let wire = &policies
        .iter()
        .find(|p| p.metadata.name.as_deref() == Some("api-audit"))
        .map(super::inputs::policy_input)
        .unwrap()
        .wire;
    let file = crate::policy::native::from_payload(wire.as_ref().unwrap()).unwrap();
    assert_eq!(file.default, crate::policy::native::ActionName::Log);
}

#[test]
fn plan_inputs_are_checked_with_the_file_named() {
    let t = TempDir::new("inputs");
    let f = t.0.join("p.yaml");
    let put = |s: &str| std::fs::write(&f, s).unwrap();
    put("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
    let e = super::inputs::load_policies(&f).unwrap_err();
    assert!(
        e.contains("p.yaml (document 1): not a sysfence.dev/v1alpha1 SyscallPolicy"),
        "{e}"
    );
    put("apiVersion: sysfence.dev/v1alpha1\nkind: SyscallPolicy\nmetadata: {name: x}\nspec: {default: deny}\n");
    let e = super::inputs::load_policies(&f).unwrap_err();
    assert!(e.contains("spec.default: unknown variant `deny`"), "{e}");
    put("apiVersion: sysfence.dev/v1alpha1\nkind: SyscallPolicy\nmetadata: {name: x}\nspec: {default: allow}\n---\napiVersion: sysfence.dev/v1alpha1\nkind: SyscallPolicy\nmetadata: {name: x}\nspec: {default: log}\n");
    let e = super::inputs::load_policies(&f).unwrap_err();
    assert!(e.contains("default/x is given twice"), "{e}");
    put("{\"kind\": \"PodList\", \"items\": [{\"kind\": \"Service\"}]}");
    let e = super::inputs::load_pods(&f).unwrap_err();
    assert!(e.contains("kind `Service` is not Pod"), "{e}");
}

/// One pass, with what carrying it out read (the shadow records).
fn pass_ex(
    pols: &[PolicyInput],
    pods: &[PodInfo],
    k: &mut Fake,
    st: &mut State,
    cg: &dyn Lookup,
) -> (Plan, super::kernel::Executed) {
    let live = k.policies().unwrap();
    let plan = plan(&World {
        node: Some("n1"),
        policies: pols,
        pods,
        kernel: &live,
        state: st,
        cgroups: cg,
    });
    let ex = execute(&plan, k, st);
    (plan, ex)
}

/// A shadow record's line: `count` calls of `syscall` the shadow answered
/// `shadow` and that got `enforced`.
fn diff(syscall: &'static str, nr: u32, shadow: &str, enforced: &str, count: u64) -> Difference {
    Difference {
        abi: "x86_64",
        nr,
        syscall: Some(syscall),
        object_class: None,
        shadow: shadow.into(),
        enforced: enforced.into(),
        count,
        comms: vec!["app".into()],
        first_seen: 0.0,
        last_seen: 0.0,
    }
}

fn record(cgroup: u64, differences: Vec<Difference>) -> Report {
    Report {
        cgroup_id: cgroup,
        differed: differences.iter().map(|d| d.count).sum(),
        clean: differences.is_empty(),
        differences,
        ..Report::default()
    }
}

use crate::kernel::shadow::{Difference, Report};

const STRICT: &str = "  selector: {matchLabels: {app: web}}\n  default: allow\n  rules: [{syscalls: [getppid], action: errno}]\n";

#[test]
fn shadow_mode_records_then_promotes_on_enforce() {
    use super::status::with_shadow;
    let cg = ids(&[("c1", 11), ("c2", 12)]);
    let pods = [pod(
        "web-0",
        "u0",
        &[("app", "web")],
        &[("nginx", "c1"), ("side", "c2")],
    )];
    let mut k = Fake::default();
    // An operator's policy enforces on the sidecar: a shadow goes beside it.
    k.policies.insert(12, b"operator".to_vec());
    let mut st = State::default();
    let shadow = policy(
        "web",
        "2024-01-01T00:00:00Z",
        &format!("  mode: shadow\n{STRICT}"),
    );
    let (p, ex) = pass_ex(std::slice::from_ref(&shadow), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["shadow 11 web New", "shadow 12 web New"]);
    assert_eq!((k.sets, k.shadow_sets), (0, 2));
    assert_eq!(k.policies.keys().collect::<Vec<_>>(), [&12]);
    assert!(st.cgroups[&11].shadow && st.cgroups[&12].shadow);
    // The records are read after the actions (empty so far).
    assert_eq!(ex.shadows.len(), 2);
    let s = node_status("n1", &p.outcomes[&shadow.key], &ex.failed, None, "T0").unwrap();
    let s = with_shadow(s, &p.outcomes[&shadow.key], &ex.shadows);
    assert_eq!(s.conditions[0].status, "True");
    assert!(s.conditions[0].message.starts_with("shadow set on 2 of 2"));
    let sh = s.shadow.as_ref().unwrap();
    assert_eq!(
        (sh.containers, sh.differed, sh.would_refuse.total),
        (2, 0, 0)
    );

    // The workloads call getppid; the sidecar also makes a call the
    // operator's policy refuses and the shadow would let through.
    k.reports.insert(
        11,
        record(11, vec![diff("getppid", 110, "errno(1)", "allow", 500)]),
    );
    k.reports.insert(
        12,
        record(
            12,
            vec![
                diff("getppid", 110, "errno(1)", "log", 20),
                diff("ptrace", 101, "allow", "errno(1)", 7),
            ],
        ),
    );
    let (p, ex) = pass_ex(std::slice::from_ref(&shadow), &pods, &mut k, &mut st, &cg);
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));
    let s = node_status("n1", &p.outcomes[&shadow.key], &ex.failed, None, "T1").unwrap();
    let s = with_shadow(s, &p.outcomes[&shadow.key], &ex.shadows);
    let sh = s.shadow.clone().unwrap();
    assert_eq!((sh.containers, sh.differed), (2, 527));
    assert_eq!(sh.would_refuse.total, 520);
    assert_eq!(
        sh.would_refuse.by_syscall,
        BTreeMap::from([("getppid".to_string(), 520)])
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["shadow"]["wouldRefuse"]["bySyscall"]["getppid"], 520);

    // Enforce: promoted in one step where nothing else enforces; the
    // operator's policy on the sidecar is left alone and the shadow there
    // discarded.
    let enforce = policy("web", "2024-01-01T00:00:00Z", STRICT);
    let (p, ex) = pass_ex(std::slice::from_ref(&enforce), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["promote 11 web", "discard 12 ModeChanged"]);
    assert!(ex.done.iter().all(|d| d.error.is_none()));
    assert_eq!((k.promotes, k.sets, k.discards), (1, 0, 2));
    let wire = enforce.wire.clone().unwrap();
    // What enforces on the container is the policy: getppid is refused.
    assert_eq!(k.policies[&11], Fake::canonical(&wire));
    assert_eq!(k.policies[&12], b"operator");
    assert!(k.shadows.is_empty() && k.reports.is_empty());
    assert!(!st.cgroups[&11].shadow);
    assert!(!st.cgroups.contains_key(&12));
    let o = &p.outcomes[&enforce.key];
    assert_eq!(o.containers[0].placed, Placed::Promoting);
    assert_eq!(o.containers[1].placed, Placed::Manual);
    let s = node_status("n1", o, &ex.failed, None, "T2").unwrap();
    let s = with_shadow(s, o, &ex.shadows);
    assert_eq!(s.shadow, None);
    assert_eq!(s.applied_containers, 1);

    // In place: nothing to do.
    let (p, _) = pass_ex(std::slice::from_ref(&enforce), &pods, &mut k, &mut st, &cg);
    assert!(p.actions.is_empty(), "{:?}", kinds(&p));

    // Back to shadow: the agent's enforcing policy goes, the shadow comes.
    let (p, _) = pass_ex(std::slice::from_ref(&shadow), &pods, &mut k, &mut st, &cg);
    assert_eq!(
        kinds(&p),
        [
            "delete 11 ModeChanged",
            "shadow 11 web New",
            "shadow 12 web New"
        ]
    );
    assert!(!k.policies.contains_key(&11));
    assert!(k.shadows.contains_key(&11) && st.cgroups[&11].shadow);

    // Deleted: the agent's shadows are discarded, the operator's policy
    // stays.
    let (p, _) = pass_ex(&[], &pods, &mut k, &mut st, &cg);
    assert_eq!(
        kinds(&p),
        ["discard 11 PolicyDeleted", "discard 12 PolicyDeleted"]
    );
    assert!(k.shadows.is_empty() && st.cgroups.is_empty());
    assert_eq!(k.policies.keys().collect::<Vec<_>>(), [&12]);
}

#[test]
fn shadow_mode_changes_manual_shadows_and_the_hook() {
    let cg = ids(&[("c1", 11), ("c2", 12)]);
    let pods = [pod(
        "web-0",
        "u0",
        &[("app", "web")],
        &[("nginx", "c1"), ("side", "c2")],
    )];
    let mut k = Fake::default();
    // An operator's shadow on the sidecar: not the agent's to replace.
    k.shadows.insert(12, b"trial".to_vec());
    let mut st = State::default();
    let shadow = policy(
        "web",
        "2024-01-01T00:00:00Z",
        &format!("  mode: shadow\n{STRICT}"),
    );
    let (p, _) = pass_ex(std::slice::from_ref(&shadow), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["shadow 11 web New"]);
    assert_eq!(p.outcomes[&shadow.key].containers[1].placed, Placed::Manual);
    let s = node_status("n1", &p.outcomes[&shadow.key], &HashMap::new(), None, "T").unwrap();
    assert!(
        s.conditions[1]
            .message
            .contains("has a shadow the agent did not set"),
        "{}",
        s.conditions[1].message
    );

    // The hook never applies a shadow-mode policy (it enforces).
    let sel = selection(Some("n1"), std::slice::from_ref(&shadow), &pods);
    assert!(sel.policies.is_empty());
    assert!(sel.pods["u0"].containers.is_empty());

    // A new content in shadow mode replaces the shadow.
    let changed = policy(
        "web",
        "2024-01-01T00:00:00Z",
        &format!(
            "  mode: shadow\n{}",
            STRICT.replace("errno", "kill-process")
        ),
    );
    let (p, _) = pass_ex(std::slice::from_ref(&changed), &pods, &mut k, &mut st, &cg);
    assert_eq!(kinds(&p), ["shadow 11 web Changed"]);

    // Enforce with yet another content: not what the shadow holds, so no
    // promote: the shadow is discarded and the policy applied.
    let enforce = policy("web", "2024-01-01T00:00:00Z", WEB);
    let (p, _) = pass_ex(std::slice::from_ref(&enforce), &pods, &mut k, &mut st, &cg);
    assert_eq!(
        kinds(&p),
        [
            "discard 11 ModeChanged",
            "apply 11 web New",
            "apply 12 web New"
        ]
    );
    assert_eq!(k.promotes, 0);
    assert_eq!(k.shadows.keys().collect::<Vec<_>>(), [&12]);
    assert!(!st.cgroups[&11].shadow);

    // A shadow the agent set, replaced by hand, is the operator's: on
    // enforce, it is forgotten, not discarded.
    let mut k = Fake::default();
    let mut st = State::default();
    pass_ex(std::slice::from_ref(&shadow), &pods, &mut k, &mut st, &cg);
    k.shadows.insert(11, b"by hand".to_vec());
    let enforce = policy("web", "2024-01-01T00:00:00Z", STRICT);
    let (p, _) = pass_ex(std::slice::from_ref(&enforce), &pods, &mut k, &mut st, &cg);
    assert_eq!(
        kinds(&p),
        [
            "forget 11 ModeChanged",
            "apply 11 web New",
            "promote 12 web"
        ]
    );
    assert_eq!(k.shadows.get(&11).map(Vec::as_slice), Some(&b"by hand"[..]));
}
