// SPDX-License-Identifier: GPL-2.0
//! Actions as policy files name them, and their wire values; the error of
//! a policy that cannot be applied. Shared by the native policy's rules
//! ([`super::native`]) and its object rules ([`super::objects`]).

use serde::{Deserialize, Serialize};
use sysfence_abi::proto::action;

/// An action name in a policy file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ActionName {
    #[default]
    Allow,
    Log,
    Errno,
    Trap,
    KillThread,
    KillProcess,
}

/// A policy that cannot be applied, with where and why. `what` and `at`
/// are the place in the file (`rules[2]`, `syscalls[0].args[1]`,
/// `objects.net[0]`); the text of each is the message the CLI prints.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is neither YAML nor JSON (the parser's message, with
    /// its line and column).
    #[error("not a YAML or JSON document: {0}")]
    Syntax(String),
    /// A seccomp profile written as YAML.
    #[error("seccomp profile: not JSON (this one is YAML; profiles are JSON, as Docker and runc read them): {0}")]
    ProfileNotJson(String),
    /// A seccomp profile that is not valid JSON (with line and column).
    #[error("seccomp profile: not valid JSON: {0}")]
    ProfileSyntax(String),
    /// A seccomp profile's JSON does not have the profile's shape.
    #[error("seccomp profile: {0}")]
    ProfileShape(String),
    /// A field of the wrong type or a missing one, at the field path `at`;
    /// `line` is ` (line N)` or empty.
    #[error("{at}: {message}{line}")]
    Field {
        at: String,
        message: String,
        line: String,
    },
    /// Nesting deeper than the parser is let go.
    #[error("nested more than {max} levels deep at line {line} column {column} (a policy nests at most a few)")]
    TooDeep {
        max: usize,
        line: usize,
        column: usize,
    },
    /// A policy whose encoding is over the kernel's limit; `size` is a
    /// number or `more than MAX`.
    #[error("policy too large: it encodes to {size} bytes ({rules} rules), and the kernel takes at most {max} bytes per policy; use fewer argument rules or object rules")]
    TooLarge {
        size: String,
        rules: usize,
        max: usize,
    },
    /// A syscall name no listed ABI knows.
    #[error("{what}: unknown syscall `{name}` (in ABIs {abis})")]
    UnknownSyscall {
        what: String,
        name: String,
        abis: String,
    },
    /// An errno over the kernel's limit.
    #[error("{what}: errno {errno} is above 4095")]
    ErrnoTooLarge { what: String, errno: u32 },
    /// A seccomp profile's errnoRet over the kernel's limit.
    #[error("{what}: errnoRet {errno} is not 0-4095")]
    ErrnoRet { what: String, errno: u32 },
    /// `errno` given with an action that takes none.
    #[error("{what}: `errno` only goes with the errno or trap action")]
    ErrnoWithoutAction { what: String },
    /// An action name the format does not have.
    #[error("{what}: unknown action {action}")]
    UnknownAction { what: String, action: String },
    /// A seccomp action sysfence cannot honour (SCMP_ACT_NOTIFY, ...).
    #[error("{what}: {action} cannot be honoured by sysfence (it hands the decision to another process); use SCMP_ACT_ERRNO, SCMP_ACT_LOG or a kill action")]
    UnsupportedAction { what: String, action: String },
    /// An object rule's action other than allow, log, errno, kill-process.
    #[error("{what}: object actions are allow, log, errno and kill-process")]
    ObjectAction { what: String },
    /// An argument index over 5.
    #[error("{what}.args[{arg}]: index {index} is not 0-5")]
    ArgIndex {
        what: String,
        arg: usize,
        index: u64,
    },
    /// A comparison operator the format does not have.
    #[error("{what}: unknown comparison {op}")]
    UnknownOp { what: String, op: String },
    /// masked-eq without its mask.
    #[error("{what}.args[{arg}]: masked-eq needs valueTwo")]
    ValueTwoMissing { what: String, arg: usize },
    /// valueTwo with another comparison than masked-eq.
    #[error("{what}.args[{arg}]: valueTwo only goes with masked-eq")]
    ValueTwoStray { what: String, arg: usize },
    /// More argument comparisons than a call has arguments.
    #[error("{what}: more than 6 argument comparisons")]
    TooManyArgs { what: String },
    /// Any other value refused at the field path `at`, with why.
    #[error("{at}: {why}")]
    Invalid { at: String, why: String },
    /// An error in a SyscallPolicy's `spec` (a native policy), its path
    /// under `spec.`.
    #[error("spec.{0}")]
    InSpec(Box<PolicyError>),
    /// The kernel's validation of the encoded policy refused it.
    #[error("policy: {0}")]
    Refused(String),
    /// A policy read back from the kernel that does not decode.
    #[error("kernel policy: {0}")]
    KernelPolicy(String),
    /// An error whose quoted values were cut to
    /// [`crate::policy::input::MAX_ECHO`] characters: `text` is what is
    /// shown, `full` the error as found.
    #[error("{text}")]
    Shortened {
        text: String,
        full: Box<PolicyError>,
    },
    /// The rest: encoding failures that are internal errors, one-off
    /// messages.
    #[error("{0}")]
    Other(String),
}

impl PolicyError {
    /// A value refused at the field path `at`.
    pub fn invalid(at: impl Into<String>, why: impl Into<String>) -> Self {
        PolicyError::Invalid {
            at: at.into(),
            why: why.into(),
        }
    }

    /// The error with every quoted value cut to
    /// [`crate::policy::input::MAX_ECHO`] characters (the same error when
    /// nothing was cut).
    pub fn shortened(self) -> Self {
        let full = self.to_string();
        let text = crate::policy::input::shorten(&full);
        if text == full {
            self
        } else {
            PolicyError::Shortened {
                text,
                full: Box::new(self),
            }
        }
    }
}

/// The wire value of an action with its data.
pub fn action_value(a: ActionName, errno: Option<u16>, what: &str) -> Result<u32, PolicyError> {
    let v = match a {
        ActionName::Allow => action::ALLOW,
        ActionName::Log => action::LOG,
        ActionName::Trap => action::TRAP | u32::from(errno.unwrap_or(0)),
        ActionName::KillThread => action::KILL_THREAD,
        ActionName::KillProcess => action::KILL_PROCESS,
        ActionName::Errno => {
            let e = u32::from(errno.unwrap_or(1));
            if e > sysfence_abi::proto::limits::MAX_ERRNO {
                return Err(PolicyError::ErrnoTooLarge {
                    what: what.into(),
                    errno: e,
                });
            }
            action::ERRNO | e
        }
    };
    if errno.is_some() && !matches!(a, ActionName::Errno | ActionName::Trap) {
        return Err(PolicyError::ErrnoWithoutAction { what: what.into() });
    }
    Ok(v)
}

/// An action as text for decision lines (`errno(13)`, `allow`).
pub fn action_text(a: ActionName, errno: Option<u16>) -> String {
    match a {
        ActionName::Errno => format!("errno({})", errno.unwrap_or(1)),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
    }
}

/// The action name (and errno) of a wire action value.
pub fn action_name(v: u32) -> (ActionName, Option<u16>) {
    let data = (v & action::DATA_MASK) as u16;
    match v & action::ACTION_MASK {
        action::ALLOW => (ActionName::Allow, None),
        action::LOG => (ActionName::Log, None),
        action::ERRNO => (ActionName::Errno, Some(data)),
        action::TRAP => (ActionName::Trap, (data != 0).then_some(data)),
        action::KILL_THREAD => (ActionName::KillThread, None),
        _ => (ActionName::KillProcess, None),
    }
}

#[cfg(test)]
mod tests {
    use super::PolicyError;

    /// Each variant prints the text the `format!` strings it replaced did
    /// (tests/guest/*.sh grep for them).
    #[test]
    fn variants_print_the_messages_as_before() {
        let s = |e: PolicyError| e.to_string();
        let what = || "rules[2]".to_string();
        assert_eq!(
            s(PolicyError::UnknownSyscall {
                what: what(),
                name: "nosuch".into(),
                abis: "x86_64, ia32".into()
            }),
            "rules[2]: unknown syscall `nosuch` (in ABIs x86_64, ia32)"
        );
        assert_eq!(
            s(PolicyError::ArgIndex {
                what: what(),
                arg: 1,
                index: 9
            }),
            "rules[2].args[1]: index 9 is not 0-5"
        );
        assert_eq!(
            s(PolicyError::ValueTwoMissing {
                what: what(),
                arg: 0
            }),
            "rules[2].args[0]: masked-eq needs valueTwo"
        );
        assert_eq!(
            s(PolicyError::ErrnoTooLarge {
                what: what(),
                errno: 5000
            }),
            "rules[2]: errno 5000 is above 4095"
        );
        assert_eq!(
            s(PolicyError::TooDeep {
                max: 64,
                line: 3,
                column: 7
            }),
            "nested more than 64 levels deep at line 3 column 7 (a policy nests at most a few)"
        );
        assert_eq!(
            s(PolicyError::Field {
                at: "rules[0].action".into(),
                message: "unknown variant `x`".into(),
                line: " (line 4)".into()
            }),
            "rules[0].action: unknown variant `x` (line 4)"
        );
        assert_eq!(
            s(PolicyError::InSpec(Box::new(PolicyError::TooManyArgs {
                what: what()
            }))),
            "spec.rules[2]: more than 6 argument comparisons"
        );
        let long = PolicyError::invalid("kind", format!("`{}` is not X", "a".repeat(1000)));
        let short = long.shortened();
        assert!(matches!(short, PolicyError::Shortened { .. }));
        assert!(short.to_string().len() < 1000);
        let plain = PolicyError::Refused("x".into()).shortened();
        assert_eq!(plain, PolicyError::Refused("x".into()));
    }
}
