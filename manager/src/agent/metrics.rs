// SPDX-License-Identifier: GPL-2.0
//! Prometheus metrics and health endpoints, served with hyper (`GET
//! /metrics`, `/healthz`, `/readyz`; anything else is 404).

use super::kernel::Kernel;
use super::state::State;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::net::TcpListener;

/// Upper bounds of the apply latency histogram, in seconds.
const BUCKETS: [f64; 11] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.0,
];

/// The agent's own counters and gauges.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    pub policies: usize,
    pub matched: usize,
    pub applied: usize,
    pub applies_ok: u64,
    pub applies_failed: u64,
    pub deletes_ok: u64,
    pub deletes_failed: u64,
    pub reconciles: u64,
    pub reconcile_errors: u64,
    pub status_patches_ok: u64,
    pub status_patches_failed: u64,
    pub watch_errors: u64,
    pub last_reconcile: Option<SystemTime>,
    /// Cumulative counts per bucket, then +Inf.
    apply_buckets: [u64; BUCKETS.len() + 1],
    apply_sum: f64,
}

impl Metrics {
    /// Records one apply (set or replace) and how long it took.
    pub fn observe_apply(&mut self, took: Duration, ok: bool) {
        if ok {
            self.applies_ok += 1;
        } else {
            self.applies_failed += 1;
        }
        let s = took.as_secs_f64();
        self.apply_sum += s;
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.apply_buckets[i] += 1;
            }
        }
        self.apply_buckets[BUCKETS.len()] += 1;
    }
}

/// Whether the agent is alive and ready.
#[derive(Clone, Debug)]
pub struct Health {
    /// The last time the reconcile loop went round (a pass or a wait).
    pub last_tick: Instant,
    /// Both watchers have listed once.
    pub synced: bool,
    /// The last pass reached the module.
    pub kernel_ok: bool,
    /// Alive while the loop ticked within this.
    pub stall: Duration,
}

impl Health {
    pub fn new(stall: Duration) -> Health {
        let now = Instant::now();
        Health {
            last_tick: now,
            synced: false,
            kernel_ok: false,
            stall,
        }
    }
    pub fn alive(&self) -> bool {
        self.last_tick.elapsed() <= self.stall
    }
    pub fn ready(&self) -> bool {
        self.synced && self.kernel_ok
    }
}

/// What the endpoints read.
pub struct Shared {
    pub metrics: Mutex<Metrics>,
    pub health: Mutex<Health>,
    pub state: Mutex<State>,
    pub kernel: Mutex<Box<dyn Kernel + Send>>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One metric family in Prometheus' text format: its help, its type and a
/// sample per label set (`{...}`, or empty).
fn family(o: &mut String, name: &str, kind: &str, help: &str, lines: &[(String, f64)]) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, v) in lines {
        let _ = writeln!(o, "{name}{labels} {v}");
    }
}

/// One sample without labels.
fn plain(v: f64) -> Vec<(String, f64)> {
    vec![(String::new(), v)]
}

/// The metrics in Prometheus' text format. The kernel's per-policy
/// counters are read now, for every cgroup the agent owns.
pub fn render(shared: &Shared) -> String {
    let m = shared.metrics.lock().expect("metrics lock").clone();
    let h = shared.health.lock().expect("health lock").clone();
    let owned: Vec<(u64, super::state::Owned)> = shared
        .state
        .lock()
        .expect("state lock")
        .cgroups
        .iter()
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    let mut o = String::new();
    render_changes(&mut o, &m, owned.len());
    render_apply_duration(&mut o, &m);
    render_passes(&mut o, &m, &h);
    family(
        &mut o,
        "sysfence_decisions_total",
        "counter",
        "The kernel's decisions on the calls of each container the agent filters, by action.",
        &decision_lines(shared, &owned),
    );
    o
}

/// What the agent sees and what it changed in the kernel.
fn render_changes(o: &mut String, m: &Metrics, owned: usize) {
    family(
        o,
        "sysfence_agent_policies",
        "gauge",
        "SyscallPolicy resources the agent sees.",
        &plain(m.policies as f64),
    );
    family(
        o,
        "sysfence_agent_containers",
        "gauge",
        "Running containers on this node selected by a policy, and those whose cgroup holds it.",
        &[
            ("{state=\"matched\"}".into(), m.matched as f64),
            ("{state=\"applied\"}".into(), m.applied as f64),
        ],
    );
    family(
        o,
        "sysfence_agent_owned_cgroups",
        "gauge",
        "Cgroups whose policy the agent applied.",
        &plain(owned as f64),
    );
    family(
        o,
        "sysfence_agent_applies_total",
        "counter",
        "Policies set or replaced in the kernel, by result.",
        &[
            ("{result=\"ok\"}".into(), m.applies_ok as f64),
            ("{result=\"error\"}".into(), m.applies_failed as f64),
        ],
    );
    family(
        o,
        "sysfence_agent_deletes_total",
        "counter",
        "Policies removed from the kernel, by result.",
        &[
            ("{result=\"ok\"}".into(), m.deletes_ok as f64),
            ("{result=\"error\"}".into(), m.deletes_failed as f64),
        ],
    );
}

/// The histogram of the time one apply takes.
fn render_apply_duration(o: &mut String, m: &Metrics) {
    let _ = writeln!(
        o,
        "# HELP sysfence_agent_apply_duration_seconds Time to set or replace one policy, read-back included.\n# TYPE sysfence_agent_apply_duration_seconds histogram"
    );
    for (i, b) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            o,
            "sysfence_agent_apply_duration_seconds_bucket{{le=\"{b}\"}} {}",
            m.apply_buckets[i]
        );
    }
    let total = m.apply_buckets[BUCKETS.len()];
    let _ = writeln!(
        o,
        "sysfence_agent_apply_duration_seconds_bucket{{le=\"+Inf\"}} {total}\nsysfence_agent_apply_duration_seconds_sum {}\nsysfence_agent_apply_duration_seconds_count {total}",
        m.apply_sum
    );
}

/// The reconcile passes, status patches, watches and readiness.
fn render_passes(o: &mut String, m: &Metrics, h: &Health) {
    family(
        o,
        "sysfence_agent_reconciles_total",
        "counter",
        "Reconcile passes.",
        &plain(m.reconciles as f64),
    );
    family(
        o,
        "sysfence_agent_reconcile_errors_total",
        "counter",
        "Reconcile passes that could not run (the module unreachable, the state file unwritable).",
        &plain(m.reconcile_errors as f64),
    );
    family(
        o,
        "sysfence_agent_last_reconcile_timestamp_seconds",
        "gauge",
        "When the last reconcile pass ended (Unix time).",
        &plain(m.last_reconcile.map_or(0.0, |t| {
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        })),
    );
    family(
        o,
        "sysfence_agent_status_patches_total",
        "counter",
        "Status updates sent to the API server, by result.",
        &[
            ("{result=\"ok\"}".into(), m.status_patches_ok as f64),
            ("{result=\"error\"}".into(), m.status_patches_failed as f64),
        ],
    );
    family(
        o,
        "sysfence_agent_watch_errors_total",
        "counter",
        "Errors of the API watches (each is retried with backoff).",
        &plain(m.watch_errors as f64),
    );
    family(
        o,
        "sysfence_agent_ready",
        "gauge",
        "1 when both watches have listed and the module answered the last pass.",
        &plain(if h.ready() { 1.0 } else { 0.0 }),
    );
}

/// The kernel's decisions, per container the agent owns, read now.
fn decision_lines(shared: &Shared, owned: &[(u64, super::state::Owned)]) -> Vec<(String, f64)> {
    let mut lines = Vec::new();
    let mut k = shared.kernel.lock().expect("kernel lock");
    // A shadow's cgroup: its counters are those of whatever enforces
    // there, not of this policy (its record is in the status).
    for (cg, w) in owned.iter().filter(|(_, w)| !w.shadow) {
        let Ok(s) = k.stats(*cg) else { continue };
        let (ns, pod) = w.pod.split_once('/').unwrap_or(("", &w.pod));
        let base = format!(
            "namespace=\"{}\",pod=\"{}\",container=\"{}\",policy=\"{}\",cgroup=\"{cg}\"",
            escape(ns),
            escape(pod),
            escape(&w.container),
            escape(w.policy.split_once('/').map_or(&w.policy[..], |x| x.1)),
        );
        for (action, v) in [
            ("allowed", s.allowed),
            ("denied", s.denied),
            ("logged", s.logged),
            ("killed", s.killed),
            ("trapped", s.trapped),
        ] {
            lines.push((format!("{{{base},action=\"{action}\"}}"), v as f64));
        }
    }
    lines
}

/// One response: status line, type and body.
pub fn respond(shared: &Shared, path: &str) -> (&'static str, &'static str, String) {
    let path = path.split('?').next().unwrap_or(path);
    match path {
        "/metrics" => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            render(shared),
        ),
        "/healthz" => {
            if shared.health.lock().expect("health lock").alive() {
                ("200 OK", "text/plain", "ok\n".into())
            } else {
                (
                    "503 Service Unavailable",
                    "text/plain",
                    "the reconcile loop is stuck\n".into(),
                )
            }
        }
        "/readyz" => {
            let h = shared.health.lock().expect("health lock").clone();
            if h.ready() {
                ("200 OK", "text/plain", "ok\n".into())
            } else if !h.synced {
                (
                    "503 Service Unavailable",
                    "text/plain",
                    "waiting for the first list of SyscallPolicies and pods from the API server\n"
                        .into(),
                )
            } else {
                (
                    "503 Service Unavailable",
                    "text/plain",
                    "the sysfence module did not answer the last reconcile\n".into(),
                )
            }
        }
        _ => ("404 Not Found", "text/plain", "not found\n".into()),
    }
}

/// Serves the endpoints until the task is dropped: one request per
/// connection (HTTP/1.1 with hyper), its head read within 5 s.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(sock), service)
                .await;
        });
    }
}

/// The response to one request: [`respond`]'s for GET and HEAD (without
/// the body), 405 for anything else.
async fn answer(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let head = req.method() == Method::HEAD;
    let (status, ctype, body) = if req.method() == Method::GET || head {
        // The kernel's counters are read with blocking netlink calls.
        let path = req.uri().path().to_string();
        tokio::task::spawn_blocking(move || respond(&shared, &path))
            .await
            .unwrap_or((
                "500 Internal Server Error",
                "text/plain",
                "internal error\n".into(),
            ))
    } else {
        ("405 Method Not Allowed", "text/plain", "GET only\n".into())
    };
    let body = if head { String::new() } else { body };
    let code = status
        .split(' ')
        .next()
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    Ok(r)
}
