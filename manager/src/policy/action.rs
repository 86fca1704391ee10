// SPDX-License-Identifier: GPL-2.0
//! Actions as policy files name them, and their wire values; the error of
//! a policy that cannot be applied. Shared by the native policy's rules
//! ([`super::native`]) and its object rules ([`super::objects`]).

use serde::{Deserialize, Serialize};
use std::fmt;
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

/// A policy that cannot be applied, with where and why.
#[derive(Debug, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

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
                return Err(PolicyError(format!("{what}: errno {e} is above 4095")));
            }
            action::ERRNO | e
        }
    };
    if errno.is_some() && !matches!(a, ActionName::Errno | ActionName::Trap) {
        return Err(PolicyError(format!(
            "{what}: `errno` only goes with the errno or trap action"
        )));
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
