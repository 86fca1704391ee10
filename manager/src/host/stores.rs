// SPDX-License-Identifier: GPL-2.0
//! Container names, as the runtimes that name containers keep them:
//!
//! | runtime | file | fields |
//! |---|---|---|
//! | Docker | `/var/lib/docker/containers/ID/config.v2.json` | `"Name": "/NAME"` |
//! | Podman (root) | `/var/lib/containers/storage/DRIVER-containers/containers.json` | `[{"id": ID, "names": [NAME, …]}, …]` |
//!
//! A store that is not there has no names; a file that cannot be read or
//! parsed is skipped, so one broken container hides no other.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Docker's containers directory.
pub const DOCKER_CONTAINERS: &str = "/var/lib/docker/containers";

/// Podman's (root) storage directory.
pub const PODMAN_STORAGE: &str = "/var/lib/containers/storage";

/// Where the names are looked up; [`Stores::default`] is the host's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stores {
    /// Docker's containers directory (one `ID/config.v2.json` each).
    pub docker: PathBuf,
    /// Podman's storage directory (`DRIVER-containers/containers.json`).
    pub podman: PathBuf,
}

impl Default for Stores {
    fn default() -> Self {
        Stores {
            docker: DOCKER_CONTAINERS.into(),
            podman: PODMAN_STORAGE.into(),
        }
    }
}

/// The runtime whose store named a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Store {
    Docker,
    Podman,
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Store::Docker => "Docker",
            Store::Podman => "Podman",
        })
    }
}

/// The part of Docker's `config.v2.json` read here.
#[derive(Deserialize)]
struct DockerConfig {
    #[serde(rename = "Name")]
    name: String,
}

/// The part of an entry of Podman's `containers.json` read here.
#[derive(Deserialize)]
struct PodmanEntry {
    id: String,
    #[serde(default)]
    names: Vec<String>,
}

impl Stores {
    /// What was searched, for messages.
    pub fn searched(&self) -> String {
        format!(
            "Docker's {}, Podman's {}",
            self.docker.display(),
            self.podman.display()
        )
    }

    /// The containers named `name` (or Docker's `/NAME`), each id once,
    /// sorted: none, one, or (an error for the caller) several.
    pub fn named(&self, name: &str) -> Vec<(Store, String)> {
        let name = name.strip_prefix('/').unwrap_or(name);
        let docker = docker_all(&self.docker)
            .into_iter()
            .filter(|(_, n)| n == name)
            .map(|(id, _)| (Store::Docker, id));
        let podman = podman_all(&self.podman)
            .into_iter()
            .filter(|e| e.names.iter().any(|n| n == name))
            .map(|e| (Store::Podman, e.id));
        let mut found: Vec<(Store, String)> = Vec::new();
        for (store, id) in docker.chain(podman) {
            if !found.iter().any(|(_, f)| *f == id) {
                found.push((store, id));
            }
        }
        found.sort();
        found
    }

    /// The name of the container with full id `id`: Docker's, else
    /// Podman's first.
    pub fn name_of(&self, id: &str) -> Option<String> {
        if !is_full_id(id) {
            return None;
        }
        docker_name(&self.docker.join(id)).or_else(|| {
            podman_all(&self.podman)
                .into_iter()
                .find(|e| e.id == id)
                .and_then(|e| e.names.into_iter().find(|n| !n.is_empty()))
        })
    }
}

/// Whether `s` is a full container id: 64 hex digits.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The name in Docker's container directory `dir`, without its `/`.
fn docker_name(dir: &Path) -> Option<String> {
    let text = std::fs::read(dir.join("config.v2.json")).ok()?;
    let config: DockerConfig = serde_json::from_slice(&text).ok()?;
    let name = config.name.strip_prefix('/').unwrap_or(&config.name);
    (!name.is_empty()).then(|| name.to_string())
}

/// Every (id, name) of Docker's containers directory `root`.
fn docker_all(root: &Path) -> Vec<(String, String)> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| {
            let id = e.file_name().into_string().ok()?;
            if !is_full_id(&id) {
                return None;
            }
            let name = docker_name(&e.path())?;
            Some((id, name))
        })
        .collect()
}

/// Every entry of every `*-containers/containers.json` under `root`.
fn podman_all(root: &Path) -> Vec<PodmanEntry> {
    let Ok(rd) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("-containers"))
        .map(|e| e.path().join("containers.json"))
        .collect();
    files.sort();
    files.iter().flat_map(|f| podman_file(f)).collect()
}

/// The entries of one `containers.json`; a garbled entry is skipped.
fn podman_file(f: &Path) -> Vec<PodmanEntry> {
    let Ok(text) = std::fs::read(f) else {
        return Vec::new();
    };
    let Ok(items) = serde_json::from_slice::<Vec<serde_json::Value>>(&text) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::host::target::tests::tempdir;

    /// Empty stores under `t`, to fill with [`docker`] and [`podman`].
    pub fn stores(t: &Path) -> Stores {
        Stores {
            docker: t.join("docker/containers"),
            podman: t.join("containers/storage"),
        }
    }

    /// A Docker container `id` named `/name` in `s`.
    pub fn docker(s: &Stores, id: &str, name: &str) {
        let d = s.docker.join(id);
        std::fs::create_dir_all(&d).unwrap();
        let json = format!(r#"{{"ID":"{id}","Name":"/{name}","State":{{"Running":true}}}}"#);
        std::fs::write(d.join("config.v2.json"), json).unwrap();
    }

    /// Podman's `containers.json` of `driver` in `s`, as given.
    pub fn podman(s: &Stores, driver: &str, json: &str) {
        let d = s.podman.join(format!("{driver}-containers"));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("containers.json"), json).unwrap();
    }

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn names_from_both_stores_and_missing_stores_are_empty() {
        let t = tempdir::Dir::new();
        let s = stores(t.path());
        assert!(s.named("web").is_empty());
        assert_eq!(s.name_of(A), None);
        docker(&s, A, "web");
        podman(
            &s,
            "overlay",
            &format!(r#"[{{"id":"{B}","names":["db","db2"],"layer":"x"}}]"#),
        );
        assert_eq!(s.named("web"), vec![(Store::Docker, A.to_string())]);
        assert_eq!(s.named("/web"), s.named("web"));
        assert_eq!(s.named("db2"), vec![(Store::Podman, B.to_string())]);
        assert_eq!(s.name_of(A).as_deref(), Some("web"));
        assert_eq!(s.name_of(B).as_deref(), Some("db"));
        assert_eq!(s.name_of("../x"), None);
    }

    #[test]
    fn garbled_files_and_entries_are_skipped() {
        let t = tempdir::Dir::new();
        let s = stores(t.path());
        docker(&s, A, "web");
        let bad = s.docker.join(B);
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(bad.join("config.v2.json"), "{\"Name\": ").unwrap();
        std::fs::create_dir_all(s.docker.join("not-an-id")).unwrap();
        podman(&s, "vfs", "not json");
        podman(
            &s,
            "overlay",
            &format!(r#"[{{"names":["x"]}}, 7, {{"id":"{B}","names":["db"]}}]"#),
        );
        assert_eq!(s.named("web"), vec![(Store::Docker, A.to_string())]);
        assert_eq!(s.named("db"), vec![(Store::Podman, B.to_string())]);
        assert!(s.named("x").is_empty());
        assert_eq!(s.name_of(B).as_deref(), Some("db"));
    }
}
