// SPDX-License-Identifier: GPL-2.0
//! A policy compiled by shared-abi's engine, as the module compiles it,
//! and the decisions read from it: what the offline tools and `run` answer
//! with.

use crate::policy::native::{from_wire, policy_attr, PolicyError, PolicyFile};
use sysfence_abi::engine::{self, Lookup, Tables};
use sysfence_abi::nla::{Iter, Writer};
use sysfence_abi::proto::{action, Abi, X86_64_URETPROBE};

/// A policy compiled by shared-abi's engine into the tables the module
/// would hold for it.
pub struct Compiled(sysfence_abi::owned::Compiled);

/// `payload` as a `POLICY` attribute.
fn nested(payload: &[u8]) -> Result<Vec<u8>, PolicyError> {
    policy_attr(payload).ok_or_else(|| {
        PolicyError::Other("policy too large for one netlink attribute (64 KiB)".into())
    })
}

impl Compiled {
    /// Validates and compiles a `POLICY` payload, as the module does on
    /// `policy-set`.
    pub fn of_wire(payload: &[u8]) -> Result<Compiled, PolicyError> {
        let nest = nested(payload)?;
        let a = Iter::new(&nest)
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| PolicyError::Other("internal encoding error".into()))?;
        sysfence_abi::owned::Compiled::new_for(
            crate::policy::target::arch(),
            &a,
            &mut Box::new(engine::Scratch::ZERO),
        )
        .map(Compiled)
        .map_err(|e| PolicyError::Refused(e.text().to_string()))
    }

    /// Encodes a policy file and compiles the encoding; returns both.
    pub fn of_policy(p: &PolicyFile) -> Result<(Vec<u8>, Compiled), PolicyError> {
        let wire = p.to_wire()?;
        let c = Compiled::of_wire(&wire)?;
        Ok((wire, c))
    }

    /// The compiled tables.
    pub fn tables(&self) -> Tables<'_> {
        self.0.tables()
    }

    /// Where the answer for `nr` of `abi` comes from, as the module's
    /// policy table (`kmod/store.rs`) looks it up: the tables, except for
    /// x86_64 uretprobe, which is never filtered.
    pub fn lookup(&self, abi: Abi, nr: u32) -> Lookup<'_> {
        if is_uretprobe(abi, nr) {
            return Lookup::Fixed(action::ALLOW);
        }
        self.tables().lookup(abi, nr)
    }

    /// The module's answer for one call.
    pub fn decide(&self, abi: Abi, nr: u32, args: &[u64; 6]) -> u32 {
        match self.lookup(abi, nr) {
            Lookup::Fixed(a) => a,
            Lookup::Rules(e) => self.tables().eval(e, args),
        }
    }

    /// Whether the policy describes `abi` (else `badAbi` decides).
    pub fn describes(&self, abi: Abi) -> bool {
        self.tables()
            .head
            .abis
            .get(abi.index())
            .is_some_and(|t| t.present)
    }

    /// The policy as the module reads it back (`policy get`): its
    /// canonical form.
    pub fn read_back(&self) -> Result<PolicyFile, PolicyError> {
        let t = self.tables();
        let mut buf = vec![0u8; t.encoded_len()];
        let mut w = Writer::new(&mut buf);
        t.encode(&mut w)
            .map_err(|_| PolicyError::Other("internal error: the tables do not encode".into()))?;
        let n = w.len();
        buf.truncate(n);
        let nest = nested(&buf)?;
        let a = Iter::new(&nest)
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| PolicyError::Other("internal encoding error".into()))?;
        from_wire(&a)
    }
}

/// x86_64 uretprobe, which the module never filters (as seccomp).
pub fn is_uretprobe(abi: Abi, nr: u32) -> bool {
    abi == Abi::X86_64 && nr == X86_64_URETPROBE
}

/// The decisions of a policy, one line each, in the canonical form the
/// module reads policies back in: two policies decide every call alike
/// exactly when their lines are equal.
pub fn canonical_lines(p: &PolicyFile) -> Result<Vec<String>, PolicyError> {
    Ok(Compiled::of_policy(p)?.1.read_back()?.decision_lines())
}
