// SPDX-License-Identifier: GPL-2.0
//! `sf-hammer THREADS SECONDS [STOPFILE]`: threads issue getppid and
//! socket(AF_VSOCK) in a loop, for SECONDS or until STOPFILE exists, and
//! count the errno of each outcome. Prints
//! `calls N e13 A e14 B other C` (other: any outcome but errno 13 or 14).
//! The atomicity test flips the policy between a version answering 13 to
//! both and one answering 14 to both; a call must never see anything else,
//! and a pair of calls must never see the two versions mixed within one
//! policy lookup (each call is decided by one version).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use sysfence_testprogs::{raw_syscall, Abi};

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<u64> = argv.iter().take(2).filter_map(|s| s.parse().ok()).collect();
    let stop_file = argv.get(2).map(std::path::PathBuf::from);
    let (threads, secs) = (
        args.first().copied().unwrap_or(2),
        args.get(1).copied().unwrap_or(5),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let counts: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, counts) = (stop.clone(), counts.clone());
            std::thread::spawn(move || {
                while !stop.load(Relaxed) {
                    let calls = [
                        (libc::SYS_getppid as u64, [0u64; 6]),
                        (libc::SYS_socket as u64, [40, 1, 0, 0, 0, 0]),
                    ];
                    for (nr, a) in calls {
                        // SAFETY: getppid, and socket(AF_VSOCK) which the
                        // policy refuses (if it ever succeeded, the fd leaks
                        // until exit, which is harmless).
                        let r = unsafe { raw_syscall(Abi::NATIVE, nr, a) };
                        let i = match r {
                            -13 => 1,
                            -14 => 2,
                            _ => 3,
                        };
                        counts[0].fetch_add(1, Relaxed);
                        counts[i].fetch_add(1, Relaxed);
                    }
                }
            })
        })
        .collect();
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end && !stop_file.as_ref().is_some_and(|f| f.exists()) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stop.store(true, Relaxed);
    for h in hs {
        let _ = h.join();
    }
    let c: Vec<u64> = counts.iter().map(|c| c.load(Relaxed)).collect();
    println!("calls {} e13 {} e14 {} other {}", c[0], c[1], c[2], c[3]);
}
