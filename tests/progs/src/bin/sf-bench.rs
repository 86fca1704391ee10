// SPDX-License-Identifier: GPL-2.0
//! `sf-bench [--abi x86_64|ia32] NR ITERATIONS REPEATS [ARG...]`: time a raw
//! syscall; `sf-bench --open PATH ITERATIONS REPEATS`: time an
//! `open(PATH, O_RDONLY)` + `close` pair; `sf-bench --run REPEATS -- CMD...`:
//! time whole runs of a command (fork, exec, wait), in ns per run;
//! `sf-bench --run-cpu REPEATS -- CMD...`: the same, counting the CPU time
//! of the caller's cgroup (cpu.stat `usage_usec`) instead, so that time the
//! guest spends idle waiting for a timer is left out;
//! `sf-bench --seccomp-install BPF_FILE N`: time installing a seccomp
//! filter, once in each of N fresh children (`p50 P p99 Q max M ns`).
//! `sf-bench --exec CMD...`: exec CMD (after `--seccomp`, a server started
//! under the filter, as runc starts a container's program).
//! A leading `--seccomp BPF_FILE` installs that raw filter (as libseccomp
//! exported it) on sf-bench first, so every case runs under seccomp. Each repeat issues the call ITERATIONS times and measures
//! CLOCK_MONOTONIC around the loop; prints
//! `median M min A max B ns/call over REPEATS repeats` (one decimal).
//! Under `qemu/run --icount` guest nanoseconds are guest instructions, so
//! the figures are instructions per call (loop overhead included, a few
//! instructions, the same for every case compared).

use std::time::Instant;
use sysfence_testprogs::{parse_arg, raw_syscall, Abi};

/// Times `open(path)` + `close` pairs, printed as the raw call's figures.
fn open_close(args: &[String]) -> ! {
    let (Some(path), Some(iters), Some(reps)) = (
        args.first(),
        args.get(1).and_then(|s| s.parse::<u32>().ok()),
        args.get(2).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        usage("--open PATH ITERATIONS REPEATS")
    };
    if iters == 0 || reps == 0 {
        usage("ITERATIONS and REPEATS must be at least 1");
    }
    let c = std::ffi::CString::new(path.as_str()).unwrap_or_else(|_| usage("NUL in PATH"));
    let mut per_call: Vec<f64> = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        for _ in 0..iters {
            // SAFETY: open of a valid C string; closes what it opened.
            unsafe {
                let fd = libc::open(c.as_ptr(), libc::O_RDONLY);
                if fd < 0 {
                    usage(&format!("cannot open {path}"));
                }
                libc::close(fd);
            }
        }
        per_call.push(t.elapsed().as_nanos() as f64 / f64::from(iters));
    }
    print_stats(per_call, "ns/call")
}

/// Installs a raw seccomp BPF program on the calling thread.
fn install_seccomp(bpf: &[u8]) -> i64 {
    let prog = libc::sock_fprog {
        len: (bpf.len() / 8) as u16,
        filter: bpf.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` points to `len` 8-byte BPF instructions, alive for the
    // call; we run as root (no_new_privs not needed).
    unsafe { libc::syscall(libc::SYS_seccomp, 1, 0, &prog as *const libc::sock_fprog) }
}

fn read_bpf(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| usage(&format!("{path}: {e}")))
}

fn print_stats(mut v: Vec<f64>, unit: &str) -> ! {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    println!(
        "median {:.1} min {:.1} max {:.1} {unit} over {n} repeats",
        v[n / 2],
        v[0],
        v[n - 1]
    );
    std::process::exit(0)
}

fn run_cmd(args: &[String], cpu: bool) -> ! {
    let reps: usize = args
        .first()
        .and_then(|s| s.parse().ok())
        .filter(|r| *r > 0)
        .unwrap_or_else(|| usage("--run REPEATS -- CMD..."));
    let cmd = match args.get(1).map(String::as_str) {
        Some("--") => args.get(2..).unwrap_or(&[]),
        _ => args.get(1..).unwrap_or(&[]),
    };
    let Some((prog, rest)) = cmd.split_first() else {
        usage("--run needs a command")
    };
    let mut v = Vec::with_capacity(reps);
    // CPU time of this process's cgroup (`usage_usec` in cpu.stat, kept
    // whether or not the cpu controller is on, exited tasks included), so
    // that time the guest spends idle, waiting for a timer, is not counted.
    let cg_usage = || -> Option<u64> {
        let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
        let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
        let stat = std::fs::read_to_string(format!("/sys/fs/cgroup{path}/cpu.stat")).ok()?;
        stat.lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .and_then(|v| v.trim().parse().ok())
    };
    // One untimed run first: page cache and dentries warm, as for the rest.
    for i in 0..=reps {
        let t = Instant::now();
        let u0 = if cpu { cg_usage() } else { None };
        let st = std::process::Command::new(prog)
            .args(rest)
            .status()
            .unwrap_or_else(|e| usage(&format!("{prog}: {e}")));
        if !st.success() {
            usage(&format!("{prog} failed: {st}"));
        }
        if i > 0 {
            match (u0, cg_usage()) {
                (Some(a), Some(b)) => v.push(b.saturating_sub(a) as f64 * 1000.0),
                _ if cpu => usage("--run-cpu: cannot read this cgroup's cpu.stat"),
                _ => v.push(t.elapsed().as_nanos() as f64),
            }
        }
    }
    print_stats(v, if cpu { "cpu-ns/run" } else { "ns/run" })
}

/// Replaces this process with `args` (the filter installed, if any, stays:
/// seccomp filters are inherited across execve).
fn exec_cmd(args: &[String]) -> ! {
    use std::os::unix::process::CommandExt;
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let Some((prog, rest)) = args.split_first() else {
        usage("--exec needs a command")
    };
    let e = std::process::Command::new(prog).args(rest).exec();
    usage(&format!("{prog}: {e}"))
}

fn seccomp_install(args: &[String]) -> ! {
    let (Some(file), Some(n)) = (
        args.first(),
        args.get(1).and_then(|s| s.parse::<usize>().ok()),
    ) else {
        usage("--seccomp-install BPF_FILE N")
    };
    let bpf = read_bpf(file);
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let mut fds = [0i32; 2];
        // SAFETY: a pipe for the child's one measurement.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            usage("pipe failed");
        }
        // SAFETY: fork of a single-threaded process; the child installs
        // the filter, writes 8 bytes and _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            let t = Instant::now();
            let rc = install_seccomp(&bpf);
            let ns: u64 = if rc == 0 {
                t.elapsed().as_nanos() as u64
            } else {
                u64::MAX
            };
            // SAFETY: write to our pipe, then exit at once.
            unsafe {
                libc::write(fds[1], ns.to_ne_bytes().as_ptr().cast(), 8);
                libc::_exit(0);
            }
        }
        let mut b = [0u8; 8];
        // SAFETY: read from our pipe, wait for our child, close the pipe.
        unsafe {
            libc::close(fds[1]);
            libc::read(fds[0], b.as_mut_ptr().cast(), 8);
            libc::close(fds[0]);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
        let ns = u64::from_ne_bytes(b);
        if ns == u64::MAX {
            usage("seccomp() refused the filter");
        }
        v.push(ns as f64);
    }
    v.sort_by(f64::total_cmp);
    let p = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "p50 {:.0} p99 {:.0} max {:.0} ns over {n} installs",
        p(0.5),
        p(0.99),
        p(1.0)
    );
    std::process::exit(0)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--seccomp") {
        let bpf = read_bpf(
            args.get(1)
                .map(String::as_str)
                .unwrap_or_else(|| usage("--seccomp BPF_FILE")),
        );
        if install_seccomp(&bpf) != 0 {
            usage("seccomp() refused the filter");
        }
        args.drain(..2);
    }
    match args.first().map(String::as_str) {
        Some("--run") => run_cmd(&args[1..], false),
        Some("--run-cpu") => run_cmd(&args[1..], true),
        Some("--seccomp-install") => seccomp_install(&args[1..]),
        Some("--exec") => exec_cmd(&args[1..]),
        _ => {}
    }
    if args.first().map(String::as_str) == Some("--open") {
        open_close(&args[1..]);
    }
    let mut abi = Abi::NATIVE;
    if args.first().map(String::as_str) == Some("--abi") && args.len() > 1 {
        abi = args[1].parse::<Abi>().unwrap_or_else(|e: String| usage(&e));
        args.drain(..2);
    }
    if args.len() < 3 || args.len() > 9 {
        usage("want NR ITERATIONS REPEATS [ARG...]");
    }
    let nr = parse_arg(&args[0]).unwrap_or_else(|e| usage(&e));
    let iters: u32 = args[1].parse().unwrap_or_else(|_| usage("bad ITERATIONS"));
    let reps: usize = args[2].parse().unwrap_or_else(|_| usage("bad REPEATS"));
    if iters == 0 || reps == 0 {
        usage("ITERATIONS and REPEATS must be at least 1");
    }
    let mut regs = [0u64; 6];
    for (slot, s) in regs.iter_mut().zip(&args[3..]) {
        *slot = parse_arg(s).unwrap_or_else(|e| usage(&e));
    }
    let mut per_call: Vec<f64> = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        for _ in 0..iters {
            // SAFETY: the benchmark chooses a harmless syscall.
            std::hint::black_box(unsafe { raw_syscall(abi, nr, std::hint::black_box(regs)) });
        }
        per_call.push(t.elapsed().as_nanos() as f64 / f64::from(iters));
    }
    print_stats(per_call, "ns/call")
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "sf-bench: {msg}\nusage: sf-bench [--abi x86_64|ia32] NR ITERATIONS REPEATS [ARG...]"
    );
    std::process::exit(2)
}
