// SPDX-License-Identifier: GPL-2.0
//! The one table of exit codes the CLI uses.

use std::process::ExitCode;

/// Exit codes of the `sysfence` command. Clap itself exits with 2 on a usage
/// error; [`Usage`] errors found after parsing exit with 2 as well.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Success; also a standard output whose reader went away (EPIPE), as
    /// the output was not wanted any more (see `crate::out`).
    Ok = 0,
    /// A runtime error, explained on stderr; a failed write to standard
    /// output (ENOSPC) is one.
    Error = 1,
    /// A usage error found after the command line was parsed ([`Usage`]).
    Usage = 2,
    /// The sysfence kernel module is not loaded.
    ModuleNotLoaded = 3,
    /// `policy diff`: the live policy and the file differ.
    Differs = 4,
    /// The loaded module speaks another protocol version than this manager.
    AbiMismatch = 5,
}

impl Code {
    /// The exit code for an error: the module's absence and a protocol
    /// mismatch have their own codes, anything else is [`Code::Error`]. A
    /// subcommand's error ([`crate::cli::Error`]) is looked inside.
    pub fn of_error(err: &(dyn std::error::Error + 'static)) -> Code {
        let err = match err.downcast_ref::<crate::cli::Error>() {
            Some(e) => e.inner(),
            None => err,
        };
        if err.is::<Usage>() {
            return Code::Usage;
        }
        use crate::kernel::{ClientError, KernelError};
        // The client's error, on its own or as a kernel request's.
        let client = err.downcast_ref::<ClientError>().or_else(|| {
            err.downcast_ref::<KernelError>()
                .and_then(KernelError::client)
        });
        match client {
            Some(ClientError::NoFamily) => Code::ModuleNotLoaded,
            Some(ClientError::Version(_)) => Code::AbiMismatch,
            _ => Code::Error,
        }
    }
}

/// A command line clap accepted but the command cannot use (arguments that
/// depend on each other, a syscall name no ABI knows): exit status 2, as
/// for clap's own usage errors.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

impl From<Code> for ExitCode {
    fn from(code: Code) -> Self {
        ExitCode::from(code as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::Code;
    use crate::kernel::client::ClientError;

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
        // A kernel request's error keeps the client's code.
        let request: Box<dyn std::error::Error> =
            Box::new(crate::kernel::KernelError::from(ClientError::NoFamily));
        assert_eq!(Code::of_error(request.as_ref()), Code::ModuleNotLoaded);
        let usage: Box<dyn std::error::Error> = Box::new(super::Usage("x".into()));
        assert_eq!(Code::of_error(usage.as_ref()), Code::Usage);
    }

    /// A subcommand's error keeps the code of the error it wraps, boxed
    /// (as the agent's) or not.
    #[test]
    fn cli_errors_keep_the_codes_of_what_they_wrap() {
        use crate::cli::Error;
        use crate::kernel::KernelError;
        let code = |e: Error| Code::of_error(&e);
        assert_eq!(
            code(KernelError::from(ClientError::NoFamily).into()),
            Code::ModuleNotLoaded
        );
        assert_eq!(
            code(KernelError::from(ClientError::Version(0)).into()),
            Code::AbiMismatch
        );
        assert_eq!(code(ClientError::NoFamily.into()), Code::ModuleNotLoaded);
        assert_eq!(code(super::Usage("x".into()).into()), Code::Usage);
        let boxed: Box<dyn std::error::Error> =
            Box::new(KernelError::from(ClientError::Version(0)));
        assert_eq!(code(boxed.into()), Code::AbiMismatch);
        assert_eq!(code("x".into()), Code::Error);
        let closed =
            crate::out::OutputError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(crate::out::is_closed(Error::from(closed).inner()));
    }
}
