// SPDX-License-Identifier: GPL-2.0
//! `sysfence events`: follow denials, LOG hits, traps and kills as they happen.
//!
//! Each event names the container its task's cgroup belongs to, when it is
//! (in) one: the id from the cgroup directory's name (or an ancestor's),
//! the name from Docker's or Podman's store.

use crate::exit::Code;
use crate::host::stores::{self, Stores};
use crate::host::target;
use crate::kernel::action_text;
use crate::kernel::client::Client;
use crate::out::outln;
use clap::Args;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use sysfence_abi::event::Event;
use sysfence_abi::names;
use sysfence_abi::proto::{action, class};

/// Options of `sysfence events`.
#[derive(Args)]
#[command(mut_group(target::GROUP, target::OPTIONAL))]
pub struct EventsArgs {
    // Only events of this cgroup's policy or of tasks in this cgroup (else
    // every event): said in the command's help.
    #[command(flatten)]
    target: Option<target::Target>,
    /// Print one JSON object per line (NDJSON).
    #[arg(long)]
    json: bool,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
}

/// One event as printed with `--json`.
#[derive(Serialize)]
struct JsonEvent<'a> {
    time_ns: u64,
    policy_cgroup: u64,
    cgroup: u64,
    /// The container of `cgroup`: its full id.
    #[serde(skip_serializing_if = "Option::is_none")]
    container: Option<&'a str>,
    /// The container's name, when its runtime's store knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    container_name: Option<&'a str>,
    pid: u32,
    tid: u32,
    comm: &'a str,
    abi: &'a str,
    nr: u64,
    syscall: Option<&'a str>,
    args: [String; 6],
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errno: Option<u32>,
    /// For an object decision: file, exec, socket, connect or bind.
    #[serde(skip_serializing_if = "Option::is_none")]
    object_class: Option<&'a str>,
    /// For an object decision: the path or address.
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    /// A shadow event: `action` is what the cgroup's shadow would have
    /// answered; the task got `enforced`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    shadow: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    enforced: Option<String>,
}

/// The container an event's cgroup belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Container {
    /// Its id, whole, as its cgroup directory's name carries it.
    pub id: String,
    /// Its name, when Docker's or Podman's store knows it.
    pub name: Option<String>,
}

impl std::fmt::Display for Container {
    /// `ID` (12 digits of a full id, as `docker ps` shows them), then
    /// `(NAME)` when there is one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let id = if stores::is_full_id(&self.id) {
            &self.id[..12]
        } else {
            &self.id
        };
        match &self.name {
            Some(n) => write!(f, "{id}({n})"),
            None => f.write_str(id),
        }
    }
}

/// Which container each cgroup id belongs to. Each cgroup id is looked
/// up (a walk of the cgroup tree) at most once per run, found or not, and
/// each container's name at most once.
pub struct Containers {
    root: PathBuf,
    stores: Stores,
    cgroups: HashMap<u64, Option<String>>,
    names: HashMap<String, Option<String>>,
}

impl Containers {
    /// Containers of the cgroups under `root`, named from `stores`.
    pub fn new(root: &Path, stores: Stores) -> Containers {
        Containers {
            root: root.to_path_buf(),
            stores,
            cgroups: HashMap::new(),
            names: HashMap::new(),
        }
    }

    /// The container of the cgroup with id `cgroup`, if it is (in) one.
    pub fn of(&mut self, cgroup: u64) -> Option<Container> {
        let root = &self.root;
        let id = self
            .cgroups
            .entry(cgroup)
            .or_insert_with(|| target::container_id_in(root, &target::find_by_id(root, cgroup)?))
            .clone()?;
        let stores = &self.stores;
        let name = self
            .names
            .entry(id.clone())
            .or_insert_with(|| stores.name_of(&id))
            .clone();
        Some(Container { id, name })
    }
}

fn abi_name(e: &Event) -> &'static str {
    e.abi().map_or("unknown", |a| a.name())
}

fn syscall_name(e: &Event) -> Option<&'static str> {
    let abi = e.abi()?;
    names::name(abi, u32::try_from(e.nr).ok()?)
}

fn errno_of(e: &Event) -> Option<u32> {
    (e.action & action::ACTION_MASK == action::ERRNO).then_some(e.action & action::DATA_MASK)
}

/// The text form of one event: one line, fields in a fixed order; the
/// container of its cgroup, `c`, follows `cgroup=` when there is one.
pub fn format_text(e: &Event, c: Option<&Container>) -> String {
    let call = match syscall_name(e) {
        Some(n) => format!("{n}({})", e.nr),
        None => format!("#{}", e.nr),
    };
    let act = if e.is_shadow() {
        format!(
            "shadow {} (enforced {})",
            action_text(e.action),
            action_text(e.enforced)
        )
    } else {
        action_text(e.action)
    };
    // What the decision was about: the object, or the argument registers.
    let about = if e.obj_class != 0 {
        format!("{} {}", class::name(e.obj_class), e.object_str())
    } else {
        let args: Vec<String> = e.args.iter().map(|a| format!("{a:#x}")).collect();
        format!("[{}]", args.join(" "))
    };
    let container = c.map_or(String::new(), |c| format!(" container={c}"));
    format!(
        "{:>6}.{:06} cgroup={}{} policy={} pid={} tid={} comm={} {} {} {} -> {}",
        e.time_ns / 1_000_000_000,
        (e.time_ns / 1_000) % 1_000_000,
        e.task_cgroup,
        container,
        e.policy_cgroup,
        e.pid,
        e.tid,
        e.comm_str(),
        abi_name(e),
        call,
        about,
        act
    )
}

/// The NDJSON form of one event. Arguments are hexadecimal strings, since
/// JSON numbers lose precision above 2^53. `c` is the container of its
/// cgroup, if any.
pub fn format_json(e: &Event, c: Option<&Container>) -> Result<String, serde_json::Error> {
    serde_json::to_string(&JsonEvent {
        time_ns: e.time_ns,
        policy_cgroup: e.policy_cgroup,
        cgroup: e.task_cgroup,
        container: c.map(|c| c.id.as_str()),
        container_name: c.and_then(|c| c.name.as_deref()),
        pid: e.pid,
        tid: e.tid,
        comm: e.comm_str(),
        abi: abi_name(e),
        nr: e.nr,
        syscall: syscall_name(e),
        args: e.args.map(|a| format!("{a:#x}")),
        action: action::name(e.action),
        errno: errno_of(e),
        object_class: (e.obj_class != 0).then(|| class::name(e.obj_class)),
        object: (e.obj_class != 0).then(|| e.object_str()),
        shadow: e.is_shadow(),
        enforced: e.is_shadow().then(|| action_text(e.enforced)),
    })
}

pub fn run(args: &EventsArgs) -> Result<Code, crate::cli::Error> {
    let only = match &args.target {
        None => None,
        Some(t) => Some(t.resolve()?.id),
    };
    if let Some(d) = args.duration {
        if !(d.is_finite() && d >= 0.0) {
            return Err(crate::cli::Error::arg(
                format!("--duration {d}"),
                "want a number of seconds, 0 or more",
            ));
        }
    }
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    let mut client = Client::connect()?;
    client.subscribe_events()?;
    let mut containers = Containers::new(Path::new(target::CGROUP_ROOT), Stores::default());
    let (mut received, mut overruns, mut malformed) = (0u64, 0u64, 0usize);
    let done = |received: u64| args.count.is_some_and(|c| received >= c);
    let mut draining = false;
    while !done(received) {
        // Past the deadline, what the kernel already sent is still read
        // (without waiting), so the output ends on whole bursts.
        let wait = match deadline {
            _ if draining => Some(Duration::ZERO),
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => {
                    draining = true;
                    Some(Duration::ZERO)
                }
            },
            None => None,
        };
        let batch = client.recv_events(wait)?;
        if draining && batch.events.is_empty() && !batch.overrun {
            break;
        }
        if batch.overrun {
            overruns += 1;
            eprintln!("sysfence: events were lost: this reader fell behind and its receive buffer overflowed");
        }
        malformed += batch.malformed;
        for e in &batch.events {
            if only.is_some_and(|id| id != e.policy_cgroup && id != e.task_cgroup) {
                continue;
            }
            let c = containers.of(e.task_cgroup);
            let line = if args.json {
                format_json(e, c.as_ref())?
            } else {
                format_text(e, c.as_ref())
            };
            outln!("{line}")?;
            received += 1;
            if done(received) {
                break;
            }
        }
        crate::out::flush()?;
    }
    if malformed > 0 {
        eprintln!("sysfence: {malformed} messages did not decode as events (is the module newer than this manager?)");
    }
    if overruns > 0 {
        eprintln!(
            "sysfence: {received} events printed; the receive buffer overflowed {overruns} time(s)"
        );
        return Ok(Code::Error);
    }
    Ok(Code::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysfence_abi::proto::Abi;

    fn ev() -> Event {
        let mut comm = [0u8; 16];
        comm[..3].copy_from_slice(b"cat");
        Event {
            policy_cgroup: 5,
            task_cgroup: 6,
            pid: 10,
            tid: 11,
            comm,
            abi: Abi::X86_64 as u32,
            nr: 110,
            args: [0, 1, 2, 3, 4, u64::MAX],
            action: action::ERRNO | 13,
            time_ns: 2_000_500_000,
            ..Event::default()
        }
    }

    const ID: &str = "4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9e";

    fn web(name: Option<&str>) -> Container {
        Container {
            id: ID.into(),
            name: name.map(str::to_string),
        }
    }

    #[test]
    fn text_names_the_container_after_the_cgroup() {
        let t = format_text(&ev(), Some(&web(Some("web"))));
        assert!(
            t.contains(" cgroup=6 container=4f1c2a0b9e8d(web) policy=5 "),
            "{t}"
        );
        let t = format_text(&ev(), Some(&web(None)));
        assert!(
            t.contains(" cgroup=6 container=4f1c2a0b9e8d policy=5 "),
            "{t}"
        );
        let t = format_text(&ev(), None);
        assert!(t.contains(" cgroup=6 policy=5 "), "{t}");
        assert!(!t.contains("container"), "{t}");
        // A systemd-nspawn machine's "id" is its name: shown whole.
        let m = Container {
            id: "a-long-machine-name".into(),
            name: None,
        };
        let t = format_text(&ev(), Some(&m));
        assert!(t.contains(" container=a-long-machine-name "), "{t}");
    }

    #[test]
    fn json_names_the_container_in_full() {
        let j = format_json(&ev(), Some(&web(Some("web")))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["container"], ID);
        assert_eq!(v["container_name"], "web");
        let v: serde_json::Value =
            serde_json::from_str(&format_json(&ev(), Some(&web(None))).unwrap()).unwrap();
        assert_eq!(v["container"], ID);
        assert!(v.get("container_name").is_none(), "{v}");
        let j = format_json(&ev(), None).unwrap();
        assert!(!j.contains("container"), "{j}");
    }

    #[test]
    fn containers_of_cgroups_nested_unnamed_and_none() {
        use crate::host::stores::tests::{docker, stores};
        use crate::host::target::tests::{tempdir, tree};
        use std::os::unix::fs::MetadataExt;
        let t = tree(&[
            &format!("system.slice/docker-{ID}.scope/init"),
            "user.slice",
        ]);
        let var = tempdir::Dir::new();
        let s = stores(var.path());
        docker(&s, ID, "web");
        let ino = |d: &str| std::fs::metadata(t.path().join(d)).unwrap().ino();
        let mut cs = Containers::new(t.path(), s.clone());
        let nested = ino(&format!("system.slice/docker-{ID}.scope/init"));
        assert_eq!(cs.of(nested), Some(web(Some("web"))));
        assert_eq!(cs.of(ino("user.slice")), None);
        assert_eq!(cs.of(u64::MAX), None);
        // Answers come from the caches, found or not: neither the store
        // going nor the directories renamed (same ids) changes them.
        let user = ino("user.slice");
        std::fs::remove_dir_all(var.path()).unwrap();
        let sys = t.path().join("system.slice");
        std::fs::rename(sys.join(format!("docker-{ID}.scope")), sys.join("gone")).unwrap();
        std::fs::rename(
            t.path().join("user.slice"),
            sys.join(format!("docker-{ID}.scope")),
        )
        .unwrap();
        assert_eq!(cs.of(nested), Some(web(Some("web"))));
        assert_eq!(cs.of(user), None);
        assert_eq!(cs.cgroups.len(), 3);
        assert_eq!(cs.names.len(), 1);
        // A new run looks again: now `user` is the container, unnamed.
        let mut cs = Containers::new(t.path(), s);
        assert_eq!(cs.of(user), Some(web(None)));
        assert_eq!(cs.of(nested), None);
    }

    #[test]
    fn object_events_name_the_object() {
        let mut e = ev();
        e.obj_class = sysfence_abi::proto::class::FILE;
        sysfence_abi::event::set_text(&mut e.object, b"/etc/shadow");
        let t = format_text(&e, None);
        assert!(t.contains("file /etc/shadow -> errno(13)"), "{t}");
        let j = format_json(&e, None).unwrap();
        assert!(
            j.contains(r#""object_class":"file","object":"/etc/shadow""#),
            "{j}"
        );
        assert!(!format_json(&ev(), None).unwrap().contains("object"));
    }

    #[test]
    fn text_names_the_call_and_action() {
        let t = format_text(&ev(), None);
        assert!(t.contains("getppid(110)"), "{t}");
        assert!(t.contains("errno(13)"), "{t}");
        assert!(t.contains("comm=cat"), "{t}");
        assert!(t.contains("0xffffffffffffffff"), "{t}");
    }

    #[test]
    fn json_keeps_64_bit_arguments_exact() {
        let v: serde_json::Value =
            serde_json::from_str(&format_json(&ev(), None).unwrap()).unwrap();
        assert_eq!(v["syscall"], "getppid");
        assert_eq!(v["action"], "errno");
        assert_eq!(v["errno"], 13);
        assert_eq!(v["args"][5], "0xffffffffffffffff");
        assert_eq!(v["cgroup"], 6);
        let mut k = ev();
        k.action = action::KILL_PROCESS;
        k.abi = Abi::Ia32 as u32;
        k.nr = 20;
        let v: serde_json::Value = serde_json::from_str(&format_json(&k, None).unwrap()).unwrap();
        assert_eq!(v["action"], "kill-process");
        assert_eq!(v["syscall"], "getpid");
        assert!(v.get("errno").is_none());
    }
}
