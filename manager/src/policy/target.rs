// SPDX-License-Identifier: GPL-2.0
//! The architecture family policies are encoded for: the target kernel's.
//!
//! A kernel takes only policies describing ABIs of its own family (x86:
//! x86_64, ia32, x32; arm64: aarch64, arm), so the manager encodes for one
//! family: the host's by default (`std::env::consts::ARCH`), or the one
//! `--arch` / `SYSFENCE_ARCH` names, set once by `main` before any policy
//! is read. Tests choose per thread with [`with`].

use std::cell::Cell;
use std::sync::OnceLock;
use sysfence_abi::proto::{Abi, Arch};

static CHOSEN: OnceLock<Arch> = OnceLock::new();

thread_local! {
    static OVERRIDE: Cell<Option<Arch>> = const { Cell::new(None) };
}

/// Sets the target for the rest of the process (the first call wins).
pub fn set(arch: Arch) {
    let _ = CHOSEN.set(arch);
}

/// The host's family: arm64 on an aarch64 host, x86 on any other.
pub fn host() -> Arch {
    match std::env::consts::ARCH {
        "aarch64" => Arch::Arm64,
        _ => Arch::X86,
    }
}

/// The family policies are encoded for.
pub fn arch() -> Arch {
    OVERRIDE
        .with(Cell::get)
        .or_else(|| CHOSEN.get().copied())
        .unwrap_or_else(host)
}

/// Runs `f` with `arch` as this thread's target (tests).
#[cfg(test)]
pub fn with<R>(arch: Arch, f: impl FnOnce() -> R) -> R {
    let before = OVERRIDE.with(|o| o.replace(Some(arch)));
    let out = f();
    OVERRIDE.with(|o| o.set(before));
    out
}

/// The ABIs a native policy file describes when it names none: the
/// family's native ABI and its 32-bit compat ABI (x86_64 and ia32;
/// aarch64 and arm), not x32, which kernels rarely enable.
pub fn default_abis() -> [Abi; 2] {
    match arch() {
        Arch::X86 => [Abi::X86_64, Abi::Ia32],
        Arch::Arm64 => [Abi::Aarch64, Abi::Arm],
    }
}

/// The family's native ABI (what an OCI profile without architectures
/// describes).
pub fn native_abi() -> Abi {
    default_abis()[0]
}
