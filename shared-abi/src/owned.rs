// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! A compiled policy that owns its tables, for hosts with an allocator
//! (the `alloc` feature: the manager, the fuzzers; and this crate's tests).
//! The module keeps its tables in kernel memory of its own
//! (`kmod/store.rs`) and does not compile this file.

extern crate alloc;

use crate::engine::{self, ArgCmp, Exception, Head, Invalid, Rule, Scratch, Tables, TablesMut};
use crate::nla::Attr;
use crate::proto::Arch;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

/// The tables [`engine::compile`] fills for one policy, sized by
/// [`engine::validate`].
#[derive(Clone, Debug)]
pub struct Compiled {
    head: Box<Head>,
    exceptions: Vec<Exception>,
    rules: Vec<Rule>,
    cmps: Vec<ArgCmp>,
    objects: Vec<u8>,
}

impl Compiled {
    /// Validates and compiles a `POLICY` attribute, as the module of this
    /// build's family does on `policy-set`, with `scratch` as working
    /// memory.
    pub fn new(policy: &Attr<'_>, scratch: &mut Scratch) -> Result<Compiled, Invalid> {
        Compiled::new_for(Arch::NATIVE, policy, scratch)
    }

    /// As [`Compiled::new`], as a kernel of family `arch` does.
    pub fn new_for(
        arch: Arch,
        policy: &Attr<'_>,
        scratch: &mut Scratch,
    ) -> Result<Compiled, Invalid> {
        let shape = engine::validate_for(arch, policy, scratch)?;
        let mut c = Compiled {
            head: Box::new(Head::EMPTY),
            exceptions: vec![Exception::EMPTY; shape.exceptions],
            rules: vec![Rule::EMPTY; shape.rules],
            cmps: vec![ArgCmp::EMPTY; shape.cmps],
            objects: vec![0u8; shape.object_bytes],
        };
        engine::compile(
            policy,
            &shape,
            scratch,
            TablesMut {
                head: &mut c.head,
                exceptions: &mut c.exceptions,
                rules: &mut c.rules,
                cmps: &mut c.cmps,
                objects: &mut c.objects,
            },
        )?;
        Ok(c)
    }

    /// The compiled tables.
    pub fn tables(&self) -> Tables<'_> {
        Tables {
            head: &self.head,
            exceptions: &self.exceptions,
            rules: &self.rules,
            cmps: &self.cmps,
            objects: &self.objects,
        }
    }
}
