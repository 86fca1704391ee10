// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! Identity of the sysfence control protocol.
//!
//! The numbers below are part of the userspace ABI: they are append-only and
//! never reused.

/// Version of the sysfence release this ABI belongs to; the module logs it at
/// load and the manager prints it with `--version`.
pub const RELEASE: &str = "0.1.0";

/// Name of the generic netlink family the module registers.
pub const FAMILY_NAME: &str = "sysfence";

/// Version of the generic netlink family. A manager refuses to drive a module
/// whose family version differs from its own.
pub const FAMILY_VERSION: u8 = 1;
