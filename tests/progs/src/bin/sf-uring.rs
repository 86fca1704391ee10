// SPDX-License-Identifier: GPL-2.0
//! `sf-uring open PATH`: opens PATH read-only through io_uring
//! (`IORING_OP_OPENAT`) instead of the `openat` syscall, with raw
//! `io_uring_setup` and `io_uring_enter` (no liburing). Prints `ok FD` or
//! `err ERRNO` for the open, or `setup err ERRNO` / `enter err ERRNO` when
//! io_uring itself is refused; exits 0 either way (2 on a usage error).

use std::ffi::CString;

#[repr(C)]
#[derive(Default)]
struct SqOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    flags: u32,
    dropped: u32,
    array: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
#[derive(Default)]
struct CqOffsets {
    head: u32,
    tail: u32,
    ring_mask: u32,
    ring_entries: u32,
    overflow: u32,
    cqes: u32,
    flags: u32,
    resv1: u32,
    user_addr: u64,
}

#[repr(C)]
#[derive(Default)]
struct Params {
    sq_entries: u32,
    cq_entries: u32,
    flags: u32,
    sq_thread_cpu: u32,
    sq_thread_idle: u32,
    features: u32,
    wq_fd: u32,
    resv: [u32; 3],
    sq_off: SqOffsets,
    cq_off: CqOffsets,
}

#[repr(C)]
struct Sqe {
    opcode: u8,
    flags: u8,
    ioprio: u16,
    fd: i32,
    off: u64,
    addr: u64,
    len: u32,
    open_flags: u32,
    user_data: u64,
    buf_index: u16,
    personality: u16,
    splice_fd_in: i32,
    addr3: u64,
    pad: u64,
}
const _: () = assert!(std::mem::size_of::<Sqe>() == 64);

const SYS_IO_URING_SETUP: libc::c_long = 425;
const SYS_IO_URING_ENTER: libc::c_long = 426;
const IORING_OP_OPENAT: u8 = 18;
const IORING_ENTER_GETEVENTS: u32 = 1;
const IORING_OFF_CQ_RING: i64 = 0x800_0000;
const IORING_OFF_SQES: i64 = 0x1000_0000;

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Maps `len` bytes of the ring at `off`.
fn map(fd: i32, len: usize, off: i64) -> *mut u8 {
    // SAFETY: a fresh shared mapping of the io_uring fd; checked below.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_POPULATE,
            fd,
            off,
        )
    };
    if p == libc::MAP_FAILED {
        println!("mmap err {}", errno());
        std::process::exit(0);
    }
    p.cast()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some("open"), Some(path)) = (args.first().map(String::as_str), args.get(1)) else {
        eprintln!("usage: sf-uring open PATH");
        std::process::exit(2);
    };
    let path = CString::new(path.as_str()).unwrap_or_default();
    let mut p = Params::default();
    // SAFETY: io_uring_setup with a valid params struct.
    let fd = unsafe { libc::syscall(SYS_IO_URING_SETUP, 4u32, &mut p as *mut Params) } as i32;
    if fd < 0 {
        println!("setup err {}", errno());
        return;
    }
    let sq_len = p.sq_off.array as usize + p.sq_entries as usize * 4;
    let cq_len = p.cq_off.cqes as usize + p.cq_entries as usize * 16;
    let sq = map(fd, sq_len, 0);
    let cq = map(fd, cq_len, IORING_OFF_CQ_RING);
    let sqes = map(fd, p.sq_entries as usize * 64, IORING_OFF_SQES).cast::<Sqe>();
    // SAFETY: every offset comes from the kernel's params for these
    // mappings; this process is the ring's only user.
    unsafe {
        let tail = sq.add(p.sq_off.tail as usize).cast::<u32>();
        let mask = *sq.add(p.sq_off.ring_mask as usize).cast::<u32>();
        let t = std::ptr::read_volatile(tail);
        let i = t & mask;
        sqes.add(i as usize).write(Sqe {
            opcode: IORING_OP_OPENAT,
            flags: 0,
            ioprio: 0,
            fd: libc::AT_FDCWD,
            off: 0,
            addr: path.as_ptr() as u64,
            len: 0,
            open_flags: libc::O_RDONLY as u32,
            user_data: 1,
            buf_index: 0,
            personality: 0,
            splice_fd_in: 0,
            addr3: 0,
            pad: 0,
        });
        *sq.add(p.sq_off.array as usize)
            .cast::<u32>()
            .add(i as usize) = i;
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        std::ptr::write_volatile(tail, t.wrapping_add(1));
        let n = libc::syscall(
            SYS_IO_URING_ENTER,
            fd,
            1u32,
            1u32,
            IORING_ENTER_GETEVENTS,
            0usize,
            0usize,
        );
        if n < 0 {
            println!("enter err {}", errno());
            return;
        }
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        let head = std::ptr::read_volatile(cq.add(p.cq_off.head as usize).cast::<u32>());
        let cmask = *cq.add(p.cq_off.ring_mask as usize).cast::<u32>();
        let cqe = cq.add(p.cq_off.cqes as usize + (head & cmask) as usize * 16);
        let res = std::ptr::read_volatile(cqe.add(8).cast::<i32>());
        if res < 0 {
            println!("err {}", -res);
        } else {
            println!("ok {res}");
        }
    }
}
