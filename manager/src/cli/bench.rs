// SPDX-License-Identifier: GPL-2.0
//! `sysfence bench …` (hidden): measurements the benchmark suite
//! (`bench/run.sh`) makes through the manager's own library calls.
//!
//! - `apply-latency`: replaces a cgroup's policy N times, alternating two
//!   versions of one profile that differ in their default errno, timing
//!   each `set_policy` call from the request to the kernel's ACK. The
//!   module remembers policies it compiled lately by their bytes, so those
//!   replaces skip the compile; with `--distinct` every replace sends
//!   bytes not sent before (default errno 1, 2, 3, ...), and each one
//!   compiles a full policy.
//! - `load`: creates N cgroups under a parent and gives each the profile,
//!   either all the same policy or each a distinct one.
//! - `encode`: the manager's part of `load --distinct` alone, on any host
//!   (no module): N distinct policies made and encoded as `load` makes
//!   them, timed. With `--compile`, the module's part of an
//!   `apply-latency --distinct` replace instead: one version encoded as
//!   that makes it, then validated and compiled N times by shared-abi's
//!   engine with one reused scratch, as `kmod/store.rs` does (under
//!   callgrind, its instructions per policy).

use crate::cli::offline::{load_policy, Caps};
use crate::exit::Code;
use crate::host::target::{Resolved, Target};
use crate::kernel::client::Client;
use crate::out::outln;
use crate::policy::native::{ActionName, ArgSpec, OpName, PolicyFile, RuleSpec};
use clap::Subcommand;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// Time policy replaces on one cgroup.
    ApplyLatency {
        #[command(flatten)]
        target: Target,
        /// The profile or policy file.
        file: String,
        /// Capabilities for a seccomp profile.
        #[arg(long, default_value = "")]
        caps: String,
        /// Replaces to time.
        #[arg(long, default_value_t = 2000)]
        count: usize,
        /// Time promotes instead: a second version is set once as the
        /// cgroup's shadow, and each request is a `policy promote`, which
        /// swaps the two.
        #[arg(long)]
        promote: bool,
        /// Every replace a version not sent before (its default errno
        /// counts up, 1 to 4095 in turn), so that none is a policy the
        /// module compiled lately.
        #[arg(long, conflicts_with = "promote")]
        distinct: bool,
    },
    /// Create N cgroups under PARENT, each with the policy.
    Load {
        /// Parent cgroup directory.
        parent: String,
        /// The profile or policy file.
        file: String,
        #[arg(long, default_value = "")]
        caps: String,
        #[arg(long)]
        count: usize,
        /// Give each cgroup a distinct policy (one extra argument rule).
        #[arg(long)]
        distinct: bool,
        /// Remove the policies and cgroups instead.
        #[arg(long)]
        remove: bool,
        /// Set the policies in batches of up to N (`policy-set-batch`:
        /// one table version per batch) instead of one request each.
        #[arg(long, default_value_t = 1)]
        batch: usize,
    },
    /// Make and encode N distinct policies as `load --distinct` does,
    /// without sending them.
    Encode {
        /// The profile or policy file.
        file: String,
        #[arg(long, default_value = "")]
        caps: String,
        #[arg(long, default_value_t = 2000)]
        count: usize,
        /// Validate and compile one `apply-latency --distinct` version N
        /// times instead (the profile's default must be errno).
        #[arg(long)]
        compile: bool,
    },
}

/// The rule that makes `load --distinct`'s `i`th policy distinct:
/// sethostname refused when its first argument is `i`.
pub(crate) fn distinct_rule(i: u64) -> RuleSpec {
    RuleSpec {
        syscalls: ["sethostname".to_string()].into(),
        action: ActionName::Errno,
        errno: Some(1),
        args: vec![ArgSpec {
            index: 0,
            op: OpName::Eq,
            value: i,
            value_two: None,
        }],
        abis: None,
    }
}

/// The `i`th of `load --distinct`'s policies: `base` and
/// [`distinct_rule`]`(i)`.
fn distinct_policy(base: &PolicyFile, i: usize) -> Result<Vec<u8>, crate::cli::Error> {
    let mut p = base.clone();
    p.rules.push(distinct_rule(i as u64));
    Ok(p.to_wire()?)
}

/// Sets the policies gathered so far: one `policy-set` each, or one
/// batch.
fn send(c: &mut Client, pending: &mut Vec<(u64, Vec<u8>)>) -> Result<(), crate::cli::Error> {
    match pending.as_slice() {
        [] => {}
        [(id, wire)] => c.set_policy(*id, wire)?,
        items => c.set_policies(items)?,
    }
    pending.clear();
    Ok(())
}

fn pct(v: &[f64], q: f64) -> f64 {
    v.get(((v.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(0.0)
}

pub fn run(cmd: BenchCmd) -> Result<Code, crate::cli::Error> {
    match cmd {
        BenchCmd::ApplyLatency {
            target,
            file,
            caps,
            count,
            promote,
            distinct,
        } => {
            let r = target.resolve_for_policy()?;
            let mut a = load_policy(&file, &r, Caps::IfProfile(&caps), false)?;
            if a.default != ActionName::Errno {
                return Err("apply-latency wants a profile whose default is errno".into());
            }
            a.default_errno = Some(1);
            let wa = a.to_wire()?;
            a.default_errno = Some(2);
            let wb = a.to_wire()?;
            // Encoded before the timing starts. The errno goes past the
            // two above and the module's few remembered ones before it
            // comes back round (4095 versions).
            let mut versions = Vec::new();
            if distinct {
                versions.reserve(count.min(4095));
                for i in 0..count.min(4095) {
                    a.default_errno = Some(1 + i as u16);
                    versions.push(a.to_wire()?);
                }
            }
            let mut c = Client::connect()?;
            if promote {
                c.set_policy(r.id, &wa)?;
                c.set_shadow(r.id, &wb)?;
            }
            let mut v = Vec::with_capacity(count);
            let start = Instant::now();
            for i in 0..count {
                let t = Instant::now();
                if promote {
                    c.promote(r.id)?;
                } else if distinct {
                    c.set_policy(r.id, &versions[i % versions.len()])?;
                } else {
                    c.set_policy(r.id, if i % 2 == 0 { &wa } else { &wb })?;
                }
                v.push(t.elapsed().as_nanos() as f64 / 1000.0);
            }
            let total = start.elapsed().as_secs_f64();
            v.sort_by(f64::total_cmp);
            let what = if promote { "promotes" } else { "replaces" };
            outln!(
                "p50 {:.1} p99 {:.1} max {:.1} us over {count} {what} of {} bytes; {:.0} {what}/s",
                pct(&v, 0.5),
                pct(&v, 0.99),
                pct(&v, 1.0),
                wa.len(),
                count as f64 / total
            )?;
            Ok(Code::Ok)
        }
        BenchCmd::Load {
            parent,
            file,
            caps,
            count,
            distinct,
            remove,
            batch,
        } => {
            let mut c = Client::connect()?;
            if remove {
                for i in 0..count {
                    let d = format!("{parent}/c{i}");
                    if let Ok(md) = std::fs::metadata(&d) {
                        let _ = c.delete_policy(md.ino());
                        let _ = std::fs::remove_dir(&d);
                    }
                }
                return Ok(Code::Ok);
            }
            let dummy = Resolved { id: 0, dir: None };
            let base = load_policy(&file, &dummy, Caps::IfProfile(&caps), false)?;
            let shared = base.to_wire()?;
            let start = Instant::now();
            // Where the time goes: encoding the policies here, against the
            // requests (the kernel's compile and publish, and the round
            // trip), timed apart.
            let mut encode = std::time::Duration::ZERO;
            let mut pending: Vec<(u64, Vec<u8>)> = Vec::new();
            for i in 0..count {
                let d = format!("{parent}/c{i}");
                std::fs::create_dir_all(&d).map_err(|e| crate::cli::Error::file(&d, e))?;
                let id = std::fs::metadata(&d)?.ino();
                if distinct {
                    let t = Instant::now();
                    let wire = distinct_policy(&base, i)?;
                    encode += t.elapsed();
                    pending.push((id, wire));
                } else {
                    pending.push((id, shared.clone()));
                }
                if pending.len() >= batch.max(1) {
                    send(&mut c, &mut pending)?;
                }
            }
            send(&mut c, &mut pending)?;
            let s = start.elapsed().as_secs_f64();
            outln!(
                "{count} cgroups loaded in {s:.3} s ({:.1} us each), {} policies; encoding {:.3} s",
                s * 1e6 / count.max(1) as f64,
                if distinct { "distinct" } else { "identical" },
                encode.as_secs_f64()
            )?;
            Ok(Code::Ok)
        }
        BenchCmd::Encode {
            file,
            caps,
            count,
            compile: true,
        } => {
            let dummy = Resolved { id: 0, dir: None };
            let mut a = load_policy(&file, &dummy, Caps::IfProfile(&caps), false)?;
            if a.default != ActionName::Errno {
                return Err("encode --compile wants a profile whose default is errno".into());
            }
            // The first of apply-latency --distinct's versions.
            a.default_errno = Some(1);
            let wire = a.to_wire()?;
            let nest = crate::policy::native::policy_attr(&wire)
                .ok_or("policy too large for one netlink attribute")?;
            let policy = sysfence_abi::nla::Iter::new(&nest)
                .next()
                .and_then(Result::ok)
                .ok_or("internal encoding error")?;
            // One scratch for every compile, as the module keeps one.
            let mut scratch = Box::new(sysfence_abi::engine::Scratch::ZERO);
            let start = Instant::now();
            for _ in 0..count {
                let p = std::hint::black_box(&policy);
                let c = sysfence_abi::owned::Compiled::new(p, &mut scratch)
                    .map_err(|e| crate::cli::Error::from(e.text()))?;
                std::hint::black_box(&c);
            }
            let s = start.elapsed().as_secs_f64();
            outln!(
                "{count} policies of {} bytes validated and compiled in {s:.3} s ({:.2} us each)",
                wire.len(),
                s * 1e6 / count.max(1) as f64
            )?;
            Ok(Code::Ok)
        }
        BenchCmd::Encode {
            file, caps, count, ..
        } => {
            let dummy = Resolved { id: 0, dir: None };
            let base = load_policy(&file, &dummy, Caps::IfProfile(&caps), false)?;
            let mut bytes = 0usize;
            let start = Instant::now();
            for i in 0..count {
                bytes += distinct_policy(&base, i)?.len();
            }
            let s = start.elapsed().as_secs_f64();
            outln!(
                "{count} distinct policies encoded in {s:.3} s ({:.2} us each, {} bytes on average)",
                s * 1e6 / count.max(1) as f64,
                bytes / count.max(1)
            )?;
            Ok(Code::Ok)
        }
    }
}
