// SPDX-License-Identifier: GPL-2.0
//! `sf-bench [--abi x86_64|ia32] NR ITERATIONS REPEATS [ARG...]`: time a raw
//! syscall; `sf-bench --open PATH ITERATIONS REPEATS`: time an
//! `open(PATH, O_RDONLY)` + `close` pair. Each repeat issues the call ITERATIONS times and measures
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
    per_call.sort_by(f64::total_cmp);
    println!(
        "median {:.1} min {:.1} max {:.1} ns/call over {} repeats",
        per_call[reps / 2],
        per_call[0],
        per_call[reps - 1],
        reps
    );
    std::process::exit(0)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--open") {
        open_close(&args[1..]);
    }
    let mut abi = Abi::X86_64;
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
    per_call.sort_by(f64::total_cmp);
    println!(
        "median {:.1} min {:.1} max {:.1} ns/call over {} repeats",
        per_call[reps / 2],
        per_call[0],
        per_call[reps - 1],
        reps
    );
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "sf-bench: {msg}\nusage: sf-bench [--abi x86_64|ia32] NR ITERATIONS REPEATS [ARG...]"
    );
    std::process::exit(2)
}
