// SPDX-License-Identifier: GPL-2.0
//! `sf-attack CMD ARGS...`: one escape attempt per run, for the escape and
//! containment tests. Each prints one line, `ok`, `ok DETAIL` or `err
//! ERRNO` (of the first step that failed), and exits 0 either way; 2 on a
//! usage error. The line is written with one write(2), so it is never lost
//! in a buffer when the process dies right after.
//!
//! - `move PID FILE`: one write of the decimal PID to FILE (cgroup.procs,
//!   cgroup.threads).
//! - `clone-into DIR [--opath] NR [ARG...]`: clone3(CLONE_INTO_CGROUP) with
//!   DIR opened O_RDONLY|O_DIRECTORY (or O_PATH); the child issues syscall
//!   NR as its first call and prints `ok RET` or `err E` (the only line);
//!   `err E` of clone3 if the child was not made.
//! - `rename-exchange A B` (renameat2 RENAME_EXCHANGE), `rename A B`,
//!   `link A B`, `unlink PATH`, `rmdir PATH`, `truncate PATH`, `ftruncate
//!   PATH` (open O_WRONLY, then ftruncate), `open-trunc PATH` (O_RDONLY|
//!   O_TRUNC).
//! - `read PATH`: prints `ok FIRSTLINE` of the first 200 bytes.
//! - `opath-reopen PATH`: O_PATH, then `/proc/self/fd/N` O_RDONLY, read.
//! - `chroot-read NEWROOT PATH`, `pivot-read NEWROOT PUTOLD PATH`,
//!   `bind-read SRC DST PATH`: reach PATH through a chroot, a pivot_root
//!   (in a new mount namespace) or a bind mount (likewise), then read it.
//! - `unix-connect PATH`, `unix-sendto PATH`: stream connect or datagram
//!   sendto of "x" (`@name`: abstract, exact address length).
//! - `udp-sendto ADDR PORT`, `tcp-fastopen ADDR PORT` (sendto with
//!   MSG_FASTOPEN, no connect), `tcp-connect ADDR PORT`: IPv4 or IPv6.
//! - `memfd-exec PROGRAM [ARG...]`: copy PROGRAM into a memfd and
//!   execveat(AT_EMPTY_PATH) it; prints only on failure.
//! - `vsyscall gettimeofday|time|getcpu`: call the legacy vsyscall page;
//!   `ok RET` (the process may die of SIGSYS or SIGSEGV instead).
//! - `socket-hi FAMILY TYPE`: socket with bit 32 set in the family
//!   register; `ok FD`.
//! - `sigaction-race NR COUNT`: a thread keeps installing a SIGSYS handler
//!   while syscall NR is issued COUNT times; `survived K of COUNT` (K: calls
//!   after which the handler had run), if the process lives.
//! - `sigsys-handler NR`: with a SIGSYS handler, `caught`, else `ok RET`.
//! - `pidns-init NR`, `traced NR`, `pidns-init-traced NR`: a child that is
//!   PID 1 of a new PID namespace, or traced by this process (which
//!   swallows every signal it gets), or both, issues syscall NR and prints
//!   `survived`; then this process prints `signal S` or `exit C`.
//!
//! NR is a syscall number or its name in the native ABI (`getppid`).
//!
//! The libc calls used for the plain file operations are musl's, which
//! issue the classic x86_64 syscalls (rename, link, unlink, rmdir,
//! truncate, open).

use std::ffi::{c_void, CString};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use sysfence_testprogs::{parse_arg, parse_nr, raw_syscall, Abi};

/// `Ok(DETAIL)` (empty: plain `ok`) or `Err(errno)`.
type Outcome = Result<String, i32>;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Writes `line` and a newline to `fd` with as few writes as it takes
/// (one for any line this program prints); errors are ignored.
fn put(fd: i32, line: &str) {
    let mut b = Vec::with_capacity(line.len() + 1);
    b.extend_from_slice(line.as_bytes());
    b.push(b'\n');
    let mut off = 0;
    while off < b.len() {
        // SAFETY: writes from a live buffer within its length.
        let n = unsafe { libc::write(fd, b[off..].as_ptr().cast(), b.len() - off) };
        if n > 0 {
            off += n as usize;
        } else if n == 0 || errno() != libc::EINTR {
            return;
        }
    }
}

fn say(line: &str) {
    put(1, line);
}

fn emit(r: Outcome) {
    match r {
        Ok(d) if d.is_empty() => say("ok"),
        Ok(d) => say(&format!("ok {d}")),
        Err(e) => say(&format!("err {e}")),
    }
}

fn usage(msg: &str) -> ! {
    put(2, &format!("sf-attack: usage: sf-attack {msg}"));
    std::process::exit(2)
}

/// Exactly N arguments, or a usage error showing `form`.
fn exact<'a, const N: usize>(args: &'a [String], form: &str) -> [&'a str; N] {
    if args.len() != N {
        usage(form);
    }
    std::array::from_fn(|i| args[i].as_str())
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| usage("(no NUL in arguments)"))
}

fn num(s: &str, form: &str) -> u64 {
    parse_arg(s).unwrap_or_else(|_| usage(form))
}

/// A syscall: a number or its name in the native ABI.
fn sysnr(s: &str, form: &str) -> u64 {
    parse_nr(Abi::NATIVE, s).unwrap_or_else(|_| usage(form))
}

/// A libc return value: negative means failed, with errno set.
fn sys(rc: i64) -> Result<i64, i32> {
    if rc < 0 {
        Err(errno())
    } else {
        Ok(rc)
    }
}

/// A raw syscall's return value: -4095..-1 is an errno.
fn raw(rc: i64) -> Result<i64, i32> {
    if (-4095..0).contains(&rc) {
        Err(-rc as i32)
    } else {
        Ok(rc)
    }
}

fn raw_outcome(rc: i64) -> Outcome {
    raw(rc).map(|v| v.to_string())
}

fn open(path: &str, flags: i32) -> Result<i32, i32> {
    let p = cstr(path);
    // SAFETY: open of a valid C string; the mode is only used with O_CREAT.
    sys(i64::from(unsafe { libc::open(p.as_ptr(), flags, 0o644) })).map(|fd| fd as i32)
}

fn close(fd: i32) {
    // SAFETY: closes a descriptor this program opened.
    unsafe { libc::close(fd) };
}

fn done(rc: i32) -> Outcome {
    sys(i64::from(rc)).map(|_| String::new())
}

// --- cgroup moves -------------------------------------------------------------

fn move_cmd(args: &[String]) -> Outcome {
    let [pid, file] = exact(args, "move PID FILE");
    let pid: i64 = pid.parse().unwrap_or_else(|_| usage("move PID FILE"));
    let fd = open(file, libc::O_WRONLY | libc::O_CLOEXEC)?;
    let text = pid.to_string();
    // SAFETY: writes from a live buffer within its length.
    let rc = unsafe { libc::write(fd, text.as_ptr().cast(), text.len()) };
    let r = sys(rc as i64).map(|_| String::new());
    close(fd);
    r
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

/// Syscall NR and up to 6 arguments from `args`.
fn call_of(args: &[String], form: &str) -> (u64, [u64; 6]) {
    let Some(nr) = args.first() else { usage(form) };
    if args.len() > 7 {
        usage(form);
    }
    let mut regs = [0u64; 6];
    for (slot, a) in regs.iter_mut().zip(&args[1..]) {
        *slot = num(a, form);
    }
    (sysnr(nr, form), regs)
}

fn clone_into_cmd(args: &[String]) {
    const FORM: &str = "clone-into DIR [--opath] NR [ARG...]";
    let Some(dir) = args.first() else { usage(FORM) };
    let (flags, rest) = match args.get(1).map(String::as_str) {
        Some("--opath") => (libc::O_PATH | libc::O_CLOEXEC, &args[2..]),
        _ => (
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            &args[1..],
        ),
    };
    let (nr, regs) = call_of(rest, FORM);
    let cg = match open(dir, flags) {
        Ok(fd) => fd,
        Err(e) => return emit(Err(e)),
    };
    let ca = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cg as u64,
        ..CloneArgs::default()
    };
    // SAFETY: clone3 without CLONE_VM: the child is a copy of this
    // single-threaded process; it makes its call, prints and exits.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &ca as *const CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    if pid == 0 {
        // SAFETY: the child's first syscall is the one under test.
        let rc = unsafe { raw_syscall(Abi::NATIVE, nr, regs) };
        emit(raw_outcome(rc));
        // SAFETY: leaves the child without running the parent's exit code.
        unsafe { libc::_exit(0) };
    }
    if pid < 0 {
        return emit(Err(errno()));
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    while unsafe { libc::waitpid(pid as i32, &mut status, 0) } < 0 && errno() == libc::EINTR {}
}

// --- file operations ------------------------------------------------------------

fn rename_exchange_cmd(args: &[String]) -> Outcome {
    let [a, b] = exact(args, "rename-exchange A B");
    let (a, b) = (cstr(a), cstr(b));
    const RENAME_EXCHANGE: u64 = 2;
    // SAFETY: renameat2 with two valid C strings.
    let rc = unsafe {
        raw_syscall(
            Abi::NATIVE,
            libc::SYS_renameat2 as u64,
            [
                libc::AT_FDCWD as i64 as u64,
                a.as_ptr() as u64,
                libc::AT_FDCWD as i64 as u64,
                b.as_ptr() as u64,
                RENAME_EXCHANGE,
                0,
            ],
        )
    };
    raw(rc).map(|_| String::new())
}

fn two_path_cmd(args: &[String], link: bool) -> Outcome {
    let [a, b] = exact(args, if link { "link A B" } else { "rename A B" });
    let (a, b) = (cstr(a), cstr(b));
    // SAFETY: rename/link of two valid C strings.
    done(unsafe {
        if link {
            libc::link(a.as_ptr(), b.as_ptr())
        } else {
            libc::rename(a.as_ptr(), b.as_ptr())
        }
    })
}

fn one_path_cmd(args: &[String], cmd: &str) -> Outcome {
    let [path] = exact(args, &format!("{cmd} PATH"));
    let p = cstr(path);
    // SAFETY: path calls with a valid C string.
    done(unsafe {
        match cmd {
            "unlink" => libc::unlink(p.as_ptr()),
            "rmdir" => libc::rmdir(p.as_ptr()),
            _ => libc::truncate(p.as_ptr(), 0),
        }
    })
}

fn ftruncate_cmd(args: &[String]) -> Outcome {
    let [path] = exact(args, "ftruncate PATH");
    let fd = open(path, libc::O_WRONLY)?;
    // SAFETY: ftruncate of our own descriptor.
    let r = done(unsafe { libc::ftruncate(fd, 0) });
    close(fd);
    r
}

fn open_trunc_cmd(args: &[String]) -> Outcome {
    let [path] = exact(args, "open-trunc PATH");
    close(open(path, libc::O_RDONLY | libc::O_TRUNC)?);
    Ok(String::new())
}

/// Reads up to 200 bytes from `fd` (then closes it): the first line.
fn read_fd(fd: i32) -> Outcome {
    let mut buf = [0u8; 200];
    // SAFETY: reads into a live buffer within its length.
    let n = sys(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } as i64);
    close(fd);
    let n = n? as usize;
    let line = buf[..n].split(|&b| b == b'\n').next().unwrap_or(&[]);
    Ok(String::from_utf8_lossy(line).into_owned())
}

fn read_path(path: &str) -> Outcome {
    read_fd(open(path, libc::O_RDONLY)?)
}

fn read_cmd(args: &[String]) -> Outcome {
    let [path] = exact(args, "read PATH");
    read_path(path)
}

fn opath_reopen_cmd(args: &[String]) -> Outcome {
    let [path] = exact(args, "opath-reopen PATH");
    let fd = open(path, libc::O_PATH)?;
    read_path(&format!("/proc/self/fd/{fd}"))
}

fn chdir(path: &str) -> Result<i64, i32> {
    let p = cstr(path);
    // SAFETY: chdir to a valid C string.
    sys(i64::from(unsafe { libc::chdir(p.as_ptr()) }))
}

fn chroot_read_cmd(args: &[String]) -> Outcome {
    let [root, path] = exact(args, "chroot-read NEWROOT PATH");
    let r = cstr(root);
    // SAFETY: chroot to a valid C string.
    sys(i64::from(unsafe { libc::chroot(r.as_ptr()) }))?;
    chdir("/")?;
    read_path(path)
}

fn mount(src: Option<&str>, dst: &str, flags: libc::c_ulong) -> Result<i64, i32> {
    let s = src.map(cstr);
    let d = cstr(dst);
    let sp = s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: mount with valid C strings (or NULL) and no data.
    sys(i64::from(unsafe {
        libc::mount(sp, d.as_ptr(), std::ptr::null(), flags, std::ptr::null())
    }))
}

/// A mount namespace of its own, with no propagation back to the old one.
fn private_mounts() -> Result<i64, i32> {
    // SAFETY: unshares this process's mount namespace.
    sys(i64::from(unsafe { libc::unshare(libc::CLONE_NEWNS) }))?;
    mount(None, "/", libc::MS_REC | libc::MS_PRIVATE)
}

fn pivot_read_cmd(args: &[String]) -> Outcome {
    let [root, old, path] = exact(args, "pivot-read NEWROOT PUTOLD PATH");
    private_mounts()?;
    mount(Some(root), root, libc::MS_BIND)?;
    chdir(root)?;
    let (new, old) = (cstr("."), cstr(old));
    // SAFETY: pivot_root with two valid C strings.
    sys(unsafe { libc::syscall(libc::SYS_pivot_root, new.as_ptr(), old.as_ptr()) })?;
    chdir("/")?;
    read_path(path)
}

fn bind_read_cmd(args: &[String]) -> Outcome {
    let [src, dst, path] = exact(args, "bind-read SRC DST PATH");
    private_mounts()?;
    mount(Some(src), dst, libc::MS_BIND)?;
    read_path(path)
}

// --- sockets ----------------------------------------------------------------------

/// A sockaddr_un for PATH (`@name`: abstract, no trailing NUL).
fn unix_addr(path: &str) -> Vec<u8> {
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
    if b.len() > std::mem::size_of::<libc::sockaddr_un>() {
        usage("(a unix socket path of at most 107 bytes)");
    }
    b
}

/// The family and sockaddr for ADDR PORT (IPv4 or IPv6).
fn inet_addr(addr: &str, port: &str, form: &str) -> (i32, Vec<u8>) {
    let port: u16 = port.parse().unwrap_or_else(|_| usage(form));
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            let mut b = vec![0u8; 16];
            b[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            b[2..4].copy_from_slice(&port.to_be_bytes());
            b[4..8].copy_from_slice(&v4.octets());
            (libc::AF_INET, b)
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            let mut b = vec![0u8; 28];
            b[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            b[2..4].copy_from_slice(&port.to_be_bytes());
            b[8..24].copy_from_slice(&v6.octets());
            (libc::AF_INET6, b)
        }
        Err(_) => usage(form),
    }
}

/// A socket of `af`/`kind`, then connect to `sa` (`send` None) or sendto
/// it one byte with the `send` flags.
fn sock_try(af: i32, kind: i32, sa: &[u8], send: Option<i32>) -> Outcome {
    // SAFETY: plain socket creation.
    let fd = sys(i64::from(unsafe { libc::socket(af, kind, 0) }))? as i32;
    let len = sa.len() as libc::socklen_t;
    // SAFETY: `sa` is a sockaddr of `len` bytes; one byte sent from a
    // static buffer.
    let rc = unsafe {
        match send {
            Some(flags) => {
                libc::sendto(fd, b"x".as_ptr().cast(), 1, flags, sa.as_ptr().cast(), len) as i64
            }
            None => i64::from(libc::connect(fd, sa.as_ptr().cast(), len)),
        }
    };
    let r = sys(rc).map(|_| String::new());
    close(fd);
    r
}

fn unix_cmd(args: &[String], dgram: bool) -> Outcome {
    let [path] = exact(
        args,
        if dgram {
            "unix-sendto PATH"
        } else {
            "unix-connect PATH"
        },
    );
    let sa = unix_addr(path);
    if dgram {
        sock_try(libc::AF_UNIX, libc::SOCK_DGRAM, &sa, Some(0))
    } else {
        sock_try(libc::AF_UNIX, libc::SOCK_STREAM, &sa, None)
    }
}

/// `unix-serve STREAM DGRAM SECS`: a listening stream socket bound to
/// STREAM and a datagram socket bound to DGRAM (bound in that order, so a
/// caller may wait for DGRAM to exist), kept open for SECS seconds; the
/// stream socket accepts and closes whatever connects. For the peers that
/// `unix-connect` and `unix-sendto` need.
fn unix_serve_cmd(args: &[String]) -> Outcome {
    const FORM: &str = "unix-serve STREAM DGRAM SECS";
    let [stream, dgram, secs] = exact(args, FORM);
    let secs: u64 = secs.parse().unwrap_or_else(|_| usage(FORM));
    let bound = |kind: i32, path: &str| -> Result<i32, i32> {
        let sa = unix_addr(path);
        // SAFETY: a socket bound to a sockaddr of its own length.
        let fd = sys(i64::from(unsafe { libc::socket(libc::AF_UNIX, kind, 0) }))? as i32;
        // SAFETY: as above.
        let rc = unsafe { libc::bind(fd, sa.as_ptr().cast(), sa.len() as libc::socklen_t) };
        sys(i64::from(rc))?;
        Ok(fd)
    };
    let s = bound(libc::SOCK_STREAM, stream)?;
    // SAFETY: listen on a bound stream socket.
    sys(i64::from(unsafe { libc::listen(s, 64) }))?;
    let _d = bound(libc::SOCK_DGRAM, dgram)?;
    // SAFETY: non-blocking accept loop on our own socket.
    unsafe { libc::fcntl(s, libc::F_SETFL, libc::O_NONBLOCK) };
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        // SAFETY: accept with no address wanted.
        let c = unsafe { libc::accept(s, std::ptr::null_mut(), std::ptr::null_mut()) };
        if c >= 0 {
            close(c);
        } else {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    Ok(String::new())
}

fn inet_cmd(args: &[String], cmd: &str) -> Outcome {
    let form = format!("{cmd} ADDR PORT");
    let [addr, port] = exact(args, &form);
    let (af, sa) = inet_addr(addr, port, &form);
    match cmd {
        "udp-sendto" => sock_try(af, libc::SOCK_DGRAM, &sa, Some(0)),
        "tcp-fastopen" => sock_try(af, libc::SOCK_STREAM, &sa, Some(libc::MSG_FASTOPEN)),
        _ => sock_try(af, libc::SOCK_STREAM, &sa, None),
    }
}

fn socket_hi_cmd(args: &[String]) -> Outcome {
    const FORM: &str = "socket-hi FAMILY TYPE";
    let [family, kind] = exact(args, FORM);
    let family: u32 = family.parse().unwrap_or_else(|_| usage(FORM));
    let kind: u32 = kind.parse().unwrap_or_else(|_| usage(FORM));
    // SAFETY: socket(2) with a family register whose upper half is not 0.
    let rc = unsafe {
        raw_syscall(
            Abi::NATIVE,
            libc::SYS_socket as u64,
            [u64::from(family) | (1 << 32), u64::from(kind), 0, 0, 0, 0],
        )
    };
    raw_outcome(rc)
}

// --- exec -------------------------------------------------------------------------

/// Copies the file at `path` into the descriptor `to`.
fn copy_into(path: &str, to: i32) -> Result<(), i32> {
    let from = open(path, libc::O_RDONLY | libc::O_CLOEXEC)?;
    let mut buf = vec![0u8; 1 << 16];
    let r = loop {
        // SAFETY: reads into a live buffer within its length.
        let n = unsafe { libc::read(from, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break sys(n as i64).map(|_| ());
        }
        let mut off = 0;
        while off < n as usize {
            // SAFETY: writes from a live buffer within what was read.
            let w = unsafe { libc::write(to, buf[off..].as_ptr().cast(), n as usize - off) };
            if w <= 0 {
                close(from);
                return Err(if w == 0 { libc::EIO } else { errno() });
            }
            off += w as usize;
        }
    };
    close(from);
    r
}

fn memfd_exec(args: &[String]) -> Outcome {
    let Some(prog) = args.first() else {
        usage("memfd-exec PROGRAM [ARG...]")
    };
    let name = c"sf-attack-copy";
    // SAFETY: memfd_create with a valid name and no flags (so that the
    // descriptor stays open across the exec, as a script needs).
    let fd = sys(unsafe { libc::syscall(libc::SYS_memfd_create, name.as_ptr(), 0) })?;
    copy_into(prog, fd as i32)?;
    let argv: Vec<CString> = args.iter().map(|a| cstr(a)).collect();
    let envs: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let mut argp: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argp.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = envs.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: execveat of our memfd with NULL-terminated argv and envp of
    // valid C strings; on success this process is replaced.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd,
            c"".as_ptr(),
            argp.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    sys(rc).map(|_| String::new())
}

fn vsyscall_cmd(args: &[String]) -> Outcome {
    let [name] = exact(args, "vsyscall gettimeofday|time|getcpu");
    type Gtod = unsafe extern "C" fn(*mut libc::timeval, *mut c_void) -> i64;
    type Time = unsafe extern "C" fn(*mut i64) -> i64;
    type Getcpu = unsafe extern "C" fn(*mut u32, *mut u32, *mut c_void) -> i64;
    let at = |off: usize| std::ptr::without_provenance::<()>(0xffff_ffff_ff60_0000 + off);
    // SAFETY: the vsyscall page's entries have these C signatures; the
    // kernel emulates them (or kills the process, which is for the test
    // to see). The pointers passed are to live locals or NULL.
    let rc = unsafe {
        match name {
            "gettimeofday" => {
                let f: Gtod = std::mem::transmute(at(0));
                let mut tv: libc::timeval = std::mem::zeroed();
                f(&mut tv, std::ptr::null_mut())
            }
            "time" => {
                let f: Time = std::mem::transmute(at(0x400));
                f(std::ptr::null_mut())
            }
            "getcpu" => {
                let f: Getcpu = std::mem::transmute(at(0x800));
                let (mut cpu, mut node) = (0u32, 0u32);
                f(&mut cpu, &mut node, std::ptr::null_mut())
            }
            _ => usage("vsyscall gettimeofday|time|getcpu"),
        }
    };
    raw_outcome(rc)
}

// --- SIGSYS -----------------------------------------------------------------------

static CAUGHT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigsys(_sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    CAUGHT.store(true, SeqCst);
}

/// Installs the SIGSYS handler; the sigaction(2) result.
fn install_sigsys() -> i32 {
    // SAFETY: a SA_SIGINFO handler that only stores an atomic.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut())
    }
}

fn sigaction_race_cmd(args: &[String]) {
    const FORM: &str = "sigaction-race NR COUNT";
    let [nr, count] = exact(args, FORM);
    let nr = sysnr(nr, FORM);
    let count: u64 = count.parse().unwrap_or_else(|_| usage(FORM));
    static READY: AtomicBool = AtomicBool::new(false);
    let spawned = std::thread::Builder::new().spawn(|| loop {
        install_sigsys();
        READY.store(true, SeqCst);
    });
    if let Err(e) = spawned {
        return emit(Err(e.raw_os_error().unwrap_or(0)));
    }
    while !READY.load(SeqCst) {
        std::hint::spin_loop();
    }
    let mut survived = 0;
    for _ in 0..count {
        CAUGHT.store(false, SeqCst);
        // SAFETY: the test chooses a syscall without pointer arguments.
        unsafe { raw_syscall(Abi::NATIVE, nr, [0; 6]) };
        if CAUGHT.load(SeqCst) {
            survived += 1;
        }
    }
    say(&format!("survived {survived} of {count}"));
    // The installing thread never ends: leave without joining it.
    std::process::exit(0)
}

fn sigsys_handler_cmd(args: &[String]) {
    const FORM: &str = "sigsys-handler NR";
    let [nr] = exact(args, FORM);
    let nr = sysnr(nr, FORM);
    if install_sigsys() < 0 {
        return emit(Err(errno()));
    }
    // SAFETY: the test chooses a syscall without pointer arguments.
    let rc = unsafe { raw_syscall(Abi::NATIVE, nr, [0; 6]) };
    if CAUGHT.load(SeqCst) {
        say("caught");
    } else {
        emit(raw_outcome(rc));
    }
}

// --- PID namespace init and tracing ------------------------------------------------

/// The child of `victim_cmd`: checks it is PID 1 (`pidns`), asks to be
/// traced and stops (`traced`), then issues NR and says it survived.
fn victim(nr: u64, pidns: bool, traced: bool) -> ! {
    // SAFETY: getpid, ptrace(TRACEME), raise and the chosen syscall, then
    // _exit: nothing here touches memory but the locals.
    unsafe {
        if pidns && libc::getpid() != 1 {
            say("err 0");
            libc::_exit(1);
        }
        if traced {
            let null = std::ptr::null_mut::<c_void>();
            if libc::ptrace(libc::PTRACE_TRACEME, 0 as libc::pid_t, null, null) < 0 {
                say(&format!("err {}", errno()));
                libc::_exit(1);
            }
            libc::raise(libc::SIGSTOP);
        }
        raw_syscall(Abi::NATIVE, nr, [0; 6]);
        say("survived");
        libc::_exit(0)
    }
}

/// Waits for `pid` to end, resuming it from every stop with the signal
/// suppressed when `traced`; prints how it ended.
fn reap(pid: libc::pid_t, traced: bool) {
    let null = std::ptr::null_mut::<c_void>();
    let mut first = true;
    loop {
        let mut st = 0;
        // SAFETY: waits for our own child.
        if unsafe { libc::waitpid(pid, &mut st, 0) } < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return emit(Err(errno()));
        }
        if libc::WIFEXITED(st) {
            return say(&format!("exit {}", libc::WEXITSTATUS(st)));
        }
        if libc::WIFSIGNALED(st) {
            return say(&format!("signal {}", libc::WTERMSIG(st)));
        }
        if traced && libc::WIFSTOPPED(st) {
            // SAFETY: ptrace requests on our own stopped tracee.
            unsafe {
                if first {
                    let kill = std::ptr::without_provenance_mut::<c_void>(
                        libc::PTRACE_O_EXITKILL as usize,
                    );
                    libc::ptrace(libc::PTRACE_SETOPTIONS, pid, null, kill);
                    first = false;
                }
                libc::ptrace(libc::PTRACE_CONT, pid, null, null);
            }
        }
    }
}

fn victim_cmd(args: &[String], cmd: &str, pidns: bool, traced: bool) {
    let form = format!("{cmd} NR");
    let [nr] = exact(args, &form);
    let nr = sysnr(nr, &form);
    // SAFETY: unshare of this single-threaded process's PID namespace
    // (only its children enter it).
    if pidns && unsafe { libc::unshare(libc::CLONE_NEWPID) } < 0 {
        return emit(Err(errno()));
    }
    // SAFETY: fork of a single-threaded process; the child only runs
    // `victim`, which ends in _exit.
    match unsafe { libc::fork() } {
        0 => victim(nr, pidns, traced),
        pid if pid < 0 => emit(Err(errno())),
        pid => reap(pid, traced),
    }
}

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| {
            a.into_string()
                .unwrap_or_else(|_| usage("(arguments must be UTF-8)"))
        })
        .collect();
    let rest = args.get(1..).unwrap_or(&[]);
    let Some(cmd) = args.first().map(String::as_str) else {
        usage("CMD ARGS... (see the source for the commands)")
    };
    let r = match cmd {
        "move" => move_cmd(rest),
        "clone-into" => return clone_into_cmd(rest),
        "rename-exchange" => rename_exchange_cmd(rest),
        "rename" => two_path_cmd(rest, false),
        "link" => two_path_cmd(rest, true),
        "unlink" | "rmdir" | "truncate" => one_path_cmd(rest, cmd),
        "ftruncate" => ftruncate_cmd(rest),
        "open-trunc" => open_trunc_cmd(rest),
        "read" => read_cmd(rest),
        "opath-reopen" => opath_reopen_cmd(rest),
        "chroot-read" => chroot_read_cmd(rest),
        "pivot-read" => pivot_read_cmd(rest),
        "bind-read" => bind_read_cmd(rest),
        "unix-connect" => unix_cmd(rest, false),
        "unix-sendto" => unix_cmd(rest, true),
        "unix-serve" => unix_serve_cmd(rest),
        "udp-sendto" | "tcp-fastopen" | "tcp-connect" => inet_cmd(rest, cmd),
        "socket-hi" => socket_hi_cmd(rest),
        "memfd-exec" => memfd_exec(rest),
        "vsyscall" => vsyscall_cmd(rest),
        "sigaction-race" => return sigaction_race_cmd(rest),
        "sigsys-handler" => return sigsys_handler_cmd(rest),
        "pidns-init" => return victim_cmd(rest, cmd, true, false),
        "traced" => return victim_cmd(rest, cmd, false, true),
        "pidns-init-traced" => return victim_cmd(rest, cmd, true, true),
        _ => usage("CMD ARGS... (unknown command; see the source for the list)"),
    };
    emit(r);
}
