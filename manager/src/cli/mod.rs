// SPDX-License-Identifier: GPL-2.0
//! The `sysfence` subcommands, one file each: argument parsing, output and
//! messages. What they do to the kernel is in [`crate::kernel`], what they
//! read from files in [`crate::policy`], what they find on the host in
//! [`crate::host`].

pub mod bench;
pub mod events;
pub mod hook;
pub mod man;
pub mod offline;
pub mod policy;
pub mod record;
pub mod run;
pub mod shadow;
pub mod stats;
pub mod status;
pub mod top;
