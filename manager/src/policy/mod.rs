// SPDX-License-Identifier: GPL-2.0
//! Policy files: the native policy and its `objects` section, OCI/Docker
//! seccomp profiles, the `SyscallPolicy` resource, reading a file and
//! detecting its format, and the translation of each to the wire.

pub mod action;
pub mod compiled;
pub mod input;
pub mod load;
pub mod native;
pub mod objects;
pub mod oci;
pub mod resource;
pub mod runtime_base;
pub mod syscall_names;
pub mod target;
#[cfg(test)]
mod wire_pinned;
