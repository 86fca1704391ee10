// SPDX-License-Identifier: GPL-2.0
//! `sf-obj`: exact object operations for the object-rule tests. Each prints
//! `ok` or `err ERRNO` (exit 0 either way; 2 on a usage error):
//!
//! - `sf-obj open PATH [r|w|rw|c] [--dirfd DIR] [--openat2]`: open (with
//!   `openat(DIR, PATH)` or `openat2`), `c` = O_CREAT|O_WRONLY.
//! - `sf-obj exec PATH [ARG...]` / `sf-obj execveat DIR NAME [ARG...]`:
//!   replace this process (on success the program's own output follows).
//! - `sf-obj socket FAMILY TYPE PROTO`: numbers.
//! - `sf-obj connect|bind inet|inet6 ADDR PORT` / `... unix PATH` (`@name`:
//!   abstract); stream sockets; `--dgram` before the family for datagram.
//! - `sf-obj race ALLOWED DENIED SECS`: one thread opens a path buffer in
//!   a loop while another rewrites it between the two paths; prints `opens
//!   N allowed A denied D leaks L` and exits 1 if any open returned the
//!   denied file (same device and inode).
//! - `sf-obj threads N TRIGGER NR`: N threads wait for the file TRIGGER,
//!   then each issues syscall NR once and prints `thread I: ok|err E`.
//! - `sf-obj clone-into CGROUP_DIR NR`: a child made with clone3 and
//!   CLONE_INTO_CGROUP issues syscall NR as its first call; prints its
//!   outcome.
//! - `sf-obj unshare FLAGS NR`: `unshare(FLAGS)` (a number, e.g. 0x2000000
//!   for a cgroup namespace), then syscall NR from the same process; prints
//!   `unshare ok|err E` and the call's outcome as `ok RET|err E`.
//! - `sf-obj storm SECS PATH PORT`: open/close PATH and connect to
//!   127.0.0.1:PORT in a loop for SECS, for rmmod and concurrency tests;
//!   prints `storm N opened K`: N rounds, K opens that succeeded.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn report(rc: i64) {
    if rc < 0 {
        println!("err {}", errno());
    } else {
        println!("ok");
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("sf-obj: {msg} (see the source for the commands)");
    std::process::exit(2)
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| usage("NUL in an argument"))
}

fn flags_of(mode: &str) -> i32 {
    match mode {
        "r" => libc::O_RDONLY,
        "w" => libc::O_WRONLY,
        "rw" => libc::O_RDWR,
        "c" => libc::O_WRONLY | libc::O_CREAT,
        _ => usage("mode is r, w, rw or c"),
    }
}

fn open_cmd(args: &[String]) {
    let path = args.first().unwrap_or_else(|| usage("open PATH"));
    let mut mode = "r";
    let mut dir: Option<&str> = None;
    let mut openat2 = false;
    let mut i = 1;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "--dirfd" => {
                dir = Some(args.get(i + 1).unwrap_or_else(|| usage("--dirfd DIR")));
                i += 1;
            }
            "--openat2" => openat2 = true,
            m => mode = m,
        }
        i += 1;
    }
    let dirfd = match dir {
        Some(d) => {
            // SAFETY: plain open of a directory by a valid C string.
            let fd = unsafe { libc::open(cstr(d).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
            if fd < 0 {
                usage(&format!("cannot open {d}"));
            }
            fd
        }
        None => libc::AT_FDCWD,
    };
    let p = cstr(path);
    let flags = flags_of(mode);
    let fd = if openat2 {
        #[repr(C)]
        struct OpenHow {
            flags: u64,
            mode: u64,
            resolve: u64,
        }
        let how = OpenHow {
            flags: flags as u64,
            // openat2 refuses a mode without O_CREAT.
            mode: if flags & libc::O_CREAT != 0 { 0o644 } else { 0 },
            resolve: 0,
        };
        // SAFETY: openat2 with a valid path, a valid open_how and its size.
        unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dirfd,
                p.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        }
    } else {
        // SAFETY: openat with a valid path.
        i64::from(unsafe { libc::openat(dirfd, p.as_ptr(), flags, 0o644) })
    };
    report(fd);
}

fn exec_cmd(args: &[String], at: bool) -> ! {
    let (dirfd, name, rest) = if at {
        let dir = args.first().unwrap_or_else(|| usage("execveat DIR NAME"));
        // SAFETY: plain open of a directory.
        let fd = unsafe { libc::open(cstr(dir).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
        if fd < 0 {
            usage(&format!("cannot open {dir}"));
        }
        (
            fd,
            args.get(1).unwrap_or_else(|| usage("execveat DIR NAME")),
            args.get(2..).unwrap_or(&[]),
        )
    } else {
        (
            libc::AT_FDCWD,
            args.first().unwrap_or_else(|| usage("exec PATH")),
            args.get(1..).unwrap_or(&[]),
        )
    };
    let prog = cstr(name);
    let mut argv: Vec<CString> = vec![cstr(name)];
    argv.extend(rest.iter().map(|a| cstr(a)));
    let mut ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    let env: [*const libc::c_char; 1] = [std::ptr::null()];
    // SAFETY: NULL-terminated argv and envp of valid C strings.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            dirfd,
            prog.as_ptr(),
            ptrs.as_ptr(),
            env.as_ptr(),
            0,
        )
    };
    println!("err {}", errno());
    std::process::exit(0)
}

/// A sockaddr for `family ADDR [PORT]`, as bytes.
fn sockaddr(family: &str, rest: &[String]) -> (i32, Vec<u8>) {
    match family {
        "inet" | "inet6" => {
            let addr = rest.first().unwrap_or_else(|| usage("ADDR PORT"));
            let port: u16 = rest
                .get(1)
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| usage("PORT"));
            let ip: std::net::IpAddr = addr.parse().unwrap_or_else(|_| usage("bad address"));
            match (family, ip) {
                ("inet", std::net::IpAddr::V4(v4)) => {
                    let mut b = vec![0u8; 16];
                    b[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
                    b[2..4].copy_from_slice(&port.to_be_bytes());
                    b[4..8].copy_from_slice(&v4.octets());
                    (libc::AF_INET, b)
                }
                ("inet6", ip) => {
                    let v6 = match ip {
                        std::net::IpAddr::V6(a) => a,
                        std::net::IpAddr::V4(a) => a.to_ipv6_mapped(),
                    };
                    let mut b = vec![0u8; 28];
                    b[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
                    b[2..4].copy_from_slice(&port.to_be_bytes());
                    b[8..24].copy_from_slice(&v6.octets());
                    (libc::AF_INET6, b)
                }
                _ => usage("inet wants an IPv4 address"),
            }
        }
        "unix" => {
            let path = rest.first().unwrap_or_else(|| usage("unix PATH"));
            let mut b = (libc::AF_UNIX as u16).to_ne_bytes().to_vec();
            match path.strip_prefix('@') {
                Some(name) => {
                    b.push(0);
                    b.extend_from_slice(name.as_bytes());
                }
                None => {
                    b.extend_from_slice(std::ffi::OsStr::new(path).as_bytes());
                    b.push(0);
                }
            }
            (libc::AF_UNIX, b)
        }
        _ => usage("family is inet, inet6 or unix"),
    }
}

fn net_cmd(bind: bool, args: &[String]) {
    let (kind, args) = match args.first().map(String::as_str) {
        Some("--dgram") => (libc::SOCK_DGRAM, args.get(1..).unwrap_or(&[])),
        _ => (libc::SOCK_STREAM, args),
    };
    let family = args.first().unwrap_or_else(|| usage("FAMILY"));
    let (af, sa) = sockaddr(family, args.get(1..).unwrap_or(&[]));
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(af, kind, 0) };
    if fd < 0 {
        println!("err {} (socket)", errno());
        return;
    }
    // SAFETY: `sa` is a sockaddr of `sa.len()` bytes.
    let rc = unsafe {
        if bind {
            libc::bind(fd, sa.as_ptr().cast(), sa.len() as u32)
        } else {
            libc::connect(fd, sa.as_ptr().cast(), sa.len() as u32)
        }
    };
    report(i64::from(rc));
}

fn socket_cmd(args: &[String]) {
    let n = |i: usize| -> i32 {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| usage("socket FAMILY TYPE PROTO"))
    };
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(n(0), n(1), n(2)) };
    report(i64::from(fd));
}

/// The path buffer the race rewrites: fixed size, NUL-terminated.
struct Shared(std::cell::UnsafeCell<[u8; 4096]>);
// SAFETY: the race is the point: one thread writes bytes while the other
// passes the buffer to the kernel, which copies it; no Rust reference to
// the contents is held across the race (only raw pointers are used).
unsafe impl Sync for Shared {}

fn race_cmd(args: &[String]) {
    let allowed = args
        .first()
        .unwrap_or_else(|| usage("race ALLOWED DENIED SECS"));
    let denied = args
        .get(1)
        .unwrap_or_else(|| usage("race ALLOWED DENIED SECS"));
    let secs: f64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| usage("SECS"));
    let meta = std::fs::metadata(denied).unwrap_or_else(|_| usage("cannot stat DENIED"));
    use std::os::unix::fs::MetadataExt;
    let (dev, ino) = (meta.dev(), meta.ino());
    static BUF: Shared = Shared(std::cell::UnsafeCell::new([0; 4096]));
    static STOP: AtomicBool = AtomicBool::new(false);
    let write = |s: &str| {
        let p = BUF.0.get().cast::<u8>();
        // SAFETY: writes within the 4096-byte buffer (paths are short).
        unsafe {
            for (i, b) in s.bytes().chain(std::iter::once(0)).enumerate().take(4095) {
                p.add(i).write_volatile(b);
            }
        }
    };
    write(allowed);
    let (a, d) = (allowed.clone(), denied.clone());
    let flipper = std::thread::spawn(move || {
        while !STOP.load(Ordering::Relaxed) {
            write(&d);
            write(&a);
        }
    });
    let (opens, ok, refused, leaks) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    let end = Instant::now() + Duration::from_secs_f64(secs);
    while Instant::now() < end {
        // SAFETY: the buffer is always NUL-terminated within its size.
        let fd = unsafe { libc::open(BUF.0.get().cast(), libc::O_RDONLY) };
        opens.fetch_add(1, Ordering::Relaxed);
        if fd >= 0 {
            ok.fetch_add(1, Ordering::Relaxed);
            // SAFETY: fstat of our own descriptor into a zeroed struct.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            if unsafe { libc::fstat(fd, &mut st) } == 0 && st.st_dev == dev && st.st_ino == ino {
                leaks.fetch_add(1, Ordering::Relaxed);
            }
            // SAFETY: closes our own descriptor.
            unsafe { libc::close(fd) };
        } else if errno() != libc::ENOENT {
            refused.fetch_add(1, Ordering::Relaxed);
        }
    }
    STOP.store(true, Ordering::Relaxed);
    let _ = flipper.join();
    let l = leaks.load(Ordering::Relaxed);
    println!(
        "opens {} allowed {} denied {} leaks {l}",
        opens.load(Ordering::Relaxed),
        ok.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
    std::process::exit(if l == 0 { 0 } else { 1 });
}

fn storm_cmd(args: &[String]) {
    let secs: f64 = args
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| usage("storm SECS PATH PORT"));
    let path = cstr(args.get(1).unwrap_or_else(|| usage("PATH")));
    let (_, sa) = sockaddr(
        "inet",
        &[
            "127.0.0.1".to_string(),
            args.get(2).cloned().unwrap_or_else(|| usage("PORT")),
        ],
    );
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut n = 0u64;
    let mut opened = 0u64;
    while Instant::now() < end {
        // SAFETY: open/close of a valid path; socket, connect, close.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_RDONLY);
            if fd >= 0 {
                opened += 1;
                libc::close(fd);
            }
            let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            if s >= 0 {
                libc::connect(s, sa.as_ptr().cast(), sa.len() as u32);
                libc::close(s);
            }
        }
        n += 1;
    }
    println!("storm {n} opened {opened}");
}

fn outcome(rc: i64) -> String {
    if (-4095..0).contains(&rc) {
        format!("err {}", -rc)
    } else {
        "ok".to_string()
    }
}

fn threads_cmd(args: &[String]) {
    let (Some(n), Some(trigger), Some(nr)) = (
        args.first().and_then(|s| s.parse::<usize>().ok()),
        args.get(1).cloned(),
        args.get(2).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        usage("threads N TRIGGER NR")
    };
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let trigger = trigger.clone();
            std::thread::spawn(move || {
                while !std::path::Path::new(&trigger).exists() {
                    std::thread::sleep(Duration::from_millis(10));
                }
                // SAFETY: a raw syscall chosen by the test (harmless).
                let rc = unsafe {
                    sysfence_testprogs::raw_syscall(sysfence_testprogs::Abi::NATIVE, nr, [0; 6])
                };
                format!("thread {i}: {}", outcome(rc))
            })
        })
        .collect();
    for h in handles {
        println!("{}", h.join().unwrap_or_else(|_| "thread panicked".into()));
    }
}

fn clone_into_cmd(args: &[String]) {
    let (Some(dir), Some(nr)) = (
        args.first(),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        usage("clone-into CGROUP_DIR NR")
    };
    // SAFETY: plain open of a directory.
    let cg = unsafe { libc::open(cstr(dir).as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY) };
    if cg < 0 {
        usage("cannot open the cgroup directory");
    }
    #[repr(C)]
    #[derive(Default)]
    struct CloneArgs {
        flags: u64,
        pidfd: u64,
        child_tid: u64,
        parent_tid: u64,
        exit_signal: u64,
        stack: u64,
        stack_size: u64,
        tls: u64,
        set_tid: u64,
        set_tid_size: u64,
        cgroup: u64,
    }
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let ca = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cg as u64,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without CLONE_VM: the child is a copy of this process
    // and only makes one raw call, then exits.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &ca as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if pid == 0 {
        // SAFETY: the child's first syscall, then exit with its outcome.
        unsafe {
            let rc = sysfence_testprogs::raw_syscall(sysfence_testprogs::Abi::NATIVE, nr, [0; 6]);
            let code = if (-4095..0).contains(&rc) {
                (-rc).min(200)
            } else {
                0
            };
            sysfence_testprogs::raw_syscall(
                sysfence_testprogs::Abi::NATIVE,
                libc::SYS_exit_group as u64,
                [code as u64, 0, 0, 0, 0, 0],
            );
        }
        std::process::exit(0);
    }
    if pid < 0 {
        println!("err {} (clone3)", errno());
        return;
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid as i32, &mut status, 0) };
    match libc::WEXITSTATUS(status) {
        0 => println!("ok"),
        e => println!("err {e}"),
    }
}

fn unshare_cmd(args: &[String]) {
    let num = |s: &String| match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    };
    let (Some(flags), Some(nr)) = (args.first().and_then(num), args.get(1).and_then(num)) else {
        usage("unshare FLAGS NR")
    };
    // SAFETY: plain unshare of this (single-threaded) process.
    if unsafe { libc::unshare(flags as i32) } == 0 {
        println!("unshare ok");
    } else {
        println!("unshare err {}", errno());
    }
    // SAFETY: one raw syscall without pointer arguments.
    let rc =
        unsafe { sysfence_testprogs::raw_syscall(sysfence_testprogs::Abi::NATIVE, nr, [0; 6]) };
    if (-4095..0).contains(&rc) {
        println!("err {}", -rc);
    } else {
        println!("ok {rc}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("open") => open_cmd(rest),
        Some("exec") => exec_cmd(rest, false),
        Some("execveat") => exec_cmd(rest, true),
        Some("socket") => socket_cmd(rest),
        Some("connect") => net_cmd(false, rest),
        Some("bind") => net_cmd(true, rest),
        Some("race") => race_cmd(rest),
        Some("storm") => storm_cmd(rest),
        Some("threads") => threads_cmd(rest),
        Some("clone-into") => clone_into_cmd(rest),
        Some("unshare") => unshare_cmd(rest),
        _ => usage("open, exec, execveat, socket, connect, bind, race, storm, threads, clone-into or unshare"),
    }
}
