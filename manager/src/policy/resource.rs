// SPDX-License-Identifier: GPL-2.0
//! The Kubernetes-style `SyscallPolicy` resource: a native policy with
//! `apiVersion`, `kind`, `metadata` and `spec`, as `kubectl` and the node
//! agent handle it.
//!
//! ```yaml
//! apiVersion: sysfence.dev/v1alpha1
//! kind: SyscallPolicy
//! metadata:
//!   name: web
//!   namespace: shop                # optional
//! spec:
//!   mode: enforce                  # or audit: every refusal becomes `log`;
//!                                  # or shadow: the agent sets it as the
//!                                  # cgroups' shadow (recorded, not enforced)
//!   selector:                      # which pods (read by the node agent;
//!     matchLabels: {app: web}      # `policy apply` names its target itself)
//!   containers: [nginx]            # optional, agent only
//!   default: errno                 # from here on: the native policy
//!   rules:
//!     - {syscalls: [mount], action: kill-process}
//! ```
//! `spec` holds every field of the native policy (see [`crate::policy::native`]),
//! so the resource expresses everything the kernel supports. Errors name
//! the field: `spec.rules[2].args[0].op: unknown variant ...`.

use crate::policy::native::{ActionName, PolicyError, PolicyFile};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The resource's `apiVersion`.
pub const API_VERSION: &str = "sysfence.dev/v1alpha1";
/// The resource's `kind`.
pub const KIND: &str = "SyscallPolicy";

/// `metadata`: what Kubernetes keeps about an object. Fields the API
/// server adds (`uid`, `resourceVersion`, ...) are accepted and ignored, so
/// `kubectl get -o yaml` output applies as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `spec.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The policy as written.
    #[default]
    Enforce,
    /// Every action that would refuse, trap or kill becomes `log`: see what
    /// a policy would do without doing it.
    Audit,
    /// (Node agent) the policy as written, set as the shadow of each
    /// selected container's cgroup: evaluated on every call and recorded,
    /// never enforced; what enforces there stays. Lower case, like the
    /// other modes.
    Shadow,
}

/// A Kubernetes label selector.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Requirement {
    pub key: String,
    pub operator: SelectorOp,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A `matchExpressions` operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
pub enum SelectorOp {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A parsed, validated `SyscallPolicy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallPolicy {
    pub metadata: Metadata,
    pub mode: Mode,
    pub selector: Option<LabelSelector>,
    pub containers: Vec<String>,
    /// The policy as written (before `mode`).
    pub policy: PolicyFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Raw {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: serde_norway::Mapping,
    /// What the API server reports; ignored.
    #[serde(default)]
    #[allow(dead_code)]
    status: Option<serde_norway::Value>,
}

fn err<T>(at: impl Into<String>, why: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError::invalid(at, why))
}

/// Deserializes `value`, naming the field an error is at, under `prefix`.
fn typed<T: DeserializeOwned>(value: serde_norway::Value, prefix: &str) -> Result<T, PolicyError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let at = match (prefix, path.as_str()) {
            (p, ".") => p.to_string(),
            ("", p) => p.to_string(),
            (p, q) => format!("{p}.{q}"),
        };
        PolicyError::Field {
            at,
            message: e.into_inner().to_string(),
            line: String::new(),
        }
    })
}

/// A DNS-1123 subdomain, as Kubernetes wants object names.
fn valid_name(n: &str) -> bool {
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.starts_with('-')
            && !p.ends_with('-')
    };
    n.len() <= 253 && n.split('.').all(ok_part)
}

impl SyscallPolicy {
    /// Parses and validates a resource (YAML or JSON).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        crate::policy::input::check_depth(text)?;
        let doc: serde_norway::Value =
            serde_norway::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        let raw: Raw = typed(doc, "")?;
        if raw.api_version != API_VERSION {
            return err(
                "apiVersion",
                format!(
                    "`{}` is not supported; this sysfence reads {API_VERSION}",
                    raw.api_version
                ),
            );
        }
        if raw.kind != KIND {
            return err("kind", format!("`{}` is not {KIND}", raw.kind));
        }
        if !valid_name(&raw.metadata.name) {
            return err(
                "metadata.name",
                format!(
                    "`{}` is not a valid name (lowercase letters, digits, '-' and '.', at most 253)",
                    raw.metadata.name
                ),
            );
        }
        if let Some(ns) = &raw.metadata.namespace {
            if !valid_name(ns) || ns.contains('.') || ns.len() > 63 {
                return err(
                    "metadata.namespace",
                    format!("`{ns}` is not a valid namespace name"),
                );
            }
        }
        let mut spec = raw.spec;
        let take = |spec: &mut serde_norway::Mapping, k: &str| spec.remove(k);
        let mode: Mode = match take(&mut spec, "mode") {
            Some(v) => typed(v, "spec.mode")?,
            None => Mode::Enforce,
        };
        let selector: Option<LabelSelector> = match take(&mut spec, "selector") {
            Some(v) => Some(typed(v, "spec.selector")?),
            None => None,
        };
        if let Some(s) = &selector {
            for (i, r) in s.match_expressions.iter().enumerate() {
                let needs_values = matches!(r.operator, SelectorOp::In | SelectorOp::NotIn);
                if needs_values == r.values.is_empty() {
                    return err(
                        format!("spec.selector.matchExpressions[{i}]"),
                        format!(
                            "{:?} {}",
                            r.operator,
                            if needs_values {
                                "needs values"
                            } else {
                                "takes no values"
                            }
                        ),
                    );
                }
            }
        }
        let containers: Vec<String> = match take(&mut spec, "containers") {
            Some(v) => typed(v, "spec.containers")?,
            None => Vec::new(),
        };
        let policy: PolicyFile = typed(serde_norway::Value::Mapping(spec), "spec")?;
        let out = SyscallPolicy {
            metadata: raw.metadata,
            mode,
            selector,
            containers,
            policy,
        };
        // Names, errnos, argument comparisons: the checks the kernel makes.
        out.effective()
            .to_wire()
            .map_err(|e| PolicyError::InSpec(Box::new(e)))?;
        Ok(out)
    }

    /// The policy to enforce: as written, or in audit mode with every
    /// refusal, trap and kill turned into `log`.
    pub fn effective(&self) -> PolicyFile {
        let mut p = self.policy.clone();
        if self.mode == Mode::Audit {
            let soften = |a: &mut ActionName, errno: &mut Option<u16>| {
                if *a != ActionName::Allow {
                    *a = ActionName::Log;
                    *errno = None;
                }
            };
            soften(&mut p.default, &mut p.default_errno);
            if let Some(b) = &mut p.bad_abi {
                soften(b, &mut None);
            } else {
                p.bad_abi = Some(ActionName::Log);
            }
            for r in &mut p.rules {
                soften(&mut r.action, &mut r.errno);
            }
        }
        p
    }

    /// A resource named `name` for a policy, in enforce mode.
    pub fn of_policy(name: &str, policy: PolicyFile) -> Self {
        SyscallPolicy {
            metadata: Metadata {
                name: name.to_string(),
                ..Metadata::default()
            },
            mode: Mode::Enforce,
            selector: None,
            containers: Vec::new(),
            policy,
        }
    }

    /// The resource as YAML.
    pub fn to_yaml(&self) -> Result<String, serde_norway::Error> {
        let mut spec = serde_norway::Mapping::new();
        if self.mode != Mode::Enforce {
            spec.insert("mode".into(), serde_norway::to_value(self.mode)?);
        }
        if let Some(s) = &self.selector {
            spec.insert("selector".into(), serde_norway::to_value(s)?);
        }
        if !self.containers.is_empty() {
            spec.insert(
                "containers".into(),
                serde_norway::to_value(&self.containers)?,
            );
        }
        if let serde_norway::Value::Mapping(m) = serde_norway::to_value(&self.policy)? {
            spec.extend(m);
        }
        let mut doc = serde_norway::Mapping::new();
        doc.insert("apiVersion".into(), API_VERSION.into());
        doc.insert("kind".into(), KIND.into());
        doc.insert("metadata".into(), serde_norway::to_value(&self.metadata)?);
        doc.insert("spec".into(), serde_norway::Value::Mapping(spec));
        serde_norway::to_string(&doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEB: &str = "apiVersion: sysfence.dev/v1alpha1
kind: SyscallPolicy
metadata:
  name: web
  namespace: shop
  uid: 0b7c4a2e
spec:
  selector:
    matchLabels: {app: web}
    matchExpressions:
      - {key: tier, operator: In, values: [front]}
  containers: [nginx]
  default: errno
  defaultErrno: 1
  abis: [x86_64, ia32]
  badAbi: kill-process
  rules:
    - syscalls: [getppid, read]
      action: allow
    - syscalls: [socket]
      action: errno
      errno: 97
      args: [{index: 0, op: eq, value: 40}]
      abis: [x86_64]
    - syscalls: [mount]
      action: kill-process
";

    fn parse_err(text: &str) -> String {
        SyscallPolicy::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn a_full_resource_parses_and_keeps_every_field() {
        let r = SyscallPolicy::parse(WEB).unwrap();
        assert_eq!(r.metadata.name, "web");
        assert_eq!(r.metadata.namespace.as_deref(), Some("shop"));
        assert_eq!(r.containers, vec!["nginx"]);
        assert_eq!(r.mode, Mode::Enforce);
        assert_eq!(r.policy.rules.len(), 3);
        assert_eq!(r.policy.rules[1].errno, Some(97));
        // Round trip through YAML.
        let back = SyscallPolicy::parse(&r.to_yaml().unwrap()).unwrap();
        assert_eq!(back.policy, r.policy);
        assert_eq!(back.selector, r.selector);
    }

    #[test]
    fn errors_point_at_the_field() {
        let cases = [
            (
                "op: eq",
                "op: eqq",
                "spec.rules[1].args[0].op: unknown variant `eqq`",
            ),
            (
                "action: kill-process",
                "action: deny",
                "spec.rules[2].action: unknown variant `deny`",
            ),
            (
                "  containers: [nginx]",
                "  containers: nginx",
                "spec.containers: invalid type",
            ),
            (
                "errno: 97",
                "errno: 97\n      priority: 3",
                "spec.rules[1].priority: unknown field `priority`",
            ),
            (
                "value: 40",
                "value: -1",
                "spec.rules[1].args[0].value: invalid value",
            ),
            (
                "syscalls: [mount]",
                "syscalls: [mount, no_such_call]",
                "spec.rules[2]: unknown syscall `no_such_call`",
            ),
            (
                "errno: 97",
                "errno: 5000",
                "spec.rules[1]: errno 5000 is above 4095",
            ),
            (
                "name: web",
                "name: Web_1",
                "metadata.name: `Web_1` is not a valid name",
            ),
            (
                "v1alpha1",
                "v9",
                "apiVersion: `sysfence.dev/v9` is not supported",
            ),
            (
                "kind: SyscallPolicy",
                "kind: SeccompProfile",
                "kind: `SeccompProfile` is not SyscallPolicy",
            ),
            (
                "operator: In",
                "operator: Exists",
                "spec.selector.matchExpressions[0]: Exists takes no values",
            ),
            (
                "operator: In",
                "operator: Like",
                "spec.selector.matchExpressions[0].operator: unknown variant `Like`",
            ),
            ("  default: errno\n", "", "spec: missing field `default`"),
            (
                "  selector:",
                "  mode: block\n  selector:",
                "spec.mode: unknown variant `block`",
            ),
        ];
        for (from, to, want) in cases {
            assert!(WEB.contains(from), "{from}");
            let got = parse_err(&WEB.replacen(from, to, 1));
            assert!(
                got.starts_with(want),
                "{from} -> {to}: got {got:?}, want {want:?}"
            );
        }
        assert!(parse_err("kind: SyscallPolicy\n").contains("missing field"));
    }

    #[test]
    fn audit_mode_logs_instead_of_refusing() {
        let r =
            SyscallPolicy::parse(&WEB.replacen("  containers:", "  mode: audit\n  containers:", 1))
                .unwrap();
        let p = r.effective();
        assert_eq!(p.default, ActionName::Log);
        assert_eq!(p.default_errno, None);
        assert_eq!(p.bad_abi, Some(ActionName::Log));
        assert!(p
            .rules
            .iter()
            .all(|x| matches!(x.action, ActionName::Allow | ActionName::Log) && x.errno.is_none()));
        p.to_wire().unwrap();
        // Enforce mode is the policy as written.
        assert_eq!(
            SyscallPolicy::parse(WEB).unwrap().effective().default,
            ActionName::Errno
        );
    }

    #[test]
    fn shadow_mode_is_the_policy_as_written_and_lower_case() {
        let r = SyscallPolicy::parse(&WEB.replacen(
            "  containers:",
            "  mode: shadow\n  containers:",
            1,
        ))
        .unwrap();
        assert_eq!(r.mode, Mode::Shadow);
        let enforce = SyscallPolicy::parse(WEB).unwrap();
        // The same content: promoting the shadow is enforcing the policy.
        assert_eq!(
            r.effective().to_wire().unwrap(),
            enforce.effective().to_wire().unwrap()
        );
        assert!(r.to_yaml().unwrap().contains("mode: shadow"));
        let e = SyscallPolicy::parse(&WEB.replacen(
            "  containers:",
            "  mode: Shadow\n  containers:",
            1,
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("spec.mode: unknown variant `Shadow`"), "{e}");
    }

    #[test]
    fn resources_are_told_apart_from_native_files() {
        assert_eq!(
            crate::policy::input::detect(WEB),
            crate::policy::input::Format::SyscallPolicy
        );
        assert_eq!(
            crate::policy::input::detect("default: allow\n"),
            crate::policy::input::Format::Native
        );
    }
}
