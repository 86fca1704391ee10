// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! The committed syscall tables equal the pinned kernel's (needs Debian's
//! linux-source-6.12, which scripts/setup.sh installs).

#[test]
fn tables_match_the_pinned_kernel() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let out = std::process::Command::new("python3")
        .arg("scripts/gen-syscall-tables.py")
        .arg("--check")
        .current_dir(root)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
