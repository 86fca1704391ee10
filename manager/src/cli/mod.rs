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

use crate::exit::Usage;
use crate::host::caps::CapsError;
use crate::host::target::TargetError;
use crate::kernel::{ClientError, KernelError};
use crate::node::selection::SelectionError;
use crate::out::OutputError;
use crate::policy::action::PolicyError;

/// The error of a `sysfence` subcommand: one of the layers' own errors as
/// it is, or a message of the command's. Each prints as the layer's or the
/// message's text alone (`sysfence: TEXT` on stderr); the exit status is
/// [`crate::exit::Code::of_error`]'s, which looks inside.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A kernel request (module absent: exit 3; other protocol: exit 5).
    #[error(transparent)]
    Kernel(#[from] KernelError),
    /// The netlink client's own error (connecting, the protocol version).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A policy file or payload that cannot be applied.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A `--cgroup`, `--pid` or `--container` that names no cgroup.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// A capability set (`--caps`, a container's bounding set).
    #[error(transparent)]
    Caps(#[from] CapsError),
    /// The node agent's selection read by the OCI hook.
    #[error(transparent)]
    Selection(#[from] SelectionError),
    /// A command line clap accepted but the command cannot use (exit 2).
    #[error(transparent)]
    Usage(#[from] Usage),
    /// A failed write to standard output (a closed pipe ends quietly).
    #[error(transparent)]
    Output(#[from] OutputError),
    /// JSON that does not parse or serialize (already explained by its
    /// text, as before).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// YAML that does not serialize.
    #[error(transparent)]
    Yaml(#[from] serde_norway::Error),
    /// A policy file that cannot be read as text.
    #[error(transparent)]
    Read(#[from] crate::policy::input::ReadError),
    /// A policy file's error, after its name.
    #[error("{file}: {source}")]
    PolicyFile { file: String, source: PolicyError },
    /// A file or directory that cannot be read or written, with its path.
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    /// Any other I/O error, whose text says what failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A command-line value the command refuses after parsing (exit 1,
    /// not a usage error): the argument as written, and why.
    #[error("{arg}: {why}")]
    Arg { arg: String, why: String },
    /// A message of the command's own.
    #[error("{0}")]
    Message(String),
    /// An error of a layer still returning `Box<dyn Error>` (the agent).
    #[error(transparent)]
    Boxed(Box<dyn std::error::Error>),
}

impl Error {
    /// The error this one is, looked through: the layer's error for the
    /// transparent variants, itself for a message or a file's error.
    pub fn inner(&self) -> &(dyn std::error::Error + 'static) {
        match self {
            Error::Kernel(e) => e,
            Error::Client(e) => e,
            Error::Policy(e) => e,
            Error::Target(e) => e,
            Error::Caps(e) => e,
            Error::Selection(e) => e,
            Error::Usage(e) => e,
            Error::Output(e) => e,
            Error::Json(e) => e,
            Error::Io(e) => e,
            Error::Yaml(e) => e,
            Error::Read(e) => e,
            Error::Boxed(e) => e.as_ref(),
            Error::File { .. }
            | Error::PolicyFile { .. }
            | Error::Arg { .. }
            | Error::Message(_) => self,
        }
    }

    /// The error of the policy file `file`, printed `FILE: ERROR`.
    pub fn policy(file: impl std::fmt::Display, source: PolicyError) -> Self {
        Error::PolicyFile {
            file: file.to_string(),
            source,
        }
    }

    /// A refused command-line value, printed `ARG: WHY`.
    pub fn arg(arg: impl Into<String>, why: impl Into<String>) -> Self {
        Error::Arg {
            arg: arg.into(),
            why: why.into(),
        }
    }

    /// An I/O error on `path`, printed `PATH: ERROR`.
    pub fn file(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Error::File {
            path: path.to_string(),
            source,
        }
    }
}

impl From<crate::out::JsonLineError> for Error {
    fn from(e: crate::out::JsonLineError) -> Self {
        match e {
            crate::out::JsonLineError::Json(e) => Error::Json(e),
            crate::out::JsonLineError::Output(e) => Error::Output(e),
        }
    }
}

impl From<String> for Error {
    fn from(s: String) -> Self {
        Error::Message(s)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Self {
        Error::Message(s.to_string())
    }
}

impl From<Box<dyn std::error::Error>> for Error {
    fn from(e: Box<dyn std::error::Error>) -> Self {
        match e.downcast::<Error>() {
            Ok(e) => *e,
            Err(e) => Error::Boxed(e),
        }
    }
}
