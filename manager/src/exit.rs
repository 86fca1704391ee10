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
    /// The loaded module speaks another protocol version than this manager.
    AbiMismatch = 5,
}

impl Code {
    /// The exit code for an error: the module's absence and a protocol
    /// mismatch have their own codes, anything else is [`Code::Error`].
    pub fn of_error(err: &(dyn std::error::Error + 'static)) -> Code {
        match err.downcast_ref::<crate::client::ClientError>() {
            Some(crate::client::ClientError::NoFamily) => Code::ModuleNotLoaded,
            Some(crate::client::ClientError::Version(_)) => Code::AbiMismatch,
            _ => Code::Error,
        }
    }
}

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use crate::client::ClientError;

    #[test]
    fn module_errors_have_their_own_codes_and_say_what_to_do() {
        let missing: Box<dyn std::error::Error> = Box::new(ClientError::NoFamily);
        assert_eq!(Code::of_error(missing.as_ref()), Code::ModuleNotLoaded);
        let old: Box<dyn std::error::Error> = Box::new(ClientError::Version(0));
        assert_eq!(Code::of_error(old.as_ref()), Code::AbiMismatch);
        let text = old.to_string();
        assert!(
            text.contains("protocol version 0") && text.contains("insmod"),
            "{text}"
        );
        let other: Box<dyn std::error::Error> = "x".into();
        assert_eq!(Code::of_error(other.as_ref()), Code::Error);
    }
}
