// SPDX-License-Identifier: GPL-2.0
//! What the node agent and the OCI hook share on a Kubernetes node.

pub mod selection;
