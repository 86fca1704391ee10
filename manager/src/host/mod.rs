// SPDX-License-Identifier: GPL-2.0
//! What the manager reads from the host it runs on: the cgroup a command
//! targets, containers' names in their runtimes' stores, tasks'
//! capabilities and the calls they are inside.

pub mod caps;
pub mod cgroups;
pub mod inflight;
pub mod stores;
pub mod target;
