// SPDX-License-Identifier: GPL-2.0
//! Arbitrary text through the manager's profile parsers (the files an
//! operator hands `sysfence policy apply`): the native YAML policy, the
//! `SyscallPolicy` resource and OCI/Docker seccomp profiles. Each must
//! refuse or accept without panicking, and whatever it accepts must encode
//! to a policy the module's own validation accepts.
#![no_main]
#![allow(dead_code)]

use libfuzzer_sys::fuzz_target;

#[path = "../../manager/src/policy/action.rs"]
mod action;
#[path = "../../manager/src/policy/input.rs"]
mod input;
#[path = "../../manager/src/policy/native.rs"]
mod native;
#[path = "../../manager/src/policy/objects.rs"]
mod objects;
#[path = "../../manager/src/policy/oci.rs"]
mod oci;
#[path = "../../manager/src/policy/resource.rs"]
mod resource;
#[path = "../../manager/src/policy/syscall_names.rs"]
mod syscall_names;
#[path = "../../manager/src/policy/target.rs"]
mod target;

/// The manager's `policy` module, as its files name each other
/// (`crate::policy::native`, ...).
mod policy {
    pub(crate) use super::{action, input, native, objects, syscall_names, target};
}

use sysfence_abi::engine::{self, Scratch};
use sysfence_abi::nla::{Iter, Writer, F_NESTED};
use sysfence_abi::proto::attr;

fn check_wire(wire: &[u8]) {
    let mut buf = vec![0u8; wire.len() + 4];
    if Writer::new(&mut buf)
        .put(attr::POLICY | F_NESTED, wire)
        .is_err()
    {
        return; // too large for one attribute: the manager says so itself
    }
    let a = Iter::new(&buf).next().unwrap().unwrap();
    engine::validate(&a, &mut Box::new(Scratch::ZERO))
        .expect("the manager encodes only valid policies");
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = native::PolicyFile::parse(text) {
        if let Ok(w) = p.to_wire() {
            check_wire(&w);
        }
    }
    if let Ok(r) = resource::SyscallPolicy::parse(text) {
        if let Ok(w) = r.policy.to_wire() {
            check_wire(&w);
        }
    }
    // Whatever the text, its format is decided (without panicking).
    if input::detect(text) == input::Format::SeccompProfile {
        let _ = oci::depends_on_caps(text);
        let ctx = oci::Context {
            caps: ["CAP_CHOWN", "CAP_SYS_ADMIN"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            kernel: "6.12.0".into(),
        };
        if let Ok(imp) = oci::import(text, &ctx) {
            if let Ok(w) = imp.policy.to_wire() {
                check_wire(&w);
            }
            // What an import accepts, an export writes back.
            let _ = serde_json::to_string(&oci::export(&imp.policy));
        }
    }
});
