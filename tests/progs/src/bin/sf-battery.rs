// SPDX-License-Identifier: GPL-2.0
//! `sf-battery [--one-per-child] seccomp BPF_FILE | cgroup CGROUP_DIR | none | list`:
//! the differential battery, on x86_64 (x86_64 and ia32 calls) and on
//! aarch64 (aarch64 and AArch32 `arm` calls). A child first puts itself under the filter
//! (installs the raw seccomp BPF program libseccomp made from a profile, or
//! moves into the cgroup that has the sysfence policy made from the same
//! profile), then issues the battery's raw syscalls one after the other,
//! storing each outcome in memory shared with the parent (no syscall in
//! between). A call that kills the child (KILL, TRAP) is recorded as that
//! signal and a new child carries on from the next call, so every call is
//! decided as in a child of its own, at a handful of forks per battery
//! instead of one per call (`--one-per-child` forks for every call, the
//! reference t-differential checks this against). Prints one line per invocation:
//! `ABI NAME ARGS => ok | err N | sig N` (`list`: the calls, none made). Running it in both modes and
//! diffing the output compares the two filters call for call.
//!
//! An AArch64 process cannot make an AArch32 call: for a run of `arm`
//! calls the child execs `sf-call32` (an AArch32 program beside this one,
//! `tests/progs/aarch32/`), which maps the same shared memory (a memfd,
//! which also holds the calls), enters the filter itself and makes the
//! calls as a child here does.
//!
//! Invocations are chosen to have no lasting effect whatever the filter:
//! invalid descriptors, pointers and flags, so that an allowed call fails
//! in the kernel (EBADF, EFAULT, EINVAL) rather than doing anything, so
//! that no outcome depends on the calls made before it in the same child.

use std::io::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use sysfence_abi::names;
use sysfence_abi::proto::Abi;
use sysfence_testprogs::{raw_syscall, Abi as Entry};

const M1: u64 = u64::MAX; // -1
/// A call that makes no progress for this long is ended by SIGALRM.
const STALL_SECS: u64 = 5;

/// Calls that, even with invalid arguments, would block, end the child
/// before it reports, touch the terminal or leave state behind: left out of
/// the generated part (the harmless ones among them are called properly
/// below).
const SKIP: &[&str] = &[
    "pause",
    "exit",
    "exit_group",
    "fork",
    "vfork",
    "rt_sigreturn",
    "vhangup",
    "restart_syscall",
    "alarm",
    "sched_yield",
    "set_tid_address",
    "sync",
    "syncfs",
    "munlockall",
    "setsid",
    "brk",
    "uselib",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    // System V IPC objects are global: with key -1 and every flag, the first
    // run would create one and every later run see EEXIST.
    "msgget",
    "semget",
    "shmget",
];

fn invocations() -> Vec<(Abi, &'static str, [u64; 6])> {
    let mut v = Vec::new();
    // Every native syscall (but the ones above) with all arguments -1.
    let x = NATIVE;
    for (_, name) in names::table(x) {
        if !SKIP.contains(name) {
            v.push((x, *name, [M1; 6]));
        }
    }
    // Calls whose outcome depends on their arguments (as in container
    // profiles): sockets by family, personality values, clone flags
    // (invalid combinations, so an allowed clone fails: CLONE_THREAD
    // without CLONE_SIGHAND is EINVAL), ioctl and prctl requests.
    for fam in [1u64, 2, 10, 16, 17, 40] {
        v.push((x, "socket", [fam, 0xffff, 0, 0, 0, 0]));
    }
    for p in [0u64, 8, 0x20000, 0x20008, 0xffff_ffff, 1, 0x0040_0000] {
        v.push((x, "personality", [p, 0, 0, 0, 0, 0]));
    }
    for f in CLONE_FLAGS {
        v.push((x, "clone", [f, 0, 0, 0, 0, 0]));
    }
    v.push((x, "clone3", [0, 0, 0, 0, 0, 0]));
    for (nr_name, a0) in [
        ("getpid", 0u64),
        ("getppid", 0),
        ("gettid", 0),
        ("getuid", 0),
        ("sched_yield", 0),
    ] {
        v.push((x, nr_name, [a0, 0, 0, 0, 0, 0]));
    }
    compat_invocations(&mut v);
    v
}

/// The native ABI, whose every call the battery makes.
#[cfg(target_arch = "x86_64")]
const NATIVE: Abi = Abi::X86_64;
#[cfg(target_arch = "aarch64")]
const NATIVE: Abi = Abi::Aarch64;

/// clone flags, each with CLONE_THREAD and without CLONE_SIGHAND (EINVAL
/// when allowed), with the namespace flags profiles decide on.
const CLONE_FLAGS: [u64; 7] = [
    0x10000,
    0x1001_0000,
    0x2001_0000,
    0x4001_0000,
    0x0801_0000,
    0x0201_0000,
    0x0401_0000,
];

/// A cross-section of ia32's calls, plain and argument-dependent, all
/// arguments -1: the ones profiles decide on, and ordinary ones.
#[cfg(target_arch = "x86_64")]
const COMPAT_SAMPLE: &[&str] = &[
    "getpid",
    "getppid",
    "read",
    "write",
    "open",
    "close",
    "mount",
    "umount2",
    "reboot",
    "ptrace",
    "chroot",
    "socketcall",
    "ioctl",
    "kexec_load",
    "swapon",
    "acct",
    "settimeofday",
    "sethostname",
    "init_module",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "unshare",
    "setns",
    "open_by_handle_at",
];

/// ia32 (int $0x80): the cross-section, sockets and personality by value,
/// and the multiplexers.
#[cfg(target_arch = "x86_64")]
fn compat_invocations(v: &mut Vec<(Abi, &'static str, [u64; 6])>) {
    let i = Abi::Ia32;
    for name in COMPAT_SAMPLE {
        v.push((i, *name, [M1; 6]));
    }
    for fam in [2u64, 40] {
        v.push((i, "socket", [fam, 0xffff, 0, 0, 0, 0]));
    }
    for p in [0u64, 8, 1] {
        v.push((i, "personality", [p, 0, 0, 0, 0, 0]));
    }
    // The ia32 multiplexers: every socketcall call, and every SysV IPC call
    // through ipc, by number. The arguments are in memory at NULL (EFAULT
    // when allowed), or are an invalid id with no creation flags (nothing
    // is created).
    for call in 1..=20u64 {
        v.push((i, "socketcall", [call, 0, 0, 0, 0, 0]));
    }
    for call in [1u64, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24] {
        v.push((i, "ipc", [call, M1, 0, 0, 0, 0]));
    }
}

/// AArch32 (`arm`, through sf-call32): every call of the ABI (but the
/// ones above and sigreturn and sigsuspend, which would end the program or
/// block), all arguments -1, as for the native ABI: EABI's own calls, the
/// 16-bit uid ones, and ARM's private calls at 0x0f0001 and up (decided
/// as the ABI's 1017 and up: `cacheflush(-1, -1, -1)` is EINVAL, `set_tls`
/// sets sf-call32's own TLS register, the others are ENOSYS on arm64);
/// then sockets, personality and clone flags by value, and the calls left
/// out above with harmless arguments.
#[cfg(target_arch = "aarch64")]
fn compat_invocations(v: &mut Vec<(Abi, &'static str, [u64; 6])>) {
    let a = Abi::Arm;
    for (_, name) in names::table(a) {
        if !SKIP.contains(name) && !["sigreturn", "sigsuspend"].contains(name) {
            v.push((a, *name, [M1; 6]));
        }
    }
    for fam in [2u64, 40] {
        v.push((a, "socket", [fam, 0xffff, 0, 0, 0, 0]));
    }
    for p in [0u64, 8, 1] {
        v.push((a, "personality", [p, 0, 0, 0, 0, 0]));
    }
    for f in CLONE_FLAGS {
        v.push((a, "clone", [f, 0, 0, 0, 0, 0]));
    }
    for name in [
        "getpid",
        "getppid",
        "gettid",
        "getuid",
        "getuid32",
        "sched_yield",
    ] {
        v.push((a, name, [0; 6]));
    }
}

enum Mode {
    /// The BPF program, and its file (for sf-call32).
    Seccomp(Vec<u8>, std::fs::File),
    Cgroup(std::fs::File),
    None,
    /// Print the calls, make none.
    List,
}

fn enter(mode: &Mode) -> Result<(), String> {
    match mode {
        Mode::None | Mode::List => Ok(()),
        Mode::Cgroup(f) => {
            // SAFETY: write(2) of "0" (this task) to the cgroup's
            // cgroup.procs, an open file.
            let r =
                unsafe { libc::write(std::os::fd::AsRawFd::as_raw_fd(f), b"0".as_ptr().cast(), 1) };
            if r == 1 {
                Ok(())
            } else {
                Err(format!("cgroup.procs: {}", std::io::Error::last_os_error()))
            }
        }
        Mode::Seccomp(bpf, _) => {
            let prog = libc::sock_fprog {
                len: (bpf.len() / 8) as u16,
                filter: bpf.as_ptr() as *mut libc::sock_filter,
            };
            // SAFETY: `prog` points to the BPF instructions libseccomp
            // exported (8 bytes each), alive for the call; we are root, so
            // no_new_privs is not needed (runc does not set it either).
            let r = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    1, /* SECCOMP_SET_MODE_FILTER */
                    0,
                    &prog as *const libc::sock_fprog,
                )
            };
            if r == 0 {
                Ok(())
            } else {
                Err(format!("seccomp: {}", std::io::Error::last_os_error()))
            }
        }
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let one_per_child = args.first().is_some_and(|a| a == "--one-per-child");
    if one_per_child {
        args.remove(0);
    }
    let mode = match (args.first().map(String::as_str), args.get(1)) {
        (Some("seccomp"), Some(f)) => Mode::Seccomp(
            std::fs::read(f).unwrap_or_else(|e| die(&format!("{f}: {e}"))),
            std::fs::File::open(f).unwrap_or_else(|e| die(&format!("{f}: {e}"))),
        ),
        (Some("cgroup"), Some(d)) => Mode::Cgroup(
            std::fs::OpenOptions::new()
                .write(true)
                .open(format!("{d}/cgroup.procs"))
                .unwrap_or_else(|e| die(&format!("{d}: {e}"))),
        ),
        (Some("none"), None) => Mode::None,
        (Some("list"), None) => Mode::List,
        _ => die("usage: sf-battery [--one-per-child] seccomp BPF_FILE | cgroup CGROUP_DIR | none | list"),
    };
    let mut calls = Vec::new();
    let mut shown = Vec::new();
    for (abi, name, a) in invocations() {
        let Some(nr) = names::number(abi, name) else {
            die(&format!("no {} call named {name}", abi.name()));
        };
        let Some((way, nr)) = way(abi, nr) else {
            continue;
        };
        calls.push(Call { way, nr, args: a });
        let args: Vec<String> = a
            .iter()
            .map(|v| {
                if *v == M1 {
                    "-1".into()
                } else {
                    format!("{v:#x}")
                }
            })
            .collect();
        shown.push(format!("{} {name}({})", abi.name(), args.join(",")));
    }
    if let Mode::List = mode {
        for call in &shown {
            println!("{call}");
        }
        return;
    }
    let outcomes = run_battery(&mode, &calls, one_per_child);
    let out = std::io::stdout();
    let mut out = out.lock();
    for (call, outcome) in shown.iter().zip(&outcomes) {
        let _ = writeln!(out, "{call} => {outcome}");
    }
}

/// One outcome slot per invocation, plus a progress counter, in memory
/// shared with the children (`MAP_SHARED`), so that a child reports each
/// outcome with a plain store: no syscall, which the filter under test
/// might refuse, between two calls of the battery. The memory is a memfd,
/// which sf-call32 maps too (an exec'd program shares no mapping); after
/// the slots it holds the calls, 7 32-bit words each (number, arguments),
/// for sf-call32 to read.
struct Slots {
    base: *mut AtomicI64,
    len: usize,
    fd: std::os::fd::OwnedFd,
}

impl Slots {
    fn new(calls: &[Call]) -> Slots {
        use std::os::fd::{AsRawFd, FromRawFd};
        let len = calls.len() + 1;
        let size = len * std::mem::size_of::<AtomicI64>() + calls.len() * 28;
        // SAFETY: memfd_create with a NUL-terminated name; the descriptor
        // it returns is owned by `fd` alone.
        let fd = unsafe {
            let fd = libc::memfd_create(c"sf-battery".as_ptr(), libc::MFD_CLOEXEC);
            if fd < 0 {
                die(&format!(
                    "memfd_create: {}",
                    std::io::Error::last_os_error()
                ));
            }
            std::os::fd::OwnedFd::from_raw_fd(fd)
        };
        let mut file =
            std::fs::File::from(fd.try_clone().unwrap_or_else(|e| die(&format!("dup: {e}"))));
        let mut bytes = vec![0u8; len * std::mem::size_of::<AtomicI64>()];
        for c in calls {
            for w in std::iter::once(c.nr).chain(c.args) {
                bytes.extend_from_slice(&(w as u32).to_le_bytes());
            }
        }
        assert_eq!(bytes.len(), size);
        file.write_all(&bytes)
            .unwrap_or_else(|e| die(&format!("memfd: {e}")));
        // SAFETY: a fresh shared mapping of our own memfd, `size` bytes
        // long; nothing else refers to that address range.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if p == libc::MAP_FAILED {
            die(&format!("mmap: {}", std::io::Error::last_os_error()));
        }
        Slots {
            base: p.cast(),
            len,
            fd,
        }
    }

    /// Slot 0 counts the calls done; slot `i + 1` holds call `i`'s errno
    /// (0 for success).
    fn slot(&self, i: usize) -> &AtomicI64 {
        assert!(i < self.len);
        // SAFETY: `i` is in bounds of the mapping, which lives as long as
        // `self`, is zero-filled (a valid AtomicI64) and suitably aligned.
        unsafe { &*self.base.add(i) }
    }
    fn done(&self) -> &AtomicI64 {
        self.slot(0)
    }
    fn errno(&self, call: usize) -> &AtomicI64 {
        self.slot(call + 1)
    }
}

/// How the battery makes a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    /// A raw syscall from the battery's child, through this entry.
    Raw(Entry),
    /// By `sf-call32`, which the child execs (an AArch32 call).
    #[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
    Exec32,
}

/// One call of the battery: how it is made, the number its entry takes,
/// the arguments.
struct Call {
    way: Way,
    nr: u64,
    args: [u64; 6],
}

/// The child's part: enter the filter, then make calls `from..to` in
/// order, recording each outcome, and exit. Never returns.
fn child(mode: &Mode, calls: &[Call], from: usize, to: usize, slots: &Slots) -> ! {
    if let Err(e) = enter(mode) {
        eprintln!("sf-battery: {e}");
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(200) };
    }
    for (i, c) in calls.iter().enumerate().take(to).skip(from) {
        let Way::Raw(entry) = c.way else {
            // SAFETY: ends the child at once (run_battery never gives a
            // child an exec'd call).
            unsafe { libc::_exit(203) };
        };
        // SAFETY: a raw syscall chosen to have no lasting effect (see the
        // module comment).
        let r = unsafe { raw_syscall(entry, c.nr, c.args) };
        let code = if (-4095..0).contains(&r) { -r } else { 0 };
        slots.errno(i).store(code, Ordering::SeqCst);
        slots.done().store(i as i64 + 1, Ordering::SeqCst);
    }
    // SAFETY: exit_group, raw, as the battery's calls are; _exit if even
    // that was refused.
    unsafe {
        raw_syscall(
            Entry::NATIVE,
            libc::SYS_exit_group as u64,
            [0, 0, 0, 0, 0, 0],
        );
        libc::_exit(201);
    }
}

/// How a call of `abi` numbered `nr` (in shared-abi's table) is made, and
/// the number its entry takes: on x86_64, `int $0x80` for ia32 and
/// `syscall` for x86_64 and x32 (whose numbers carry the x32 bit).
#[cfg(target_arch = "x86_64")]
fn way(abi: Abi, nr: u32) -> Option<(Way, u64)> {
    let entry = if abi == Abi::Ia32 {
        Entry::Ia32Int80
    } else {
        Entry::X86_64
    };
    Some((Way::Raw(entry), u64::from(nr)))
}

/// On aarch64: `svc #0` for aarch64 calls; `arm` calls through sf-call32,
/// with ARM's private calls at their real numbers (0x0f0001 and up, which
/// the table folds to 1017 and up: `proto::arm_fold`).
#[cfg(target_arch = "aarch64")]
fn way(abi: Abi, nr: u32) -> Option<(Way, u64)> {
    use sysfence_abi::proto::{ARM_PRIVATE_BASE, ARM_PRIVATE_COUNT, ARM_PRIVATE_FOLD};
    match abi {
        Abi::Aarch64 => Some((Way::Raw(Entry::Aarch64), u64::from(nr))),
        Abi::Arm if nr.wrapping_sub(ARM_PRIVATE_FOLD) < ARM_PRIVATE_COUNT => Some((
            Way::Exec32,
            u64::from(ARM_PRIVATE_BASE + (nr - ARM_PRIVATE_FOLD)),
        )),
        Abi::Arm => Some((Way::Exec32, u64::from(nr))),
        _ => None,
    }
}

/// `sf-call32`, the AArch32 program beside this one that makes `arm` calls.
fn call32_path() -> std::ffi::CString {
    let exe = std::env::current_exe().unwrap_or_else(|e| die(&format!("current_exe: {e}")));
    let path = exe.with_file_name("sf-call32");
    if !path.exists() {
        die(&format!("no {} for the AArch32 calls", path.display()));
    }
    std::ffi::CString::new(path.into_os_string().into_encoded_bytes())
        .unwrap_or_else(|_| die("sf-call32's path has a NUL"))
}

/// The child's part for a run of `arm` calls: sf-call32 gets the shared
/// file as descriptor 3 and the filter's (the BPF program or
/// cgroup.procs) as 4, enters the filter itself and makes calls `from..to`
/// (`argv`, made before the fork: `N FROM TO MODE LEN`). Never returns.
fn exec32_child(
    mode: &Mode,
    slots: &Slots,
    helper: &std::ffi::CStr,
    argv: &[std::ffi::CString],
) -> ! {
    use std::os::fd::AsRawFd;
    let mut ptrs: Vec<*const libc::c_char> = std::iter::once(helper.as_ptr())
        .chain(argv.iter().map(|a| a.as_ptr()))
        .collect();
    ptrs.push(std::ptr::null());
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let filter_fd = match mode {
        Mode::Seccomp(_, f) | Mode::Cgroup(f) => Some(f.as_raw_fd()),
        Mode::None | Mode::List => None,
    };
    // SAFETY: our own descriptors, copied above 9 first (so that neither
    // is already 3 or 4, where dup2 would do nothing and leave it
    // close-on-exec, nor overwritten by the other's dup2), then onto 3 and
    // 4 (dup2 clears close-on-exec); then execve with NULL-terminated
    // arrays of C strings that live until the exec; _exit if anything
    // fails.
    unsafe {
        let shared = libc::fcntl(slots.fd.as_raw_fd(), libc::F_DUPFD, 10);
        let filter = filter_fd.map(|f| libc::fcntl(f, libc::F_DUPFD, 10));
        if shared < 0 || filter.is_some_and(|f| f < 0) || libc::dup2(shared, 3) != 3 {
            libc::_exit(202);
        }
        if let Some(f) = filter {
            if libc::dup2(f, 4) != 4 {
                libc::_exit(202);
            }
        }
        libc::execve(helper.as_ptr(), ptrs.as_ptr(), envp.as_ptr());
        libc::_exit(202);
    }
}

/// sf-call32's arguments for calls `from..to` of `n`.
fn exec32_args(mode: &Mode, n: usize, from: usize, to: usize) -> Vec<std::ffi::CString> {
    let (m, len) = match mode {
        Mode::Seccomp(bpf, _) => ("s", bpf.len()),
        Mode::Cgroup(_) => ("c", 0),
        Mode::None | Mode::List => ("n", 0),
    };
    [
        n.to_string(),
        from.to_string(),
        to.to_string(),
        m.to_string(),
        len.to_string(),
    ]
    .into_iter()
    .map(|a| std::ffi::CString::new(a).expect("no NUL in a number"))
    .collect()
}

/// Waits for `pid`; if it makes no progress for `STALL_SECS` (a call that
/// blocks), sends it SIGALRM, as the alarm of a one-call child would.
/// Returns its wait status.
fn reap(pid: libc::pid_t, slots: &Slots) -> i32 {
    let mut last = slots.done().load(Ordering::SeqCst);
    let mut since = std::time::Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: waits for our own child without blocking.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return status;
        }
        if r < 0 {
            die(&format!("waitpid: {}", std::io::Error::last_os_error()));
        }
        let now = slots.done().load(Ordering::SeqCst);
        if now != last {
            last = now;
            since = std::time::Instant::now();
        } else if since.elapsed().as_secs() >= STALL_SECS {
            // SAFETY: signals our own child, which has not been reaped.
            unsafe { libc::kill(pid, libc::SIGALRM) };
            since = std::time::Instant::now();
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Runs every call, as few children as it takes: a child carries on
/// through the battery until a call kills it; the next child starts at the
/// call after that one. An exec'd call (AArch32) always gets a child of
/// its own, and ends a child's run of calls. With `one_per_child`, every
/// call gets a child of its own (the reference the batched run must
/// equal). Returns each call's outcome.
fn run_battery(mode: &Mode, calls: &[Call], one_per_child: bool) -> Vec<String> {
    let slots = Slots::new(calls);
    let helper = calls.iter().any(|c| c.way == Way::Exec32).then(call32_path);
    let mut outcomes = Vec::with_capacity(calls.len());
    while outcomes.len() < calls.len() {
        let from = outcomes.len();
        // A child makes the calls of one way (raw, or through sf-call32)
        // from here on.
        let way = calls[from].way;
        let end = calls[from..]
            .iter()
            .position(|c| c.way != way)
            .map_or(calls.len(), |p| from + p);
        let to = if one_per_child { from + 1 } else { end };
        let argv = (way == Way::Exec32).then(|| exec32_args(mode, calls.len(), from, to));
        slots.done().store(from as i64, Ordering::SeqCst);
        // SAFETY: fork in a single-threaded program; the child makes only
        // the battery's raw calls and stores to the shared slots.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            die(&format!("fork: {}", std::io::Error::last_os_error()));
        }
        if pid == 0 {
            match (&argv, &helper) {
                (Some(argv), Some(h)) => exec32_child(mode, &slots, h, argv),
                _ => child(mode, calls, from, to, &slots),
            }
        }
        let status = reap(pid, &slots);
        let done = usize::try_from(slots.done().load(Ordering::SeqCst)).unwrap_or(from);
        for i in from..done {
            outcomes.push(match slots.errno(i).load(Ordering::SeqCst) {
                0 => "ok".to_string(),
                e => format!("err {}", e.min(199)),
            });
        }
        if libc::WIFSIGNALED(status) {
            // Call `done` killed the child (or blocked until SIGALRM).
            if done < to {
                outcomes.push(format!("sig {}", libc::WTERMSIG(status)));
            }
        } else {
            match libc::WEXITSTATUS(status) {
                0 if done == to => {}
                200 => die("the child could not enter the filter"),
                202 => die("the child could not exec sf-call32"),
                210 => die("sf-call32 could not map the shared file"),
                c => die(&format!(
                    "a child ended with status {c} after {done} of {} calls",
                    calls.len()
                )),
            }
        }
    }
    outcomes
}

fn die(msg: &str) -> ! {
    eprintln!("sf-battery: {msg}");
    std::process::exit(2)
}
