// SPDX-License-Identifier: GPL-2.0
//! The agent against API traffic: a stand-in API server behind kube's mock
//! service (`tower_test::mock::pair`) answers the watchers' list and watch
//! requests with the JSON in `manager/tests/fixtures/agent/api/` (written
//! in the API server's wire format; no live API server can run here) and
//! records the status patches the agent sends. The kernel is the
//! in-memory one, the cgroups a real tree in a temporary directory.

use super::cgroups::tests::{layout, Driver, Runtime, TempDir, C1, C2, UID};
use super::kernel::{Fake, Kernel};
use super::kube::{field_manager, run, Config};
use super::metrics::{self, Health, Metrics, Shared};
use super::state::{Live, State};
use crate::kernel::shadow::Report;
use crate::kernel::stats::Stats;
use bytes::Bytes;
use futures::channel::mpsc::{unbounded, UnboundedSender};
use http::{Request, Response};
use http_body::Frame;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use http_body_util::StreamBody;
use kube::client::Body;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/agent/api");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// The in-memory kernel, shared between two agents in turn.
#[derive(Clone, Default)]
struct SharedFake(Arc<Mutex<Fake>>);

impl Kernel for SharedFake {
    fn policies(&mut self) -> Result<Live, String> {
        self.0.lock().unwrap().policies()
    }
    fn set(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String> {
        self.0.lock().unwrap().set(cgroup, wire)
    }
    fn delete(&mut self, cgroup: u64) -> Result<(), String> {
        self.0.lock().unwrap().delete(cgroup)
    }
    fn stats(&mut self, cgroup: u64) -> Result<Stats, String> {
        self.0.lock().unwrap().stats(cgroup)
    }
    fn set_shadow(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String> {
        self.0.lock().unwrap().set_shadow(cgroup, wire)
    }
    fn promote(&mut self, cgroup: u64) -> Result<u64, String> {
        self.0.lock().unwrap().promote(cgroup)
    }
    fn discard_shadow(&mut self, cgroup: u64) -> Result<(), String> {
        self.0.lock().unwrap().discard_shadow(cgroup)
    }
    fn shadow_report(&mut self, cgroup: u64) -> Result<Report, String> {
        self.0.lock().unwrap().shadow_report(cgroup)
    }
}

/// One answer of the stand-in API server.
enum Reply {
    /// 200 with this body.
    Ok(String),
    /// This status, with a Status object.
    Fail(u16),
}

/// One request the agent sent.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    content_type: String,
    body: Value,
}

type Chunks = UnboundedSender<Result<Frame<Bytes>, Infallible>>;
type RespBody = UnsyncBoxBody<Bytes, Infallible>;

/// What the stand-in API server answers, by request kind. A watch stays
/// open after what is scripted for it (as a quiet API server's does):
/// more events can be sent on it, and dropping it ends it.
#[derive(Default)]
struct Script {
    policy_lists: VecDeque<Reply>,
    policy_watches: VecDeque<Reply>,
    pod_lists: VecDeque<Reply>,
    pod_watches: VecDeque<Reply>,
    policy_watch: Option<Chunks>,
    pod_watch: Option<Chunks>,
    seen: Vec<Seen>,
}

fn full(text: String) -> RespBody {
    BodyExt::boxed_unsync(http_body_util::Full::new(Bytes::from(text)))
}

/// A watch's body: its first lines, then whatever is sent later.
fn streaming(first: Option<String>) -> (Chunks, RespBody) {
    let (tx, rx) = unbounded();
    if let Some(t) = first {
        tx.unbounded_send(Ok(Frame::data(Bytes::from(t)))).unwrap();
    }
    (tx, BodyExt::boxed_unsync(StreamBody::new(rx)))
}

fn send_events(tx: &Chunks, text: String) {
    tx.unbounded_send(Ok(Frame::data(Bytes::from(text))))
        .unwrap();
}

impl Script {
    fn patches(&self) -> Vec<Seen> {
        self.seen
            .iter()
            .filter(|s| s.method == "PATCH")
            .cloned()
            .collect()
    }
}

async fn api_server(
    mut handle: tower_test::mock::Handle<Request<Body>, Response<RespBody>>,
    script: Arc<Mutex<Script>>,
) {
    while let Some((req, send)) = handle.next_request().await {
        let (parts, body) = req.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let seen = Seen {
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            content_type: parts
                .headers
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        };
        let watch = seen.query.contains("watch=true");
        let mut s = script.lock().unwrap();
        s.seen.push(seen.clone());
        let is_pol = seen.path == "/apis/sysfence.dev/v1alpha1/syscallpolicies";
        let reply = match (seen.method.as_str(), seen.path.as_str(), watch) {
            ("GET", _, false) if is_pol => s.policy_lists.pop_front(),
            ("GET", _, true) if is_pol => s.policy_watches.pop_front(),
            ("GET", "/api/v1/pods", w) => {
                assert!(
                    seen.query.contains("fieldSelector=spec.nodeName%3Dnode-1"),
                    "pods listed without the node's field selector: {}",
                    seen.query
                );
                if w {
                    s.pod_watches.pop_front()
                } else {
                    s.pod_lists.pop_front()
                }
            }
            ("PATCH", p, false) if p.ends_with("/status") => {
                // Echo the object with the status applied.
                let name = p.rsplit('/').nth(1).unwrap();
                Some(Reply::Ok(
                    json!({
                        "apiVersion": "sysfence.dev/v1alpha1",
                        "kind": "SyscallPolicy",
                        "metadata": {"name": name, "namespace": "shop"},
                        "spec": {"default": "allow"},
                        "status": seen.body["status"],
                    })
                    .to_string(),
                ))
            }
            (m, p, _) => panic!("unexpected request {m} {p}?{}", seen.query),
        };
        let resp = match reply {
            Some(Reply::Fail(code)) => Response::builder()
                .status(code)
                .body(full(
                    fixture("status-500.json").replace("500", &code.to_string()),
                ))
                .unwrap(),
            Some(Reply::Ok(text)) if !watch => {
                Response::builder().status(200).body(full(text)).unwrap()
            }
            None if !watch => panic!("no answer scripted for {} {}", seen.method, seen.path),
            first => {
                let (tx, body) = streaming(first.map(|r| match r {
                    Reply::Ok(t) => t,
                    Reply::Fail(_) => unreachable!(),
                }));
                if is_pol {
                    s.policy_watch = Some(tx);
                } else {
                    s.pod_watch = Some(tx);
                }
                Response::builder().status(200).body(body).unwrap()
            }
        };
        drop(s);
        send.send_response(resp);
    }
}

/// A running agent and its stand-in API server.
struct Running {
    shared: Arc<Shared>,
    stop: tokio::sync::oneshot::Sender<()>,
    agent: tokio::task::JoinHandle<()>,
}

fn start(
    script: Arc<Mutex<Script>>,
    kernel: SharedFake,
    root: &Path,
    state_file: &Path,
) -> Running {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<RespBody>>();
    tokio::spawn(api_server(handle, script));
    let client = kube::Client::new(svc, "default");
    let shared = Arc::new(Shared {
        metrics: Mutex::new(Metrics::default()),
        health: Mutex::new(Health::new(Duration::from_secs(60))),
        state: Mutex::new(State::load(state_file).unwrap()),
        kernel: Mutex::new(Box::new(kernel)),
    });
    let cfg = Config {
        node: "node-1".into(),
        cgroup_root: root.to_path_buf(),
        state_file: state_file.to_path_buf(),
        resync: Duration::from_secs(3600),
        debounce: Duration::from_millis(20),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(run(client, cfg, shared.clone(), async {
        let _ = stopped.await;
    }));
    Running {
        shared,
        stop,
        agent,
    }
}

/// Waits (up to 20 s) for a condition.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The node entry a status patch writes.
fn entry(p: &Seen) -> Value {
    p.body["status"]["nodes"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciles_from_recorded_api_traffic_survives_an_outage_and_a_restart() {
    let t = TempDir::new("api");
    let root = t.0.join("cgroup");
    let (_, web) = layout(Runtime::Containerd, Driver::Systemd, "burstable", UID, C1);
    let side = format!(
        "{}/cri-containerd-{}.scope",
        web.rsplit_once('/').unwrap().0,
        "3".repeat(64)
    );
    let (_, api) = layout(
        Runtime::Crio,
        Driver::Systemd,
        "guaranteed",
        "aaaaaaaa-1b2d-4e5f-8a9b-0c1d2e3f4a5b",
        C2,
    );
    t.mkdirs(&[
        format!("cgroup/{web}"),
        format!("cgroup/{side}"),
        format!("cgroup/{api}"),
    ]);
    let ino =
        |p: &str| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(root.join(p)).unwrap());
    let (web_cg, api_cg) = (ino(&web), ino(&api));
    let state_file = t.0.join("run/state.json");
    let kernel = SharedFake::default();
    // An operator's policy on the sidecar, applied by hand: never touched.
    let side_cg = ino(&side);
    kernel
        .0
        .lock()
        .unwrap()
        .policies
        .insert(side_cg, b"by hand".to_vec());

    let script = Arc::new(Mutex::new(Script::default()));
    {
        let mut s = script.lock().unwrap();
        s.policy_lists
            .push_back(Reply::Ok(fixture("policies-list.json")));
        s.pod_lists.push_back(Reply::Ok(fixture("pods-list.json")));
    }
    let a = start(script.clone(), kernel.clone(), &root, &state_file);

    // 1. The first lists: web's nginx and the api container get their
    //    policies; late conflicts with web; bank/idle selects nothing.
    until("three status patches", || {
        script.lock().unwrap().patches().len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let patches = script.lock().unwrap().patches();
    assert_eq!(patches.len(), 3, "{patches:#?}");
    let by_name = |name: &str| {
        patches
            .iter()
            .find(|p| {
                p.path
                    == format!(
                        "/apis/sysfence.dev/v1alpha1/namespaces/shop/syscallpolicies/{name}/status"
                    )
            })
            .unwrap_or_else(|| panic!("no status patch for {name}: {patches:#?}"))
            .clone()
    };
    for p in &patches {
        assert_eq!(p.content_type, "application/apply-patch+yaml");
        assert!(
            p.query.contains("fieldManager=sysfence-agent-node-1"),
            "{}",
            p.query
        );
        assert!(p.query.contains("force=true"), "{}", p.query);
        assert_eq!(p.body["apiVersion"], "sysfence.dev/v1alpha1");
        assert_eq!(p.body["kind"], "SyscallPolicy");
    }
    let w = by_name("web");
    let n = entry(&w);
    assert_eq!(n["node"], "node-1");
    assert_eq!(n["matchedContainers"], 1);
    assert_eq!(n["appliedContainers"], 1);
    assert_eq!(n["observedGeneration"], 1);
    assert_eq!(n["conditions"][0]["type"], "Ready");
    assert_eq!(n["conditions"][0]["status"], "True");
    assert_eq!(n["conditions"][0]["reason"], "Applied");
    let api_st = entry(&by_name("api-audit"));
    assert_eq!(api_st["appliedContainers"], 1);
    let late = entry(&by_name("late"));
    assert_eq!(late["appliedContainers"], 0);
    assert_eq!(late["conditions"][0]["reason"], "OtherPolicy");
    assert_eq!(late["conditions"][1]["type"], "Conflict");
    assert_eq!(late["conditions"][1]["status"], "True");
    assert!(late["conditions"][1]["message"]
        .as_str()
        .unwrap()
        .contains("shop/web-7d9f-abcde/nginx (held by shop/web)"));
    {
        let k = kernel.0.lock().unwrap();
        assert_eq!(k.sets, 2);
        assert!(k.policies.contains_key(&web_cg) && k.policies.contains_key(&api_cg));
        assert_eq!(k.policies[&side_cg], b"by hand");
    }
    let st = State::load(&state_file).unwrap();
    assert_eq!(st.cgroups.keys().copied().collect::<Vec<_>>(), {
        let mut v = vec![web_cg, api_cg];
        v.sort();
        v
    });
    // The selection the OCI hook reads, beside the state file.
    let sel = crate::node::selection::Selection::load(&t.0.join("run"))
        .unwrap()
        .expect("selection.json");
    assert_eq!(sel.node.as_deref(), Some("node-1"));
    assert!(!sel.updated.is_empty());
    let web_pod = &sel.pods["0f6a4c3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b"];
    assert_eq!(
        web_pod.containers.get("nginx").map(String::as_str),
        Some("shop/web")
    );
    assert!(matches!(
        sel.verdict("0f6a4c3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b", "nginx"),
        crate::node::selection::Verdict::Policy { .. }
    ));
    // Metrics and health.
    let (code, _, text) = metrics::respond(&a.shared, "/metrics");
    assert_eq!(code, "200 OK");
    for want in [
        "sysfence_agent_policies 4",
        "sysfence_agent_applies_total{result=\"ok\"} 2",
        "sysfence_agent_containers{state=\"matched\"} 3",
        "sysfence_agent_containers{state=\"applied\"} 2",
        "sysfence_agent_apply_duration_seconds_count 2",
        "sysfence_agent_apply_duration_seconds_bucket{le=\"+Inf\"} 2",
        "sysfence_agent_status_patches_total{result=\"ok\"} 3",
        "sysfence_agent_ready 1",
        &format!("sysfence_decisions_total{{namespace=\"shop\",pod=\"web-7d9f-abcde\",container=\"nginx\",policy=\"web\",cgroup=\"{web_cg}\",action=\"denied\"}} 3"),
    ] {
        assert!(text.contains(want), "{want} missing from\n{text}");
    }
    assert_eq!(metrics::respond(&a.shared, "/readyz").0, "200 OK");
    assert_eq!(metrics::respond(&a.shared, "/healthz").0, "200 OK");
    assert_eq!(metrics::respond(&a.shared, "/nope").0, "404 Not Found");

    // 2. A watch event: web is deleted. Late, next in age, takes nginx
    //    over (a replace: no moment without a policy); web gets no status.
    until("the policy watch", || {
        script.lock().unwrap().policy_watch.is_some()
    })
    .await;
    send_events(
        script.lock().unwrap().policy_watch.as_ref().unwrap(),
        fixture("policies-watch-delete-web.jsonl"),
    );
    until("late's status after web's deletion", || {
        script.lock().unwrap().patches().len() > 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let patches = script.lock().unwrap().patches();
    assert_eq!(patches.len(), 4, "{patches:#?}");
    assert!(patches[3].path.ends_with("/late/status"));
    let late = entry(&patches[3]);
    assert_eq!(late["appliedContainers"], 1);
    assert_eq!(late["conditions"][0]["status"], "True");
    assert_eq!(late["conditions"][1]["status"], "False");
    {
        let k = kernel.0.lock().unwrap();
        assert_eq!((k.sets, k.deletes), (3, 0));
    }
    assert_eq!(
        State::load(&state_file).unwrap().cgroups[&web_cg].policy,
        "shop/late"
    );

    // 3. The API server goes away: the pod watch ends, the next one fails,
    //    the one after says the resource version is gone (410), and the
    //    re-list shows that api-0 was deleted meanwhile. Nothing changes
    //    in the kernel during the outage; afterwards api-0's policy goes.
    {
        let mut s = script.lock().unwrap();
        s.pod_watches.push_back(Reply::Fail(500));
        s.pod_watches.push_back(Reply::Ok(
            json!({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1",
                "status": "Failure", "reason": "Expired", "code": 410,
                "message": "too old resource version: 200 (230)"}})
            .to_string()
                + "\n",
        ));
        s.pod_lists.push_back(Reply::Fail(503));
        s.pod_lists
            .push_back(Reply::Ok(fixture("pods-list-after-outage.json")));
        s.pod_watch = None;
    }
    until("the watch errors", || {
        a.shared.metrics.lock().unwrap().watch_errors >= 3
    })
    .await;
    until("api-0's policy removed", || {
        !kernel.0.lock().unwrap().policies.contains_key(&api_cg)
    })
    .await;
    {
        let k = kernel.0.lock().unwrap();
        assert_eq!((k.sets, k.deletes), (3, 1));
        assert_eq!(k.policies[&side_cg], b"by hand");
    }
    until("api-audit's entry removed", || {
        script
            .lock()
            .unwrap()
            .patches()
            .iter()
            .skip(4)
            .any(|p| p.path.ends_with("/api-audit/status"))
    })
    .await;
    let patches = script.lock().unwrap().patches();
    let gone = patches
        .iter()
        .skip(4)
        .find(|p| p.path.ends_with("/api-audit/status"))
        .unwrap();
    // Its entry is removed: server-side apply drops what this manager no
    // longer sends.
    assert_eq!(gone.body["status"]["nodes"], json!([]));
    let text = metrics::render(&a.shared);
    assert!(
        text.contains("sysfence_agent_deletes_total{result=\"ok\"} 1"),
        "{text}"
    );

    // 4. The agent stops; the kernel keeps its policies. A new agent with
    //    the same state file lists policies whose statuses are what the
    //    first one wrote, and the same pods: it changes nothing and
    //    patches nothing.
    let _ = a.stop.send(());
    a.agent.await.unwrap();
    assert_eq!(kernel.0.lock().unwrap().policies.len(), 2);
    let mut list = fixture_json("policies-list.json");
    let items: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["name"] != "web")
        .cloned()
        .map(|mut p| {
            let name = p["metadata"]["name"].as_str().unwrap().to_string();
            if let Some(last) = patches
                .iter()
                .rev()
                .find(|x| x.path.ends_with(&format!("/{name}/status")))
            {
                p["status"] = last.body["status"].clone();
            }
            p
        })
        .collect();
    list["items"] = Value::Array(items);
    let script2 = Arc::new(Mutex::new(Script::default()));
    {
        let mut s = script2.lock().unwrap();
        s.policy_lists.push_back(Reply::Ok(list.to_string()));
        s.pod_lists
            .push_back(Reply::Ok(fixture("pods-list-after-outage.json")));
    }
    let b = start(script2.clone(), kernel.clone(), &root, &state_file);
    until("the new agent's first pass", || {
        b.shared.metrics.lock().unwrap().reconciles >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    {
        let k = kernel.0.lock().unwrap();
        assert_eq!(
            (k.sets, k.deletes),
            (3, 1),
            "the restart changed the kernel"
        );
    }
    assert!(
        script2.lock().unwrap().patches().is_empty(),
        "{:#?}",
        script2.lock().unwrap().patches()
    );
    assert_eq!(metrics::respond(&b.shared, "/readyz").0, "200 OK");
    let _ = b.stop.send(());
    b.agent.await.unwrap();
}

#[test]
fn field_managers_fit_kubernetes_limit() {
    assert_eq!(field_manager("node-1"), "sysfence-agent-node-1");
    let long = "n".repeat(253);
    assert!(field_manager(&long).len() <= 128);
    assert_ne!(field_manager(&long), field_manager(&"m".repeat(253)));
}

#[tokio::test]
async fn the_http_endpoints_answer() {
    let shared = Arc::new(Shared {
        metrics: Mutex::new(Metrics::default()),
        health: Mutex::new(Health::new(Duration::from_secs(60))),
        state: Mutex::new(State::default()),
        kernel: Mutex::new(Box::new(SharedFake::default())),
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let server = tokio::spawn(metrics::serve(l, shared.clone()));
    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
        c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        out
    }
    assert!(get(addr, "/healthz").await.starts_with("HTTP/1.1 200 OK"));
    let r = get(addr, "/readyz").await;
    assert!(
        r.starts_with("HTTP/1.1 503") && r.contains("waiting for the first list"),
        "{r}"
    );
    let m = get(addr, "/metrics").await;
    assert!(m.contains("text/plain; version=0.0.4"), "{m}");
    assert!(m.contains("# TYPE sysfence_agent_apply_duration_seconds histogram"));
    assert!(get(addr, "/x").await.starts_with("HTTP/1.1 404"));
    {
        let mut h = shared.health.lock().unwrap();
        h.synced = true;
        h.kernel_ok = true;
    }
    assert!(get(addr, "/readyz").await.starts_with("HTTP/1.1 200 OK"));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shadow_mode_reports_would_refuse_then_enforce_promotes() {
    use crate::kernel::shadow::Difference;
    let t = TempDir::new("api-shadow");
    let root = t.0.join("cgroup");
    let (_, web) = layout(Runtime::Containerd, Driver::Systemd, "burstable", UID, C1);
    t.mkdirs(&[format!("cgroup/{web}")]);
    let web_cg = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(root.join(&web)).unwrap());
    let state_file = t.0.join("run/state.json");
    let kernel = SharedFake::default();
    // The record the module will have kept once the shadow is set: nginx
    // called getppid 500 times, which the policy would refuse.
    kernel.0.lock().unwrap().reports.insert(
        web_cg,
        Report {
            cgroup_id: web_cg,
            differed: 500,
            differences: vec![Difference {
                abi: "x86_64",
                nr: 110,
                syscall: Some("getppid"),
                object_class: None,
                shadow: "errno(1)".into(),
                enforced: "allow".into(),
                count: 500,
                comms: vec!["nginx".into()],
                first_seen: 0.0,
                last_seen: 0.0,
            }],
            ..Report::default()
        },
    );
    // Only web, in shadow mode.
    let mut list = fixture_json("policies-list.json");
    let mut web_pol = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"] == "web")
        .unwrap()
        .clone();
    web_pol["spec"]["mode"] = json!("shadow");
    web_pol["spec"]["rules"][0]["syscalls"]
        .as_array_mut()
        .unwrap()
        .push(json!("getppid"));
    list["items"] = json!([web_pol.clone()]);
    let script = Arc::new(Mutex::new(Script::default()));
    {
        let mut s = script.lock().unwrap();
        s.policy_lists.push_back(Reply::Ok(list.to_string()));
        s.pod_lists.push_back(Reply::Ok(fixture("pods-list.json")));
    }
    let a = start(script.clone(), kernel.clone(), &root, &state_file);
    until("web's status", || {
        !script.lock().unwrap().patches().is_empty()
    })
    .await;
    let n = entry(&script.lock().unwrap().patches()[0]);
    assert_eq!(n["appliedContainers"], 1, "{n:#}");
    assert_eq!(n["conditions"][0]["status"], "True");
    assert_eq!(n["shadow"]["containers"], 1, "{n:#}");
    assert_eq!(n["shadow"]["differed"], 500);
    assert_eq!(n["shadow"]["wouldRefuse"]["total"], 500);
    assert_eq!(n["shadow"]["wouldRefuse"]["bySyscall"]["getppid"], 500);
    {
        let k = kernel.0.lock().unwrap();
        assert_eq!((k.sets, k.shadow_sets), (0, 1));
        assert!(!k.policies.contains_key(&web_cg));
        assert!(k.shadows.contains_key(&web_cg));
    }
    assert!(State::load(&state_file).unwrap().cgroups[&web_cg].shadow);

    // mode: enforce, by a watch event: promoted, nothing set; the shadow
    // left behind is discarded and the status has no shadow part.
    until("the policy watch", || {
        script.lock().unwrap().policy_watch.is_some()
    })
    .await;
    web_pol["spec"]["mode"] = json!("enforce");
    web_pol["metadata"]["generation"] = json!(2);
    web_pol["metadata"]["resourceVersion"] = json!("150");
    send_events(
        script.lock().unwrap().policy_watch.as_ref().unwrap(),
        json!({"type": "MODIFIED", "object": web_pol}).to_string() + "\n",
    );
    until("web's status after enforce", || {
        script.lock().unwrap().patches().len() >= 2
    })
    .await;
    let n = entry(&script.lock().unwrap().patches()[1]);
    assert_eq!(n["observedGeneration"], 2, "{n:#}");
    assert_eq!(n["appliedContainers"], 1);
    assert!(n.get("shadow").is_none(), "{n:#}");
    {
        let k = kernel.0.lock().unwrap();
        assert_eq!((k.promotes, k.sets, k.discards), (1, 0, 1));
        assert!(k.policies.contains_key(&web_cg));
        assert!(k.shadows.is_empty());
    }
    assert!(!State::load(&state_file).unwrap().cgroups[&web_cg].shadow);
    let _ = a.stop.send(());
    a.agent.await.unwrap();
}
