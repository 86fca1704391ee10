// SPDX-License-Identifier: GPL-2.0
//! `sf-threads NR`: a second thread issues syscall NR (a number or a name); the main thread then
//! reports whether it is still alive. Under KILL_THREAD only the second
//! thread dies: prints `thread done` then `main alive`.
//! With `--result`, the thread prints its own outcome first.

use sysfence_testprogs::{parse_nr, raw_syscall, Abi};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = args.iter().any(|a| a == "--result");
    let Some(nr) = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .and_then(|s| parse_nr(Abi::NATIVE, s).ok())
    else {
        eprintln!("usage: sf-threads [--result] NR");
        std::process::exit(2);
    };
    let t = std::thread::spawn(move || {
        // SAFETY: the test chooses the syscall.
        let r = unsafe { raw_syscall(Abi::NATIVE, nr, [0; 6]) };
        if result {
            println!(
                "thread {}",
                if (-4095..0).contains(&r) {
                    format!("err {}", -r)
                } else {
                    "ok".into()
                }
            );
        }
    });
    // Not `join`: a thread killed by the kernel never runs musl's exit path,
    // so musl's pthread_join would wait forever (as it would under
    // seccomp's KILL_THREAD). Wait for the kernel to report one task left.
    let mut left = false;
    for _ in 0..500 {
        if std::fs::read_dir("/proc/self/task")
            .map(|d| d.count())
            .unwrap_or(0)
            == 1
        {
            left = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    drop(t);
    if !left {
        eprintln!("sf-threads: the second thread is still there after 5 s");
        std::process::exit(1);
    }
    println!("thread done");
    println!("main alive");
}
