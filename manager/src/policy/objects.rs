// SPDX-License-Identifier: GPL-2.0
//! The `objects` section of a native policy: rules on the files opened,
//! the programs executed, the sockets created and the addresses connected
//! or bound to, decided by the module on the kernel's own copies of them.
//!
//! ```yaml
//! objects:
//!   defaults: {files: allow, exec: allow, sockets: allow, connect: allow, bind: allow}
//!   files:
//!     - {path: /etc/shadow, access: [read, write], action: errno, errno: 13}
//!     - {prefix: /secret, action: kill-process}     # /secret and below
//!   exec:
//!     - {path: /usr/bin/curl, action: errno}
//!   sockets:
//!     - {family: vsock, action: errno, errno: 97}    # type, protocol optional
//!   connect:
//!     - {address: 127.0.0.0/8, ports: 1-1023, action: errno, errno: 111}
//!     - {unix: /run/docker.sock, action: kill-process}
//!   bind:
//!     - {family: inet6, ports: 8080, action: log}
//! ```
//! Actions: allow, log, errno (EPERM unless `errno` says), kill-process.
//! Among the matching rules of a class the most restrictive action wins;
//! none matching gives the class's default (allow).

use crate::policy::action::{action_name, action_text, action_value, ActionName, PolicyError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;
use sysfence_abi::nla::{Error as NlaError, Writer};
use sysfence_abi::objects::{AF_INET, AF_INET6, AF_UNIX};
use sysfence_abi::proto::{access, action, attr, class};

/// A number, or a name for one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NumOrName {
    Num(u32),
    Name(String),
}

/// In a CustomResourceDefinition, a number or a string is Kubernetes'
/// int-or-string (an untagged enum's `anyOf` is not a structural schema).
#[cfg(feature = "agent")]
impl schemars::JsonSchema for NumOrName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NumOrName".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "x-kubernetes-int-or-string": true })
    }
}

/// A file access kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AccessName {
    Read,
    Write,
    Create,
}

/// One object rule (which fields apply depends on its section).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjRule {
    /// files, exec: this exact path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// files, exec: this path and everything below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// files: the accesses the rule is for (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<Vec<AccessName>>,
    /// sockets, connect, bind: unix, inet, inet6, netlink, packet, vsock or
    /// a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<NumOrName>,
    /// sockets: stream, dgram, raw, seqpacket or a number.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<NumOrName>,
    /// sockets: the protocol number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u32>,
    /// connect, bind: an IPv4 or IPv6 address or CIDR block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// connect, bind: a port or a range `LOW-HIGH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<NumOrName>,
    /// connect, bind: a Unix socket path (`@name`: abstract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix: Option<String>,
    /// connect, bind: a Unix socket path and everything below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix_prefix: Option<String>,
    pub action: ActionName,
    // The errno of an errno action: 1-4095, not the kernel's own codes
    // (checked as it is read, so that the error names its line). A plain
    // comment: a doc comment would change the CRD's schema.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "errno_field"
    )]
    pub errno: Option<u16>,
}

fn errno_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let e = u16::deserialize(d)?;
    match errno_problem(u32::from(e)) {
        Some(why) => Err(serde::de::Error::custom(why)),
        None => Ok(Some(e)),
    }
}

/// Why `e` cannot be an object rule's errno, if it cannot: the module
/// refuses the same (`action::is_object_errno`), with a terser message.
pub fn errno_problem(e: u32) -> Option<String> {
    if action::is_object_errno(e) {
        return None;
    }
    Some(if e == 0 {
        "errno 0 is not an errno: an object rule refusing with 0 would let the operation go ahead; give 1-4095 (EPERM is 1, EACCES 13)".into()
    } else if e > sysfence_abi::proto::limits::MAX_ERRNO {
        format!("errno {e} is above 4095")
    } else {
        format!(
            "errno {e} is one of the kernel's own codes ({}-{}: ERESTARTSYS, ERESTART_RESTARTBLOCK, EOPENSTALE...), which programs never see and on which the kernel restarts or retries; give an errno programs know (EPERM is 1, EACCES 13)",
            action::KERNEL_ERRNO_FIRST,
            action::KERNEL_ERRNO_LAST
        )
    })
}

/// Default actions per class.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<ActionName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ActionName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sockets: Option<ActionName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<ActionName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind: Option<ActionName>,
}

/// The `objects` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Objects {
    #[serde(default, skip_serializing_if = "is_default")]
    pub defaults: Defaults,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<ObjRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec: Vec<ObjRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sockets: Vec<ObjRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connect: Vec<ObjRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bind: Vec<ObjRule>,
}

fn is_default(d: &Defaults) -> bool {
    *d == Defaults::default()
}

const SECTIONS: [(&str, u32); 5] = [
    ("files", class::FILE),
    ("exec", class::EXEC),
    ("sockets", class::SOCKET),
    ("connect", class::CONNECT),
    ("bind", class::BIND),
];

const FAMILIES: [(&str, u32); 6] = [
    ("unix", AF_UNIX),
    ("inet", AF_INET),
    ("inet6", AF_INET6),
    ("netlink", 16),
    ("packet", 17),
    ("vsock", 40),
];

const TYPES: [(&str, u32); 4] = [("stream", 1), ("dgram", 2), ("raw", 3), ("seqpacket", 5)];

fn err<T>(at: impl Into<String>, why: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError::invalid(at, why))
}

fn number(v: &NumOrName, names: &[(&str, u32)], what: &str) -> Result<u32, PolicyError> {
    match v {
        NumOrName::Num(n) => Ok(*n),
        NumOrName::Name(s) => match names.iter().find(|(n, _)| n == s) {
            Some((_, v)) => Ok(*v),
            None => match s.parse() {
                Ok(n) => Ok(n),
                Err(_) => err(
                    what,
                    format!(
                        "unknown `{s}` ({}, or a number)",
                        names.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                ),
            },
        },
    }
}

fn name_of(v: u32, names: &[(&str, u32)]) -> NumOrName {
    match names.iter().find(|(_, n)| *n == v) {
        Some((s, _)) => NumOrName::Name((*s).to_string()),
        None => NumOrName::Num(v),
    }
}

fn ports(v: &NumOrName, what: &str) -> Result<(u32, u32), PolicyError> {
    let bad = || PolicyError::invalid(format!("{what}.ports"), "want a port or LOW-HIGH, 0-65535");
    let (lo, hi) = match v {
        NumOrName::Num(n) => (*n, *n),
        NumOrName::Name(s) => match s.split_once('-') {
            Some((a, b)) => (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ),
            None => {
                let n = s.trim().parse().map_err(|_| bad())?;
                (n, n)
            }
        },
    };
    if lo > 65_535 || hi > 65_535 || lo > hi {
        return Err(bad());
    }
    Ok((lo, hi))
}

/// `address` as bytes and prefix length.
fn cidr(s: &str, what: &str) -> Result<(Vec<u8>, u32), PolicyError> {
    let (ip, len) = match s.split_once('/') {
        Some((ip, len)) => (ip, Some(len)),
        None => (s, None),
    };
    let ip: IpAddr = ip.trim().parse().map_err(|_| {
        PolicyError::invalid(
            format!("{what}.address"),
            format!("`{s}` is not an IP address or CIDR block"),
        )
    })?;
    let bytes = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let max = bytes.len() as u32 * 8;
    let len = match len {
        Some(l) => l.trim().parse().ok().filter(|l| *l <= max).ok_or_else(|| {
            PolicyError::invalid(
                format!("{what}.address"),
                format!("prefix length of `{s}` is not 0-{max}"),
            )
        })?,
        None => max,
    };
    Ok((bytes, len))
}

fn nul(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

impl Objects {
    /// Whether there is nothing in the section.
    pub fn is_empty(&self) -> bool {
        *self == Objects::default()
    }

    fn section(&self, c: u32) -> &[ObjRule] {
        match c {
            class::FILE => &self.files,
            class::EXEC => &self.exec,
            class::SOCKET => &self.sockets,
            class::CONNECT => &self.connect,
            _ => &self.bind,
        }
    }

    fn section_mut(&mut self, c: u32) -> &mut Vec<ObjRule> {
        match c {
            class::FILE => &mut self.files,
            class::EXEC => &mut self.exec,
            class::SOCKET => &mut self.sockets,
            class::CONNECT => &mut self.connect,
            _ => &mut self.bind,
        }
    }

    fn default_of(&self, c: u32) -> Option<ActionName> {
        match c {
            class::FILE => self.defaults.files,
            class::EXEC => self.defaults.exec,
            class::SOCKET => self.defaults.sockets,
            class::CONNECT => self.defaults.connect,
            _ => self.defaults.bind,
        }
    }

    fn default_mut(&mut self, c: u32) -> &mut Option<ActionName> {
        match c {
            class::FILE => &mut self.defaults.files,
            class::EXEC => &mut self.defaults.exec,
            class::SOCKET => &mut self.defaults.sockets,
            class::CONNECT => &mut self.defaults.connect,
            _ => &mut self.defaults.bind,
        }
    }

    /// Checks the section and writes it as `POLICY_OBJECT` and
    /// `POLICY_OBJECT_DEFAULT` attributes.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), PolicyError> {
        let too_big = |_: NlaError| PolicyError::Other("policy too large to encode".into());
        for (name, c) in SECTIONS {
            if let Some(d) = self.default_of(c) {
                let what = format!("objects.defaults.{name}");
                let a = object_action(d, None, &what)?;
                w.nest(attr::POLICY_OBJECT_DEFAULT, |w| {
                    w.put_u32(attr::OBJ_CLASS, c)?;
                    w.put_u32(attr::OBJ_ACTION, a)
                })
                .map_err(too_big)?;
            }
            for (i, r) in self.section(c).iter().enumerate() {
                let what = format!("objects.{name}[{i}]");
                let attrs = rule_attrs(r, c, &what)?;
                w.nest(attr::POLICY_OBJECT, |w| {
                    for (k, v) in &attrs {
                        w.put(*k, v)?;
                    }
                    Ok(())
                })
                .map_err(too_big)?;
            }
        }
        Ok(())
    }

    /// Adds one `POLICY_OBJECT` or `POLICY_OBJECT_DEFAULT` nest read back
    /// from the kernel.
    pub fn add_from_wire(&mut self, nest: &sysfence_abi::nla::Attr<'_>) {
        let mut r = ObjRule::default();
        let (mut c, mut act, mut is_prefix) = (0, action::ALLOW, false);
        let (mut path, mut addr, mut plen, mut lo, mut hi) = (None, None, None, None, None);
        for a in nest.nested_iter().flatten() {
            let v = a.u32().unwrap_or(0);
            match a.kind {
                attr::OBJ_CLASS => c = v,
                attr::OBJ_ACTION => act = v,
                attr::OBJ_PATH => path = a.str().map(str::to_owned),
                attr::OBJ_PREFIX => is_prefix = true,
                attr::OBJ_ACCESS => {
                    let mut l = Vec::new();
                    for (bit, n) in [
                        (access::READ, AccessName::Read),
                        (access::WRITE, AccessName::Write),
                        (access::CREATE, AccessName::Create),
                    ] {
                        if v & bit != 0 {
                            l.push(n);
                        }
                    }
                    r.access = Some(l);
                }
                attr::OBJ_FAMILY => r.family = Some(name_of(v, &FAMILIES)),
                attr::OBJ_TYPE => r.kind = Some(name_of(v, &TYPES)),
                attr::OBJ_PROTOCOL => r.protocol = Some(v),
                attr::OBJ_ADDR => addr = Some(a.payload.to_vec()),
                attr::OBJ_ADDR_PREFIX => plen = Some(v),
                attr::OBJ_PORT_MIN => lo = Some(v),
                attr::OBJ_PORT_MAX => hi = Some(v),
                _ => {}
            }
        }
        if !(1..=class::COUNT).contains(&c) {
            return;
        }
        let (name, errno) = action_name(act);
        if nest.kind == attr::POLICY_OBJECT_DEFAULT {
            *self.default_mut(c) = Some(name);
            return;
        }
        r.action = name;
        r.errno = errno;
        let net = c == class::CONNECT || c == class::BIND;
        match (path, net, is_prefix) {
            (Some(p), false, false) => r.path = Some(p),
            (Some(p), false, true) => r.prefix = Some(p),
            (Some(p), true, false) => r.unix = Some(p),
            (Some(p), true, true) => r.unix_prefix = Some(p),
            _ => {}
        }
        if let Some(bytes) = addr {
            let ip = match bytes.len() {
                4 => <[u8; 4]>::try_from(bytes.as_slice()).ok().map(IpAddr::from),
                _ => <[u8; 16]>::try_from(bytes.as_slice())
                    .ok()
                    .map(IpAddr::from),
            };
            if let Some(ip) = ip {
                let max = bytes.len() as u32 * 8;
                r.address = Some(match plen {
                    Some(l) if l != max => format!("{ip}/{l}"),
                    _ => ip.to_string(),
                });
            }
        }
        if let Some(lo) = lo {
            let hi = hi.unwrap_or(lo);
            r.ports = Some(if hi == lo {
                NumOrName::Num(lo)
            } else {
                NumOrName::Name(format!("{lo}-{hi}"))
            });
        }
        self.section_mut(c).push(r);
    }

    /// Rules that cannot do what they seem to, one line each (for
    /// `policy apply`): exec rules naming programs (one line for all: a
    /// path does not stop the program run another way), a connect rule on
    /// the unspecified address, which a
    /// connect never reaches (Linux connects 0.0.0.0 and `::` to the host
    /// itself, and the module decides them as 127.0.0.1 and `::1`), and
    /// IPv4-mapped rule addresses, which match nothing (the module matches
    /// a mapped address as IPv4).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let named = self
            .exec
            .iter()
            .filter(|r| r.path.is_some() || r.prefix.is_some())
            .count();
        if named > 0 {
            out.push(format!(
                "{named} exec rule(s) name programs by path, which does not stop the same program run through the dynamic loader (/lib64/ld-linux-x86-64.so.2 PROGRAM), from a copy or from a memfd: see \"Exec rules: what they cover\" in docs/SECURITY.md"
            ));
        }
        for (name, rules) in [("connect", &self.connect), ("bind", &self.bind)] {
            for (i, r) in rules.iter().enumerate() {
                let Some(a) = &r.address else { continue };
                let Ok((bytes, len)) = cidr(a, "") else {
                    continue;
                };
                // Whether `ip` is in the rule's block (`len` leading bits).
                let within = |ip: &[u8]| {
                    (0..len).all(|b| {
                        let (k, m) = ((b / 8) as usize, 0x80u8 >> (b % 8));
                        bytes.get(k).map(|x| x & m) == ip.get(k).map(|x| x & m)
                    })
                };
                let mut lo = vec![0u8; bytes.len()];
                if bytes.len() == 4 {
                    lo[0] = 127;
                    lo[3] = 1;
                } else {
                    lo[15] = 1;
                }
                let any = vec![0u8; bytes.len()];
                if name == "connect" && within(&any) && !within(&lo) {
                    out.push(format!(
                        "objects.connect[{i}]: `{a}` names the unspecified address, which a connect never reaches: Linux connects it to the host itself, and sysfence decides it as {} (name that instead)",
                        if bytes.len() == 4 { "127.0.0.1" } else { "::1" }
                    ));
                }
                let mapped = bytes.len() == 16
                    && len >= 96
                    && bytes[..10].iter().all(|&b| b == 0)
                    && bytes[10..12] == [0xff, 0xff];
                if mapped {
                    out.push(format!(
                        "objects.{name}[{i}]: `{a}` is an IPv4-mapped address, which matches nothing: sysfence matches a mapped address as IPv4 (write it as IPv4)"
                    ));
                }
            }
        }
        out
    }

    /// One line per object decision rule, for `policy diff`.
    pub fn decision_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, c) in SECTIONS {
            let d = self.default_of(c).unwrap_or(ActionName::Allow);
            out.push(format!("objects {name} default: {}", action_text(d, None)));
            let mut lines: Vec<String> = self
                .section(c)
                .iter()
                .map(|r| {
                    let mut fields: BTreeMap<&str, String> = BTreeMap::new();
                    let mut put = |k, v: Option<String>| {
                        if let Some(v) = v {
                            fields.insert(k, v);
                        }
                    };
                    put("path", r.path.clone());
                    put("prefix", r.prefix.clone());
                    put(
                        "access",
                        r.access.as_ref().map(|a| format!("{a:?}").to_lowercase()),
                    );
                    put(
                        "family",
                        r.family
                            .as_ref()
                            .and_then(|f| number(f, &FAMILIES, "").ok())
                            .map(|v| v.to_string()),
                    );
                    put(
                        "type",
                        r.kind
                            .as_ref()
                            .and_then(|f| number(f, &TYPES, "").ok())
                            .map(|v| v.to_string()),
                    );
                    put("protocol", r.protocol.map(|v| v.to_string()));
                    put(
                        "address",
                        r.address
                            .as_ref()
                            .and_then(|a| cidr(a, "").ok())
                            .map(|(b, l)| format!("{b:?}/{l}")),
                    );
                    put(
                        "ports",
                        r.ports
                            .as_ref()
                            .and_then(|p| ports(p, "").ok())
                            .map(|(a, b)| format!("{a}-{b}")),
                    );
                    put("unix", r.unix.clone());
                    put("unixPrefix", r.unix_prefix.clone());
                    let f: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!(
                        "objects {name} {}: {}",
                        f.join(" "),
                        action_text(r.action, object_errno(r))
                    )
                })
                .collect();
            lines.sort();
            lines.dedup();
            out.extend(lines);
        }
        out
    }
}

/// The errno an object rule's errno action returns (EPERM by default).
fn object_errno(r: &ObjRule) -> Option<u16> {
    match r.action {
        ActionName::Errno => Some(r.errno.unwrap_or(1)),
        _ => r.errno,
    }
}

fn object_action(a: ActionName, errno: Option<u16>, what: &str) -> Result<u32, PolicyError> {
    if matches!(a, ActionName::Trap | ActionName::KillThread) {
        return Err(PolicyError::ObjectAction { what: what.into() });
    }
    let v = action_value(a, errno, what)?;
    if a == ActionName::Errno {
        if let Some(why) = errno_problem(v & action::DATA_MASK) {
            return err(format!("{what}.errno"), why);
        }
    }
    Ok(v)
}

/// The attributes of one rule of class `c`, checked.
fn rule_attrs(r: &ObjRule, c: u32, what: &str) -> Result<Vec<(u16, Vec<u8>)>, PolicyError> {
    let mut v: Vec<(u16, Vec<u8>)> = vec![
        (attr::OBJ_CLASS, c.to_ne_bytes().to_vec()),
        (
            attr::OBJ_ACTION,
            object_action(r.action, r.errno, what)?
                .to_ne_bytes()
                .to_vec(),
        ),
    ];
    let file_like = c == class::FILE || c == class::EXEC;
    let net = c == class::CONNECT || c == class::BIND;
    let not_here = |field: &str| -> Result<(), PolicyError> {
        err(what, format!("`{field}` does not apply to this section"))
    };
    if !file_like && (r.path.is_some() || r.prefix.is_some()) {
        not_here(if r.path.is_some() { "path" } else { "prefix" })?;
    }
    if c != class::FILE && r.access.is_some() {
        not_here("access")?;
    }
    if file_like && r.family.is_some() {
        not_here("family")?;
    }
    if c != class::SOCKET && (r.kind.is_some() || r.protocol.is_some()) {
        not_here(if r.kind.is_some() { "type" } else { "protocol" })?;
    }
    if !net {
        for (f, present) in [
            ("address", r.address.is_some()),
            ("ports", r.ports.is_some()),
            ("unix", r.unix.is_some()),
            ("unixPrefix", r.unix_prefix.is_some()),
        ] {
            if present {
                not_here(f)?;
            }
        }
    }
    match (&r.path, &r.prefix) {
        (Some(_), Some(_)) => return err(what, "give `path` or `prefix`, not both"),
        (Some(p), None) => v.push((attr::OBJ_PATH, nul(p))),
        (None, Some(p)) => {
            v.push((attr::OBJ_PATH, nul(p)));
            v.push((attr::OBJ_PREFIX, Vec::new()));
        }
        (None, None) => {}
    }
    match (&r.unix, &r.unix_prefix) {
        (Some(_), Some(_)) => return err(what, "give `unix` or `unixPrefix`, not both"),
        (Some(p), None) => v.push((attr::OBJ_PATH, nul(p))),
        (None, Some(p)) => {
            v.push((attr::OBJ_PATH, nul(p)));
            v.push((attr::OBJ_PREFIX, Vec::new()));
        }
        (None, None) => {}
    }
    if let Some(a) = &r.access {
        if a.is_empty() {
            return err(format!("{what}.access"), "name read, write or create");
        }
        let bits = a.iter().fold(0, |m, x| {
            m | match x {
                AccessName::Read => access::READ,
                AccessName::Write => access::WRITE,
                AccessName::Create => access::CREATE,
            }
        });
        v.push((attr::OBJ_ACCESS, u32::to_ne_bytes(bits).to_vec()));
    }
    if let Some(f) = &r.family {
        let fam = number(f, &FAMILIES, &format!("{what}.family"))?;
        v.push((attr::OBJ_FAMILY, fam.to_ne_bytes().to_vec()));
    }
    if let Some(t) = &r.kind {
        let t = number(t, &TYPES, &format!("{what}.type"))?;
        v.push((attr::OBJ_TYPE, t.to_ne_bytes().to_vec()));
    }
    if let Some(p) = r.protocol {
        v.push((attr::OBJ_PROTOCOL, p.to_ne_bytes().to_vec()));
    }
    if let Some(a) = &r.address {
        let (bytes, len) = cidr(a, what)?;
        v.push((attr::OBJ_ADDR, bytes));
        v.push((attr::OBJ_ADDR_PREFIX, len.to_ne_bytes().to_vec()));
    }
    if let Some(p) = &r.ports {
        let (lo, hi) = ports(p, what)?;
        v.push((attr::OBJ_PORT_MIN, lo.to_ne_bytes().to_vec()));
        v.push((attr::OBJ_PORT_MAX, hi.to_ne_bytes().to_vec()));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use crate::policy::native::PolicyFile;

    const P: &str = "default: allow
objects:
  defaults: {exec: allow, bind: log}
  files:
    - {path: /etc/shadow, access: [read, write], action: errno, errno: 13}
    - {prefix: /secret, action: kill-process}
  exec:
    - {path: /usr/bin/curl, action: errno}
  sockets:
    - {family: vsock, type: stream, action: errno, errno: 97}
  connect:
    - {address: 127.0.0.0/8, ports: 1-1023, action: errno, errno: 111}
    - {address: '::1', ports: 22, action: errno}
    - {unix: /run/docker.sock, action: kill-process}
  bind:
    - {family: inet6, unixPrefix: /run/x, action: log}
";

    #[test]
    fn object_errnos_are_checked_however_the_policy_was_made() {
        // Built in code (a resource's spec, a program), not read from text:
        // to_wire checks the errno as the module will.
        let mut p =
            PolicyFile::parse(&P.replace("{family: inet6, unixPrefix", "{unixPrefix")).unwrap();
        for (e, want) in [
            (0u16, "objects.exec[0].errno: errno 0 is not an errno"),
            (
                514,
                "objects.exec[0].errno: errno 514 is one of the kernel's own codes",
            ),
            (
                531,
                "objects.exec[0].errno: errno 531 is one of the kernel's own codes",
            ),
        ] {
            p.objects.exec[0].errno = Some(e);
            let got = p.to_wire().unwrap_err().to_string();
            assert!(got.contains(want), "{e}: {got}");
        }
        for e in [1u16, 13, 511, 532, 4095] {
            p.objects.exec[0].errno = Some(e);
            p.to_wire().unwrap_or_else(|x| panic!("errno {e}: {x}"));
        }
        // Syscall rules keep seccomp's errnos, 0 included.
        let s = PolicyFile::parse(
            "default: allow\nrules: [{syscalls: [mount], action: errno, errno: 0}, {syscalls: [umount2], action: errno, errno: 512}]",
        )
        .unwrap();
        assert!(s.to_wire().is_ok());
    }

    #[test]
    fn exec_rules_naming_programs_get_one_warning() {
        let p = PolicyFile::parse(
            "default: allow
objects:
  exec:
    - {path: /usr/bin/curl, action: errno}
    - {prefix: /opt/tools, action: kill-process}
    - {action: log}
",
        )
        .unwrap();
        assert_eq!(
            p.warnings(),
            ["2 exec rule(s) name programs by path, which does not stop the same program run through the dynamic loader (/lib64/ld-linux-x86-64.so.2 PROGRAM), from a copy or from a memfd: see \"Exec rules: what they cover\" in docs/SECURITY.md"]
        );
        // An exec rule on every program names none; other classes neither.
        let p = PolicyFile::parse(
            "default: allow\nobjects:\n  exec: [{action: log}]\n  files: [{path: /usr/bin/curl, action: errno}]",
        )
        .unwrap();
        assert_eq!(p.warnings(), Vec::<String>::new());
    }

    #[test]
    fn connect_rules_that_cannot_match_are_warned_about() {
        let p = PolicyFile::parse(
            "default: allow
objects:
  connect:
    - {address: 0.0.0.0, action: errno}
    - {address: 0.0.0.0/8, ports: 22, action: errno}
    - {address: 0.0.0.0/0, action: log}
    - {address: '::', action: errno}
    - {address: '::/127', action: errno}
    - {address: 127.0.0.1, action: errno}
    - {address: '::ffff:10.0.0.0/104', action: errno}
  bind:
    - {address: 0.0.0.0, action: errno}
    - {address: '::ffff:127.0.0.1', action: errno}
",
        )
        .unwrap();
        assert_eq!(
            p.warnings(),
            [
                "objects.connect[0]: `0.0.0.0` names the unspecified address, which a connect never reaches: Linux connects it to the host itself, and sysfence decides it as 127.0.0.1 (name that instead)",
                "objects.connect[1]: `0.0.0.0/8` names the unspecified address, which a connect never reaches: Linux connects it to the host itself, and sysfence decides it as 127.0.0.1 (name that instead)",
                "objects.connect[3]: `::` names the unspecified address, which a connect never reaches: Linux connects it to the host itself, and sysfence decides it as ::1 (name that instead)",
                "objects.connect[6]: `::ffff:10.0.0.0/104` is an IPv4-mapped address, which matches nothing: sysfence matches a mapped address as IPv4 (write it as IPv4)",
                "objects.bind[1]: `::ffff:127.0.0.1` is an IPv4-mapped address, which matches nothing: sysfence matches a mapped address as IPv4 (write it as IPv4)",
            ]
        );
    }

    #[test]
    fn objects_round_trip_through_the_wire() {
        let bad = PolicyFile::parse(P).unwrap();
        // family inet6 with a Unix path: the kernel's own check refuses it.
        let e = bad.to_wire().unwrap_err().to_string();
        assert!(e.contains("AF_UNIX only"), "{e}");
        let p = PolicyFile::parse(&P.replace("{family: inet6, unixPrefix", "{unixPrefix")).unwrap();
        let wire = p.to_wire().unwrap();
        let back = crate::policy::native::from_payload(&wire).unwrap();
        assert_eq!(back.objects.files.len(), 2);
        assert_eq!(back.objects.connect[1].address.as_deref(), Some("::1"));
        assert_eq!(back.decision_lines(), p.decision_lines());
        // And the text form reads back to the same policy.
        let again = PolicyFile::parse(&serde_norway::to_string(&back).unwrap()).unwrap();
        assert_eq!(again.to_wire().unwrap(), wire);
    }

    #[test]
    fn object_errors_name_the_field() {
        let cases = [
            (
                "path: /etc/shadow, access",
                "path: etc/shadow, access",
                "path must be absolute",
            ),
            (
                "access: [read, write]",
                "access: [read, exec]",
                "objects.files[0].access[1]: unknown variant `exec`",
            ),
            (
                "family: vsock, type",
                "family: vsok, type",
                "objects.sockets[0].family: unknown `vsok`",
            ),
            (
                "ports: 1-1023",
                "ports: 1-99999",
                "objects.connect[0].ports: want a port",
            ),
            (
                "127.0.0.0/8",
                "127.0.0.0/33",
                "objects.connect[0].address: prefix length",
            ),
            (
                "127.0.0.0/8",
                "localhost",
                "objects.connect[0].address: `localhost` is not an IP",
            ),
            (
                "{path: /usr/bin/curl, action: errno}",
                "{path: /usr/bin/curl, action: trap}",
                "objects.exec[0]: object actions are",
            ),
            (
                "{path: /usr/bin/curl, action: errno}",
                "{path: /usr/bin/curl, ports: 1, action: errno}",
                "objects.exec[0]: `ports` does not apply",
            ),
            (
                "defaults: {exec: allow",
                "defaults: {exec: allow, mount: allow",
                "objects.defaults.mount: unknown field",
            ),
            (
                "action: errno, errno: 13}",
                "action: errno, errno: 0}",
                "objects.files[0].errno: errno 0 is not an errno: an object rule refusing with 0 would let the operation go ahead; give 1-4095 (EPERM is 1, EACCES 13) (line 5)",
            ),
            (
                "errno: 97}",
                "errno: 512}",
                "objects.sockets[0].errno: errno 512 is one of the kernel's own codes (512-531: ERESTARTSYS",
            ),
            (
                "errno: 111}",
                "errno: 516}",
                "objects.connect[0].errno: errno 516 is one of the kernel's own codes",
            ),
            (
                "errno: 111}",
                "errno: 4096}",
                "objects.connect[0].errno: errno 4096 is above 4095",
            ),
        ];
        let base = P.replace("{family: inet6, unixPrefix", "{unixPrefix");
        for (from, to, want) in cases {
            assert!(base.contains(from), "{from}");
            let text = base.replacen(from, to, 1);
            let got = match PolicyFile::parse(&text) {
                Err(e) => e.to_string(),
                Ok(p) => p.to_wire().unwrap_err().to_string(),
            };
            assert!(got.contains(want), "{to}: got {got:?}, want {want:?}");
        }
    }
}
