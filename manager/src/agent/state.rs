// SPDX-License-Identifier: GPL-2.0
//! What the agent's decisions start from, besides the cluster: what the
//! kernel holds ([`Live`], from one dump) and the state file that says which
//! cgroups' policies the agent applied ([`State`]), with the OCI hook's
//! claims adopted into it. `reconcile` reads them; `kernel` fills and
//! updates them.

use crate::node::selection::{write_atomic, SelectionError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the kernel holds, from one dump: cgroup id → hash of the canonical
/// read-back, of the enforcing policies and of the shadows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Live {
    pub enforcing: BTreeMap<u64, u64>,
    /// A shadow that is "no policy" (`SHADOW_NONE`, left by promoting over
    /// a cgroup without one) is not listed: the agent never sets one.
    pub shadows: BTreeMap<u64, u64>,
}

pub use crate::node::selection::Owned;

/// The cgroups whose policies the agent applied: `/run/sysfence/agent/
/// state.json`. It lives on tmpfs, like the kernel's policies, so both are
/// gone after a reboot and survive an agent restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub cgroups: BTreeMap<u64, Owned>,
}

/// Where the state file is by default.
pub const STATE_FILE: &str = "/run/sysfence/agent/state.json";

/// Why the state file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source} (delete it to start over: the agent then owns no policy)")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Encode(serde_json::Error),
    #[error(transparent)]
    Write(#[from] SelectionError),
}

impl State {
    /// Reads the state file; a missing one is an empty state.
    pub fn load(path: &Path) -> Result<State, StateError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|source| StateError::Parse {
                path: path.display().to_string(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: 1,
                ..State::default()
            }),
            Err(source) => Err(StateError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Writes the state file atomically (a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let text = serde_json::to_string_pretty(self).map_err(StateError::Encode)?;
        Ok(write_atomic(path, &(text + "\n"))?)
    }
}

/// The agent's directory: where its state file is, beside the selection
/// and the hook's claims (`crate::node::selection`).
pub fn agent_dir(state_file: &Path) -> PathBuf {
    state_file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The OCI hook's claims taken into the state, to remove once it is saved.
#[derive(Debug, Default)]
pub struct Adopted {
    /// A line for each claim, and for each file that is not one, to log.
    pub log: Vec<String>,
    files: Vec<PathBuf>,
}

impl Adopted {
    /// Removes the claim files (call after the state is saved).
    pub fn remove_files(&self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Takes the OCI hook's claims into the state: each cgroup the hook put
/// under a policy from the selection is owned from now on, as if the agent
/// had applied it (the hook's record is the newer, so it replaces one the
/// agent had).
pub fn adopt_claims(agent_dir: &Path, state: &mut State) -> Adopted {
    let (claims, bad) = crate::node::selection::read_claims(agent_dir);
    let mut a = Adopted::default();
    for (file, why) in bad {
        a.log
            .push(format!("{}: not a claim, removed: {why}", file.display()));
        a.files.push(file);
    }
    for c in claims {
        a.log.push(format!(
            "cgroup {} of {}/{}: the OCI hook applied {}; the agent owns it now",
            c.cgroup, c.owned.pod, c.owned.container, c.owned.policy
        ));
        state.cgroups.insert(c.cgroup, c.owned);
        a.files.push(c.file);
    }
    a
}
