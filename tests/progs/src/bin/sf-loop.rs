// SPDX-License-Identifier: GPL-2.0
//! `sf-loop NR [MILLIS]`: issue syscall NR (a number or a name, native ABI) forever, one process,
//! printing a line (`ok RET` / `err ERRNO`) each time the outcome changes.
//! Guest tests watch its output while they change the policy under it.

use std::io::Write;
use sysfence_testprogs::{parse_nr, raw_syscall, Abi};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(nr) = args.first().and_then(|s| parse_nr(Abi::NATIVE, s).ok()) else {
        eprintln!("usage: sf-loop NR [MILLIS]");
        std::process::exit(2);
    };
    let ms = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20u64);
    let mut last = String::new();
    loop {
        // SAFETY: the test chooses a harmless syscall.
        let r = unsafe { raw_syscall(Abi::NATIVE, nr, [0; 6]) };
        let now = if (-4095..0).contains(&r) {
            format!("err {}", -r)
        } else {
            "ok".to_string()
        };
        if now != last {
            println!("{now}");
            let _ = std::io::stdout().flush();
            last = now;
        }
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}
