// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! The contract between the sysfence kernel module and its userspace manager.
//!
//! This crate is `no_std`, has no dependencies and no `unsafe`, so that the
//! kernel module can compile its source files directly (with
//! `#[path = "../shared-abi/src/…"] mod …;`) and the manager can depend on it
//! as an ordinary crate. Everything here must be panic-free on any input: in
//! the module a panic is a kernel BUG.
//!
//! - [`proto`]: family, commands, attribute ids, actions, limits.
//! - [`nla`]: netlink attribute reader and writer.
//! - [`event`]: the event record multicast to subscribers.
//! - [`engine`]: policy validation, compilation and the syscall decision,
//!   run identically by the module and the manager's tests.
//! - [`objects`]: object rules (files, exec, sockets) and their decision.
//! - [`shadow`]: how a shadow policy's answer is predicted and recorded.
//! - [`owned`] (feature `alloc`, not in the module): a compiled policy that
//!   owns its tables.
//! - [`syscalls`], [`names`]: syscall tables generated from the kernel:
//!   numbers, names and the width of each argument (a child of [`engine`],
//!   which compares arguments at those widths).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod engine;
pub mod event;
pub mod names;
pub mod nla;
pub mod objects;
#[cfg(any(test, feature = "alloc"))]
pub mod owned;
pub mod proto;
pub mod shadow;
pub use engine::syscalls;
