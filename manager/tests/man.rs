// SPDX-License-Identifier: GPL-2.0
//! `sysfence man`: the top page on standard output, every page with --dir.

use std::process::Command;

#[test]
fn man_dir_writes_every_subcommands_page() {
    let dir = std::env::temp_dir().join(format!("sysfence-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .args(["man", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    for page in [
        "sysfence.1",
        "sysfence-policy.1",
        "sysfence-policy-apply.1",
        "sysfence-events.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap();
        assert!(text.contains(".TH "), "{page}");
    }
    let top = Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .arg("man")
        .output()
        .unwrap();
    assert!(top.status.success());
    assert_eq!(top.stdout, std::fs::read(dir.join("sysfence.1")).unwrap());
    let _ = std::fs::remove_dir_all(&dir);
}
