// SPDX-License-Identifier: GPL-2.0
//! The sysfence kernel module's API: the generic netlink client and the
//! requests every command and the node agent make with it.

pub mod client;
