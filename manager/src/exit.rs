// SPDX-License-Identifier: GPL-2.0
//! The one table of exit codes the CLI uses.

use std::process::ExitCode;

/// Exit codes of the `sysfence` command. Clap itself exits with 2 on a usage
/// error, so that value is reserved for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// A runtime error, explained on stderr.
    Error = 1,
    /// The sysfence kernel module is not loaded.
    ModuleNotLoaded = 3,
    /// `policy diff`: the live policy and the file differ.
    Differs = 4,
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}
