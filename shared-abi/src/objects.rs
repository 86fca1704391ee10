// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! Object rules: decisions on the kernel's own copies of what a syscall
//! acts on (the file opened, the program executed, the socket created, the
//! address connected or bound to), made where the kernel has resolved them
//! (its `security_*` functions), so user memory cannot change under a check.
//!
//! The rules stay in the policy's attribute form: [`validate_rule`] checks
//! one when the policy is set, and [`decide`] reads them in place. Among
//! the rules of the object's class that match, the most restrictive action
//! wins; none matching gives the class default (allow when the policy has
//! none).

use crate::nla::{bad, get_u32, walk, Attr, Invalid};
use crate::proto::{access, action, attr, class, limits};

/// `AF_UNIX`.
pub const AF_UNIX: u32 = 1;
/// `AF_INET`.
pub const AF_INET: u32 = 2;
/// `AF_INET6`.
pub const AF_INET6: u32 = 10;

/// A socket address, as the kernel copied it from the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr<'a> {
    /// IPv4 (`ip[..4]`) or IPv6; an IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) is IPv4, so a rule on an IPv4 address holds for
    /// IPv6 sockets too.
    Inet {
        /// `AF_INET` or `AF_INET6`.
        family: u32,
        /// The address; only the first 4 bytes for IPv4.
        ip: [u8; 16],
        /// The port (host order).
        port: u16,
    },
    /// A Unix socket path; an abstract name is `@` followed by the name.
    Unix(&'a [u8]),
    /// Another family, or an address too short for its family.
    Other(u32),
}

impl Addr<'_> {
    fn family(&self) -> u32 {
        match self {
            Addr::Inet { family, .. } => *family,
            Addr::Unix(_) => AF_UNIX,
            Addr::Other(f) => *f,
        }
    }
}

/// Room for an abstract Unix name with its `@`: `sun_path` is 108 bytes.
pub const UNIX_NAME_MAX: usize = 109;

/// Reads a `struct sockaddr` of `bytes.len()` bytes (the length the caller
/// gave). `scratch` receives an abstract Unix name as `@name`.
pub fn parse_sockaddr<'a>(bytes: &'a [u8], scratch: &'a mut [u8; UNIX_NAME_MAX]) -> Addr<'a> {
    let family = match bytes.get(..2) {
        Some(&[a, b]) => u32::from(u16::from_ne_bytes([a, b])),
        _ => return Addr::Other(0),
    };
    let port = |b: &[u8]| match b.get(2..4) {
        Some(&[h, l]) => u16::from_be_bytes([h, l]),
        _ => 0,
    };
    match family {
        AF_INET => match bytes.get(4..8) {
            Some(a) => {
                let mut ip = [0u8; 16];
                ip[..4].copy_from_slice(a);
                Addr::Inet {
                    family,
                    ip,
                    port: port(bytes),
                }
            }
            None => Addr::Other(family),
        },
        AF_INET6 => match bytes.get(8..24) {
            Some(a) => {
                let mut ip = [0u8; 16];
                ip.copy_from_slice(a);
                if ip[..10].iter().all(|&b| b == 0) && ip[10] == 0xff && ip[11] == 0xff {
                    let mut v4 = [0u8; 16];
                    v4[..4].copy_from_slice(&ip[12..16]);
                    return Addr::Inet {
                        family: AF_INET,
                        ip: v4,
                        port: port(bytes),
                    };
                }
                Addr::Inet {
                    family,
                    ip,
                    port: port(bytes),
                }
            }
            None => Addr::Other(family),
        },
        AF_UNIX => {
            let path = bytes.get(2..).unwrap_or(&[]);
            if path.first() == Some(&0) {
                // Abstract: every byte of the given length is the name.
                let name = path.get(1..).unwrap_or(&[]);
                let n = name.len().min(UNIX_NAME_MAX - 1);
                scratch[0] = b'@';
                if let (Some(d), Some(s)) = (scratch.get_mut(1..=n), name.get(..n)) {
                    d.copy_from_slice(s);
                }
                Addr::Unix(scratch.get(..=n).unwrap_or(&[]))
            } else {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                Addr::Unix(path.get(..end).unwrap_or(&[]))
            }
        }
        f => Addr::Other(f),
    }
}

/// What an object decision is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Object<'a> {
    /// A file being opened, by its resolved path, with `access::*` bits.
    File { path: &'a [u8], access: u32 },
    /// A program being executed, by its resolved path.
    Exec { path: &'a [u8] },
    /// A socket being created.
    Socket {
        family: u32,
        kind: u32,
        protocol: u32,
    },
    /// A socket connecting to an address.
    Connect(Addr<'a>),
    /// A socket binding to an address.
    Bind(Addr<'a>),
}

impl Object<'_> {
    /// The object's `class::*`.
    pub fn class(&self) -> u32 {
        match self {
            Object::File { .. } => class::FILE,
            Object::Exec { .. } => class::EXEC,
            Object::Socket { .. } => class::SOCKET,
            Object::Connect(_) => class::CONNECT,
            Object::Bind(_) => class::BIND,
        }
    }
}

/// Writes into a fixed buffer, cutting what does not fit.
struct Cut<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl core::fmt::Write for Cut<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// The object as text for events (`/etc/shadow`, `inet 127.0.0.1:22`,
/// `inet6 [0:0:0:0:0:0:0:1]:22`, `unix /run/x`, `family 40 type 1
/// protocol 0`), written into `out`; returns its length.
pub fn describe(obj: &Object<'_>, out: &mut [u8]) -> usize {
    use core::fmt::Write;
    let mut w = Cut { buf: out, len: 0 };
    let path = |w: &mut Cut<'_>, p: &[u8]| {
        for &b in p {
            let c = if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '?'
            };
            let _ = w.write_char(c);
        }
    };
    let addr = |w: &mut Cut<'_>, a: &Addr<'_>| match a {
        Addr::Inet {
            family: AF_INET,
            ip,
            port,
        } => {
            let _ = write!(w, "inet {}.{}.{}.{}:{port}", ip[0], ip[1], ip[2], ip[3]);
        }
        Addr::Inet { ip, port, .. } => {
            let _ = w.write_str("inet6 [");
            for (i, g) in ip.chunks_exact(2).enumerate() {
                let sep = if i == 0 { "" } else { ":" };
                let _ = write!(w, "{sep}{:x}", u16::from_be_bytes([g[0], g[1]]));
            }
            let _ = write!(w, "]:{port}");
        }
        Addr::Unix(p) => {
            let _ = w.write_str("unix ");
            path(w, p);
        }
        Addr::Other(f) => {
            let _ = write!(w, "family {f}");
        }
    };
    match obj {
        Object::File { path: p, .. } | Object::Exec { path: p } => path(&mut w, p),
        Object::Socket {
            family,
            kind,
            protocol,
        } => {
            let _ = write!(w, "family {family} type {kind} protocol {protocol}");
        }
        Object::Connect(a) | Object::Bind(a) => addr(&mut w, a),
    }
    w.len
}

/// Whether `path` is `rule` or, for a prefix rule, below it.
fn path_matches(rule: &[u8], prefix: bool, path: &[u8]) -> bool {
    if path == rule {
        return true;
    }
    if !prefix || !path.starts_with(rule) {
        return false;
    }
    rule.last() == Some(&b'/') || path.get(rule.len()) == Some(&b'/')
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn cidr_matches(a: &[u8], b: &[u8], bits: u32) -> bool {
    let full = (bits / 8) as usize;
    let rest = bits % 8;
    if a.get(..full) != b.get(..full) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(full), b.get(full)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

/// A validated rule's fields.
#[derive(Default, Debug, PartialEq)]
struct Fields<'a> {
    class: u32,
    action: u32,
    path: Option<&'a [u8]>,
    prefix: bool,
    access: Option<u32>,
    family: Option<u32>,
    kind: Option<u32>,
    protocol: Option<u32>,
    addr: Option<&'a [u8]>,
    addr_prefix: Option<u32>,
    port_min: Option<u32>,
    port_max: Option<u32>,
}

/// Reads the fields of a rule nest (already validated, or being validated:
/// malformed values are refused here).
fn fields<'a>(rule: &Attr<'a>) -> Result<Fields<'a>, Invalid> {
    let mut f = Fields::default();
    walk(rule.nested_iter(), attr::OBJ_PORT_MAX, &[], &[], |a| {
        match a.kind {
            attr::OBJ_CLASS => f.class = get_u32(&a)?,
            attr::OBJ_ACTION => f.action = get_u32(&a)?,
            attr::OBJ_PATH => {
                // A string attribute: the path, then its NUL.
                match a.payload.split_last() {
                    Some((0, p)) => f.path = Some(p),
                    _ => return bad("path must be a NUL-terminated string\0", &a),
                }
            }
            attr::OBJ_PREFIX => {
                if !a.payload.is_empty() {
                    return bad("prefix is a flag: it takes no value\0", &a);
                }
                f.prefix = true;
            }
            attr::OBJ_ACCESS => f.access = Some(get_u32(&a)?),
            attr::OBJ_FAMILY => f.family = Some(get_u32(&a)?),
            attr::OBJ_TYPE => f.kind = Some(get_u32(&a)?),
            attr::OBJ_PROTOCOL => f.protocol = Some(get_u32(&a)?),
            attr::OBJ_ADDR => f.addr = Some(a.payload),
            attr::OBJ_ADDR_PREFIX => f.addr_prefix = Some(get_u32(&a)?),
            attr::OBJ_PORT_MIN => f.port_min = Some(get_u32(&a)?),
            _ => f.port_max = Some(get_u32(&a)?),
        }
        Ok(())
    })?;
    Ok(f)
}

/// As [`fields`], for deciding: `None` wherever [`fields`] refuses a
/// well-formed-looking value, but without [`walk`]'s error reports, so a
/// decision (in the kernel's hooks, on every call) pays only for reading.
/// Policies in force were validated by [`fields`] when set.
fn fields_known<'a>(rule: &Attr<'a>) -> Option<Fields<'a>> {
    let mut f = Fields::default();
    for a in rule.nested_iter() {
        let a = a.ok()?;
        match a.kind {
            attr::OBJ_CLASS => f.class = a.u32()?,
            attr::OBJ_ACTION => f.action = a.u32()?,
            attr::OBJ_PATH => match a.payload.split_last() {
                Some((0, p)) => f.path = Some(p),
                _ => return None,
            },
            attr::OBJ_PREFIX if a.payload.is_empty() => f.prefix = true,
            attr::OBJ_ACCESS => f.access = Some(a.u32()?),
            attr::OBJ_FAMILY => f.family = Some(a.u32()?),
            attr::OBJ_TYPE => f.kind = Some(a.u32()?),
            attr::OBJ_PROTOCOL => f.protocol = Some(a.u32()?),
            attr::OBJ_ADDR => f.addr = Some(a.payload),
            attr::OBJ_ADDR_PREFIX => f.addr_prefix = Some(a.u32()?),
            attr::OBJ_PORT_MIN => f.port_min = Some(a.u32()?),
            attr::OBJ_PORT_MAX => f.port_max = Some(a.u32()?),
            _ => return None,
        }
    }
    Some(f)
}

/// An object rule or default, read once when its policy is set, so that
/// decisions (in the kernel's hooks, on every call) do not read attributes
/// again: its fields, with the path and address as ranges of the policy's
/// object attributes (the buffer [`read_rules`] read them from).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReadRule {
    is_rule: bool,
    class: u32,
    action: u32,
    prefix: bool,
    access: Option<u32>,
    family: Option<u32>,
    kind: Option<u32>,
    protocol: Option<u32>,
    addr_prefix: Option<u32>,
    port_min: Option<u32>,
    port_max: Option<u32>,
    path: Option<(u32, u32)>,
    addr: Option<(u32, u32)>,
}

impl ReadRule {
    /// A placeholder for preallocated tables.
    pub const EMPTY: ReadRule = ReadRule {
        is_rule: false,
        class: 0,
        action: 0,
        prefix: false,
        access: None,
        family: None,
        kind: None,
        protocol: None,
        addr_prefix: None,
        port_min: None,
        port_max: None,
        path: None,
        addr: None,
    };

    /// The rule's fields, its byte strings taken from `attrs`.
    /// A range that does not resolve in `attrs` (not the buffer the rule
    /// was read from) makes the rule match nothing, rather than match
    /// every path or address as an absent one would.
    fn fields<'a>(&self, attrs: &'a [u8]) -> Fields<'a> {
        let bytes = |r: Option<(u32, u32)>| {
            r.and_then(|(at, len)| attrs.get(at as usize..(at as usize).checked_add(len as usize)?))
        };
        let lost = |r: Option<(u32, u32)>| r.is_some() && bytes(r).is_none();
        Fields {
            class: if lost(self.path) || lost(self.addr) {
                0
            } else {
                self.class
            },
            action: self.action,
            path: bytes(self.path),
            prefix: self.prefix,
            access: self.access,
            family: self.family,
            kind: self.kind,
            protocol: self.protocol,
            addr: bytes(self.addr),
            addr_prefix: self.addr_prefix,
            port_min: self.port_min,
            port_max: self.port_max,
        }
    }
}

/// The object rules and defaults of a policy's attributes (`attrs`, the
/// payload [`decide_payload`] takes), each with whether it is a rule.
fn object_fields(attrs: &[u8]) -> impl Iterator<Item = (bool, Fields<'_>)> + Clone {
    crate::nla::Iter::new(attrs).flatten().filter_map(|a| {
        let is_rule = a.kind == attr::POLICY_OBJECT;
        if !is_rule && a.kind != attr::POLICY_OBJECT_DEFAULT {
            return None;
        }
        Some((is_rule, fields_known(&a)?))
    })
}

/// How many rules and defaults [`read_rules`] reads from `attrs`.
pub fn count_rules(attrs: &[u8]) -> usize {
    object_fields(attrs).count()
}

/// Reads the object rules and defaults of `attrs` into `out` (room for
/// [`count_rules`]); returns how many it wrote. Decide with
/// [`decide_read`] and the same `attrs`.
pub fn read_rules(attrs: &[u8], out: &mut [ReadRule]) -> usize {
    let range = |b: Option<&[u8]>| {
        let b = b?;
        // Where `b` lies in `attrs` (it is a part of it).
        let at = (b.as_ptr() as usize).checked_sub(attrs.as_ptr() as usize)?;
        Some((u32::try_from(at).ok()?, u32::try_from(b.len()).ok()?))
    };
    let mut n = 0;
    for ((is_rule, f), slot) in object_fields(attrs).zip(out.iter_mut()) {
        *slot = ReadRule {
            is_rule,
            class: f.class,
            action: f.action,
            prefix: f.prefix,
            access: f.access,
            family: f.family,
            kind: f.kind,
            protocol: f.protocol,
            addr_prefix: f.addr_prefix,
            port_min: f.port_min,
            port_max: f.port_max,
            path: range(f.path),
            addr: range(f.addr),
        };
        n += 1;
    }
    n
}

/// Whether a path in a rule is absolute and normalized (no empty, `.` or
/// `..` component, no trailing `/` but for `/` itself), so that it can be
/// compared with the kernel's resolved paths byte for byte.
fn normalized(p: &[u8]) -> bool {
    if p.first() != Some(&b'/') || p.contains(&0) {
        return false;
    }
    if p == b"/" {
        return true;
    }
    p.split(|&b| b == b'/')
        .skip(1)
        .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

/// Validates one `POLICY_OBJECT` nest.
pub fn validate_rule(rule: &Attr<'_>) -> Result<(), Invalid> {
    let f = fields(rule)?;
    if !(1..=class::COUNT).contains(&f.class) {
        return bad("object rule needs a known class\0", rule);
    }
    check_action(f.action, rule)?;
    let file_like = f.class == class::FILE || f.class == class::EXEC;
    let net = f.class == class::CONNECT || f.class == class::BIND;
    let misplaced = (f.access.is_some() && f.class != class::FILE)
        || (f.path.is_some() && !file_like && !net)
        || (f.family.is_some() && file_like)
        || ((f.kind.is_some() || f.protocol.is_some()) && f.class != class::SOCKET)
        || ((f.addr.is_some()
            || f.addr_prefix.is_some()
            || f.port_min.is_some()
            || f.port_max.is_some())
            && !net);
    if misplaced {
        return bad("attribute does not apply to this object class\0", rule);
    }
    if f.prefix && f.path.is_none() {
        return bad("prefix needs a path\0", rule);
    }
    if let Some(p) = f.path {
        if p.len() > limits::MAX_PATH as usize {
            return bad("path longer than 4095 bytes\0", rule);
        }
        if file_like && !normalized(p) {
            return bad(
                "path must be absolute and normalized (no //, . or .. components, no trailing /)\0",
                rule,
            );
        }
        if net {
            let ok = match p.first() {
                Some(b'/') => normalized(p),
                Some(b'@') => p.len() > 1 && p.len() <= UNIX_NAME_MAX,
                _ => false,
            };
            if !ok {
                return bad(
                    "a Unix socket path is absolute and normalized, or @name\0",
                    rule,
                );
            }
            if f.family.is_some_and(|x| x != AF_UNIX) || f.addr.is_some() || f.port_min.is_some() {
                return bad("a Unix socket path goes with family AF_UNIX only\0", rule);
            }
        }
    }
    if let Some(a) = f.access {
        if a == 0 || a & !access::ALL != 0 {
            return bad("unknown file access bits\0", rule);
        }
    }
    if let Some(addr) = f.addr {
        let (fam, bits) = match addr.len() {
            4 => (AF_INET, 32),
            16 => (AF_INET6, 128),
            _ => return bad("address must be 4 (IPv4) or 16 (IPv6) bytes\0", rule),
        };
        if f.family.is_some_and(|x| x != fam) {
            return bad("address does not match the family\0", rule);
        }
        if f.addr_prefix.is_some_and(|p| p > bits) {
            return bad("CIDR prefix longer than the address\0", rule);
        }
    } else if f.addr_prefix.is_some() {
        return bad("CIDR prefix needs an address\0", rule);
    }
    match (f.port_min, f.port_max) {
        (None, Some(_)) => return bad("port range needs its lowest port\0", rule),
        (Some(lo), hi) if lo > 65_535 || hi.is_some_and(|h| h > 65_535 || h < lo) => {
            return bad("ports are 0-65535, lowest first\0", rule)
        }
        _ => {}
    }
    if f.port_min.is_some() && f.family.is_some_and(|x| x != AF_INET && x != AF_INET6) {
        return bad("ports go with AF_INET or AF_INET6\0", rule);
    }
    Ok(())
}

fn check_action(a: u32, at: &Attr<'_>) -> Result<(), Invalid> {
    if !action::is_valid(a) {
        return bad("unknown action, or errno above 4095\0", at);
    }
    let kind = a & action::ACTION_MASK;
    if kind == action::TRAP || kind == action::KILL_THREAD {
        return bad(
            "object actions are allow, log, errno and kill-process\0",
            at,
        );
    }
    if kind == action::ERRNO {
        let e = a & action::DATA_MASK;
        if e == 0 {
            return bad(
                "errno 0 is not an errno: an object rule would let the operation go ahead (give 1-4095)\0",
                at,
            );
        }
        if !action::is_object_errno(e) {
            return bad(
                "errno 512-531 are the kernel's own codes (ERESTARTSYS...), not for object rules\0",
                at,
            );
        }
    }
    Ok(())
}

/// Validates one `POLICY_OBJECT_DEFAULT` nest; returns its class.
pub fn validate_default(d: &Attr<'_>) -> Result<u32, Invalid> {
    let f = fields(d)?;
    if !(1..=class::COUNT).contains(&f.class) {
        return bad("object default needs a known class\0", d);
    }
    check_action(f.action, d)?;
    let extra = f.path.is_some()
        || f.prefix
        || f.access.is_some()
        || f.family.is_some()
        || f.kind.is_some()
        || f.protocol.is_some()
        || f.addr.is_some()
        || f.addr_prefix.is_some()
        || f.port_min.is_some()
        || f.port_max.is_some();
    if extra {
        return bad("an object default has a class and an action only\0", d);
    }
    Ok(f.class)
}

fn rule_matches(f: &Fields<'_>, obj: &Object<'_>) -> bool {
    let eq = |want: Option<u32>, got: u32| want.is_none_or(|w| w == got);
    match obj {
        Object::File { path, access } => {
            f.path.is_none_or(|p| path_matches(p, f.prefix, path))
                && f.access.is_none_or(|a| a & access != 0)
        }
        Object::Exec { path } => f.path.is_none_or(|p| path_matches(p, f.prefix, path)),
        Object::Socket {
            family,
            kind,
            protocol,
        } => eq(f.family, *family) && eq(f.kind, *kind) && eq(f.protocol, *protocol),
        Object::Connect(a) | Object::Bind(a) => {
            if !eq(f.family, a.family()) {
                return false;
            }
            if let Some(p) = f.path {
                return matches!(a, Addr::Unix(u) if path_matches(p, f.prefix, u));
            }
            if f.addr.is_none() && f.port_min.is_none() {
                return true;
            }
            let Addr::Inet { ip, port, .. } = a else {
                return false;
            };
            if let Some(want) = f.addr {
                let bits = f.addr_prefix.unwrap_or(want.len() as u32 * 8);
                let is_v4 = a.family() == AF_INET;
                if (want.len() == 4) != is_v4 {
                    return false;
                }
                if !cidr_matches(want, ip.get(..want.len()).unwrap_or(&[]), bits) {
                    return false;
                }
            }
            match f.port_min {
                Some(lo) => {
                    let hi = f.port_max.unwrap_or(lo);
                    (lo..=hi).contains(&u32::from(*port))
                }
                None => true,
            }
        }
    }
}

/// The addresses a connect (or a send to an address, which is decided as
/// a connect) to `a` reaches. Linux connects the unspecified address to the
/// host itself: IPv4 0.0.0.0 to 127.0.0.1 (`ip_route_output_key_hash_rcu`),
/// and `::` to `::1`, or to `::ffff:127.0.0.1` from a socket bound to an
/// IPv4-mapped address (`tcp_v6_connect`, `ip6_datagram_connect`); the
/// mapped `::ffff:0.0.0.0` is IPv4 0.0.0.0 here. So 0.0.0.0 is decided as
/// 127.0.0.1, and `::` as the stricter of `::1` and 127.0.0.1: a rule on
/// the host's own services cannot be dodged by naming "any".
pub fn reached(a: Addr<'_>) -> (Addr<'_>, Option<Addr<'_>>) {
    match a {
        Addr::Inet { family, ip, port } if ip == [0u8; 16] => {
            let mut v4 = [0u8; 16];
            v4[0] = 127;
            v4[3] = 1;
            let lo4 = Addr::Inet {
                family: AF_INET,
                ip: v4,
                port,
            };
            if family == AF_INET {
                return (lo4, None);
            }
            let mut v6 = [0u8; 16];
            v6[15] = 1;
            (
                Addr::Inet {
                    family,
                    ip: v6,
                    port,
                },
                Some(lo4),
            )
        }
        other => (other, None),
    }
}

/// The action a validated policy takes on `obj`.
pub fn decide(policy: &Attr<'_>, obj: &Object<'_>) -> u32 {
    decide_payload(policy.payload, obj)
}

/// The stricter of two actions (`a` on a tie).
fn strictest(a: u32, b: Option<u32>) -> u32 {
    match b {
        Some(b) if action::stricter(b, a) => b,
        _ => a,
    }
}

/// As [`decide`], from the `POLICY` attribute's payload.
pub fn decide_payload(policy: &[u8], obj: &Object<'_>) -> u32 {
    decide_fields(object_fields(policy), obj)
}

/// As [`decide_payload`], with the policy's rules read once by
/// [`read_rules`] from `attrs`: the same decision, without reading
/// attributes.
pub fn decide_read(rules: &[ReadRule], attrs: &[u8], obj: &Object<'_>) -> u32 {
    decide_fields(rules.iter().map(|r| (r.is_rule, r.fields(attrs))), obj)
}

/// The decision over a policy's rules and defaults (`items`, each with
/// whether it is a rule).
fn decide_fields<'a, I>(items: I, obj: &Object<'_>) -> u32
where
    I: Iterator<Item = (bool, Fields<'a>)> + Clone,
{
    match obj {
        Object::Connect(a) => {
            let (first, also) = reached(*a);
            let d = decide_one(items.clone(), &Object::Connect(first));
            strictest(d, also.map(|b| decide_one(items, &Object::Connect(b))))
        }
        &Object::File { path, access: acc } if acc & access::TREE != 0 => {
            // The directory's own decision, then the rules inside it.
            let own = Object::File {
                path,
                access: acc & !access::TREE,
            };
            strictest(decide_one(items.clone(), &own), inside(items, path, acc))
        }
        other => decide_one(items, other),
    }
}

/// The object classes rules and defaults read by [`read_rules`] name:
/// [`class::bit`] of each. A class no policy names is decided "allow"
/// everywhere, so its hooks need not run.
pub fn classes(rules: &[ReadRule]) -> u32 {
    rules.iter().fold(0, |m, r| m | class::bit(r.class))
}

/// For a directory being moved ([`access::TREE`]): the strictest action of
/// the file rules that protect a path inside `dir`, or `dir` itself, from
/// the reads and writes in `acc` (allow rules protect nothing).
fn inside<'a>(
    items: impl Iterator<Item = (bool, Fields<'a>)>,
    dir: &[u8],
    acc: u32,
) -> Option<u32> {
    let rw = acc & (access::READ | access::WRITE);
    let mut best: Option<u32> = None;
    for (is_rule, f) in items {
        let hit = is_rule
            && f.class == class::FILE
            && f.action & action::ACTION_MASK != action::ALLOW
            && f.access.is_none_or(|x| x & rw != 0)
            && f.path.is_some_and(|p| path_matches(dir, true, p));
        if hit && best.is_none_or(|b| action::stricter(f.action, b)) {
            best = Some(f.action);
        }
    }
    best
}

fn decide_one<'a>(items: impl Iterator<Item = (bool, Fields<'a>)>, obj: &Object<'_>) -> u32 {
    let want = obj.class();
    let mut best: Option<u32> = None;
    let mut default = action::ALLOW;
    for (is_rule, f) in items {
        if f.class != want {
            continue;
        }
        if !is_rule {
            default = f.action;
        } else if best.is_none_or(|b| action::stricter(f.action, b)) && rule_matches(&f, obj) {
            best = Some(f.action);
        }
    }
    best.unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nla::{Iter, Writer};

    #[test]
    fn objects_describe_themselves_within_the_buffer() {
        let mut out = [0u8; 32];
        let mut ip = [0u8; 16];
        ip[..4].copy_from_slice(&[127, 0, 0, 1]);
        let n = describe(
            &Object::Connect(Addr::Inet {
                family: AF_INET,
                ip,
                port: 22,
            }),
            &mut out,
        );
        assert_eq!(&out[..n], b"inet 127.0.0.1:22");
        let mut ip6 = [0u8; 16];
        ip6[15] = 1;
        let mut big = [0u8; 64];
        let n = describe(
            &Object::Bind(Addr::Inet {
                family: AF_INET6,
                ip: ip6,
                port: 80,
            }),
            &mut big,
        );
        assert_eq!(&big[..n], b"inet6 [0:0:0:0:0:0:0:1]:80");
        let n = describe(
            &Object::File {
                path: &[b'/'; 100],
                access: 1,
            },
            &mut out,
        );
        assert_eq!(n, 32, "cut to the buffer");
        let n = describe(
            &Object::Exec {
                path: b"/bin/\x01sh",
            },
            &mut big,
        );
        assert_eq!(&big[..n], b"/bin/?sh");
    }

    #[test]
    fn prefixes_stop_at_component_boundaries() {
        assert!(path_matches(b"/etc", true, b"/etc"));
        assert!(path_matches(b"/etc", true, b"/etc/shadow"));
        assert!(!path_matches(b"/etc", true, b"/etcx/shadow"));
        assert!(!path_matches(b"/etc", false, b"/etc/shadow"));
        assert!(path_matches(b"/", true, b"/anything"));
    }

    #[test]
    fn cidr_compares_the_leading_bits() {
        assert!(cidr_matches(&[127, 0, 0, 0], &[127, 1, 2, 3], 8));
        assert!(!cidr_matches(&[127, 0, 0, 0], &[128, 1, 2, 3], 8));
        assert!(cidr_matches(&[10, 0, 0, 0], &[10, 0, 0, 100], 25));
        assert!(!cidr_matches(&[10, 0, 0, 0], &[10, 0, 0, 200], 25));
        assert!(!cidr_matches(&[10, 0, 0, 0], &[10, 0, 0, 1], 32));
        assert!(cidr_matches(&[1, 2, 3, 4], &[9, 9, 9, 9], 0));
    }

    #[test]
    fn sockaddrs_parse_and_v4_mapped_is_ipv4() {
        let mut s = [0u8; UNIX_NAME_MAX];
        let mut sin = [0u8; 16];
        sin[..2].copy_from_slice(&2u16.to_ne_bytes());
        sin[2..4].copy_from_slice(&22u16.to_be_bytes());
        sin[4..8].copy_from_slice(&[127, 0, 0, 1]);
        let a = parse_sockaddr(&sin, &mut s);
        assert!(
            matches!(a, Addr::Inet { family: AF_INET, port: 22, ip, .. } if ip[..4] == [127, 0, 0, 1])
        );
        let mut sin6 = [0u8; 28];
        sin6[..2].copy_from_slice(&10u16.to_ne_bytes());
        sin6[2..4].copy_from_slice(&8080u16.to_be_bytes());
        sin6[18..20].copy_from_slice(&[0xff, 0xff]);
        sin6[20..24].copy_from_slice(&[127, 0, 0, 1]);
        let a = parse_sockaddr(&sin6, &mut s);
        assert!(
            matches!(a, Addr::Inet { family: AF_INET, port: 8080, ip, .. } if ip[..4] == [127, 0, 0, 1])
        );
        let mut sun = [0u8; 12];
        sun[..2].copy_from_slice(&1u16.to_ne_bytes());
        sun[2..7].copy_from_slice(b"/run/");
        assert_eq!(parse_sockaddr(&sun, &mut s), Addr::Unix(b"/run/"));
        let mut abs = [0u8; 6];
        abs[..2].copy_from_slice(&1u16.to_ne_bytes());
        abs[3..6].copy_from_slice(b"abc");
        assert_eq!(parse_sockaddr(&abs, &mut s), Addr::Unix(b"@abc"));
        assert_eq!(parse_sockaddr(&[2, 0, 0], &mut s), Addr::Other(2));
        assert_eq!(parse_sockaddr(&[], &mut s), Addr::Other(0));
    }

    /// A policy with the given object nests (each a list of (kind, payload)).
    fn policy(nests: &[(u16, &[(u16, &[u8])])]) -> Vec<u8> {
        let mut buf = vec![0u8; 4096];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::POLICY, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW)?;
            for (kind, attrs) in nests {
                w.nest(*kind, |w| {
                    for (k, p) in attrs.iter() {
                        w.put(*k, p)?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })
        .unwrap();
        let n = w.len();
        buf.truncate(n);
        buf
    }

    fn with<R>(buf: &[u8], f: impl FnOnce(&Attr<'_>) -> R) -> R {
        let a = Iter::new(buf).next().unwrap().unwrap();
        assert!(a.nested && a.kind == attr::POLICY);
        f(&a)
    }

    const U: fn(u32) -> [u8; 4] = u32::to_ne_bytes;

    #[test]
    fn a_rule_read_from_another_buffer_matches_nothing() {
        let file = U(class::FILE);
        let errno13 = U(action::ERRNO | 13);
        let p = policy(&[(
            attr::POLICY_OBJECT,
            &[
                (attr::OBJ_CLASS, &file),
                (attr::OBJ_ACTION, &errno13),
                (attr::OBJ_PATH, b"/secret\0"),
                (attr::OBJ_PREFIX, b""),
            ],
        )]);
        with(&p, |a| {
            let mut rules = vec![ReadRule::EMPTY; count_rules(a.payload)];
            read_rules(a.payload, &mut rules);
            let obj = Object::File {
                path: b"/secret/x",
                access: access::READ,
            };
            assert_eq!(decide_read(&rules, a.payload, &obj), action::ERRNO | 13);
            // Too short a buffer for the path's range: never a match,
            // never "any path".
            let short = a.payload.get(..8).unwrap();
            assert_eq!(decide_read(&rules, short, &obj), action::ALLOW);
            let other = Object::File {
                path: b"/elsewhere",
                access: access::READ,
            };
            assert_eq!(decide_read(&rules, short, &other), action::ALLOW);
        });
    }

    /// Every test's decision twice: from the attributes, and from the
    /// rules read once (as the kernel decides); they must agree.
    fn decide(policy: &Attr<'_>, obj: &Object<'_>) -> u32 {
        let attrs = policy.payload;
        let mut rules = vec![ReadRule::EMPTY; count_rules(attrs)];
        assert_eq!(read_rules(attrs, &mut rules), rules.len());
        let direct = super::decide(policy, obj);
        assert_eq!(decide_read(&rules, attrs, obj), direct, "{obj:?}");
        direct
    }

    #[test]
    fn files_by_path_and_access_strictest_wins() {
        let errno13 = U(action::ERRNO | 13);
        let kill = U(action::KILL_PROCESS);
        let file = U(class::FILE);
        let read = U(access::READ);
        let p = policy(&[
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &errno13),
                    (attr::OBJ_PATH, b"/etc/shadow\0"),
                    (attr::OBJ_ACCESS, &read),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &kill),
                    (attr::OBJ_PATH, b"/secret\0"),
                    (attr::OBJ_PREFIX, b""),
                ],
            ),
        ]);
        with(&p, |a| {
            crate::engine::validate(a, &mut Box::new(crate::engine::Scratch::ZERO)).unwrap();
            let d = |path: &[u8], access| decide(a, &Object::File { path, access });
            assert_eq!(d(b"/etc/shadow", access::READ), action::ERRNO | 13);
            assert_eq!(d(b"/etc/shadow", access::WRITE), action::ALLOW);
            assert_eq!(d(b"/etc/passwd", access::READ), action::ALLOW);
            assert_eq!(d(b"/secret/a/b", access::READ), action::KILL_PROCESS);
            assert_eq!(d(b"/secretx", access::READ), action::ALLOW);
            let mut rules = vec![ReadRule::EMPTY; count_rules(a.payload)];
            read_rules(a.payload, &mut rules);
            assert_eq!(classes(&rules), 1 << (class::FILE - 1), "classes named");
            assert_eq!(
                decide(a, &Object::Exec { path: b"/secret/x" }),
                action::ALLOW,
                "other class"
            );
        });
    }

    #[test]
    fn connect_by_cidr_and_ports_and_class_defaults() {
        let conn = U(class::CONNECT);
        let deny = U(action::ERRNO | 111);
        let allow = U(action::ALLOW);
        let lo = U(1000);
        let hi = U(2000);
        let p = policy(&[
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_ADDR, &[127, 0, 0, 0]),
                    (attr::OBJ_ADDR_PREFIX, &U(8)),
                    (attr::OBJ_PORT_MIN, &lo),
                    (attr::OBJ_PORT_MAX, &hi),
                ],
            ),
            (
                attr::POLICY_OBJECT_DEFAULT,
                &[(attr::OBJ_CLASS, &conn), (attr::OBJ_ACTION, &deny)],
            ),
        ]);
        with(&p, |a| {
            crate::engine::validate(a, &mut Box::new(crate::engine::Scratch::ZERO)).unwrap();
            let inet = |ip4: [u8; 4], port| {
                let mut ip = [0u8; 16];
                ip[..4].copy_from_slice(&ip4);
                Object::Connect(Addr::Inet {
                    family: AF_INET,
                    ip,
                    port,
                })
            };
            assert_eq!(decide(a, &inet([127, 0, 0, 1], 1500)), action::ALLOW);
            assert_eq!(decide(a, &inet([127, 0, 0, 1], 22)), action::ERRNO | 111);
            assert_eq!(decide(a, &inet([10, 0, 0, 1], 1500)), action::ERRNO | 111);
            assert_eq!(
                decide(a, &Object::Connect(Addr::Unix(b"/x"))),
                action::ERRNO | 111
            );
            assert_eq!(decide(a, &Object::Bind(Addr::Unix(b"/x"))), action::ALLOW);
            // A class named by a default alone counts.
            let mut rules = vec![ReadRule::EMPTY; count_rules(a.payload)];
            read_rules(a.payload, &mut rules);
            assert_eq!(classes(&rules), 1 << (class::CONNECT - 1));
            // Decisions read rules as validation does.
            let objects = Iter::new(a.payload)
                .flatten()
                .filter(|r| r.kind == attr::POLICY_OBJECT || r.kind == attr::POLICY_OBJECT_DEFAULT);
            for r in objects {
                assert_eq!(fields_known(&r), fields(&r).ok(), "{r:?}");
            }
        });
    }

    #[test]
    fn moving_a_directory_answers_for_the_rules_inside_it() {
        let file = U(class::FILE);
        let eacces = U(action::ERRNO | 13);
        let kill = U(action::KILL_PROCESS);
        let log = U(action::LOG);
        let allow = U(action::ALLOW);
        let read = U(access::READ);
        let create = U(access::CREATE);
        let p = policy(&[
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &eacces),
                    (attr::OBJ_PATH, b"/etc/shadow\0"),
                    (attr::OBJ_ACCESS, &read),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &kill),
                    (attr::OBJ_PATH, b"/srv/keys\0"),
                    (attr::OBJ_PREFIX, b""),
                ],
            ),
            (
                // Create only: moving its directory away uncovers nothing.
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &kill),
                    (attr::OBJ_PATH, b"/var/lock/new\0"),
                    (attr::OBJ_ACCESS, &create),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &log),
                    (attr::OBJ_PATH, b"/home/a/notes\0"),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"/opt/app\0"),
                    (attr::OBJ_PREFIX, b""),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &eacces),
                    (attr::OBJ_PATH, b"/etcx/y\0"),
                ],
            ),
        ]);
        with(&p, |a| {
            crate::engine::validate(a, &mut Box::new(crate::engine::Scratch::ZERO)).unwrap();
            const RW: u32 = access::READ | access::WRITE;
            let mv = |path: &[u8]| {
                decide(
                    a,
                    &Object::File {
                        path,
                        access: RW | access::TREE,
                    },
                )
            };
            let rw = |path: &[u8]| decide(a, &Object::File { path, access: RW });
            // Moving /etc answers as /etc/shadow read and written would.
            assert_eq!(rw(b"/etc"), action::ALLOW);
            assert_eq!(mv(b"/etc"), action::ERRNO | 13);
            assert_eq!(rw(b"/etc/shadow"), action::ERRNO | 13);
            // Prefix rules: inside the directory moved, or around it.
            assert_eq!(mv(b"/srv"), action::KILL_PROCESS);
            assert_eq!(mv(b"/srv/keys"), action::KILL_PROCESS);
            assert_eq!(mv(b"/srv/keys/old"), action::KILL_PROCESS);
            assert_eq!(mv(b"/srv/www"), action::ALLOW);
            // Every rule is inside /.
            assert_eq!(mv(b"/"), action::KILL_PROCESS);
            assert_eq!(mv(b"/var"), action::ALLOW, "create-only rule");
            assert_eq!(mv(b"/home"), action::LOG);
            assert_eq!(mv(b"/opt"), action::ALLOW, "an allow rule adds nothing");
            assert_eq!(mv(b"/et"), action::ALLOW, "components, not bytes");
            assert_eq!(mv(b"/etcx"), action::ERRNO | 13);
        });
        // An allow-list: the tree check never loosens the directory's own
        // decision, and allow rules inside do not turn it into "allow".
        let deny = U(action::ERRNO | 1);
        let p = policy(&[
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"/app\0"),
                    (attr::OBJ_PREFIX, b""),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"/etc/hosts\0"),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &log),
                    (attr::OBJ_PATH, b"/etc/passwd\0"),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &eacces),
                    (attr::OBJ_PATH, b"/app/secret\0"),
                ],
            ),
            (
                attr::POLICY_OBJECT_DEFAULT,
                &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &deny)],
            ),
        ]);
        with(&p, |a| {
            crate::engine::validate(a, &mut Box::new(crate::engine::Scratch::ZERO)).unwrap();
            let tree = access::READ | access::WRITE | access::TREE;
            let mv = |path: &[u8]| decide(a, &Object::File { path, access: tree });
            assert_eq!(mv(b"/app/data"), action::ALLOW);
            assert_eq!(mv(b"/app"), action::ERRNO | 13, "its own rule is inside");
            // /etc's own decision is the default; the log and allow rules
            // inside do not weaken it.
            assert_eq!(mv(b"/etc"), action::ERRNO | 1);
            assert_eq!(mv(b"/tmp"), action::ERRNO | 1);
        });
    }

    /// A sockaddr_in or sockaddr_in6 for `ip` (4 or 16 bytes) and `port`.
    fn sockaddr(ip: &[u8], port: u16) -> Vec<u8> {
        let mut b;
        if ip.len() == 4 {
            b = vec![0u8; 16];
            b[..2].copy_from_slice(&(AF_INET as u16).to_ne_bytes());
            b[4..8].copy_from_slice(ip);
        } else {
            b = vec![0u8; 28];
            b[..2].copy_from_slice(&(AF_INET6 as u16).to_ne_bytes());
            b[8..24].copy_from_slice(ip);
        }
        b[2..4].copy_from_slice(&port.to_be_bytes());
        b
    }

    #[test]
    fn connects_to_any_address_are_decided_as_the_loopback() {
        let conn = U(class::CONNECT);
        let bind = U(class::BIND);
        let deny = U(action::ERRNO | 111);
        let kill = U(action::KILL_PROCESS);
        let mut lo6 = [0u8; 16];
        lo6[15] = 1;
        let p = policy(&[
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &deny),
                    (attr::OBJ_ADDR, &[127, 0, 0, 1]),
                    (attr::OBJ_PORT_MIN, &U(22)),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &kill),
                    (attr::OBJ_ADDR, &lo6),
                ],
            ),
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &bind),
                    (attr::OBJ_ACTION, &deny),
                    (attr::OBJ_ADDR, &[127, 0, 0, 1]),
                ],
            ),
        ]);
        with(&p, |a| {
            crate::engine::validate(a, &mut Box::new(crate::engine::Scratch::ZERO)).unwrap();
            let mut s = [0u8; UNIX_NAME_MAX];
            let mut d = |ip: &[u8], port| {
                let b = sockaddr(ip, port);
                decide(a, &Object::Connect(parse_sockaddr(&b, &mut s)))
            };
            assert_eq!(d(&[127, 0, 0, 1], 22), action::ERRNO | 111);
            assert_eq!(d(&[0, 0, 0, 0], 22), action::ERRNO | 111, "0.0.0.0");
            assert_eq!(d(&[0, 0, 0, 0], 80), action::ALLOW);
            assert_eq!(d(&[0, 0, 0, 1], 22), action::ALLOW, "only 0.0.0.0 itself");
            assert_eq!(d(&lo6, 443), action::KILL_PROCESS);
            assert_eq!(d(&[0u8; 16], 443), action::KILL_PROCESS, "::");

            let mut mapped_any = [0u8; 16];
            mapped_any[10..12].copy_from_slice(&[0xff, 0xff]);
            assert_eq!(d(&mapped_any, 22), action::ERRNO | 111, "::ffff:0.0.0.0");
            assert_eq!(d(&mapped_any, 80), action::ALLOW);
            let mut mapped_lo = mapped_any;
            mapped_lo[12..].copy_from_slice(&[127, 0, 0, 1]);
            assert_eq!(d(&mapped_lo, 22), action::ERRNO | 111, "::ffff:127.0.0.1");
            // Binding to any address is not binding to the loopback.
            let b = sockaddr(&[0, 0, 0, 0], 22);
            let any = parse_sockaddr(&b, &mut s);
            assert_eq!(decide(a, &Object::Bind(any)), action::ALLOW);
            let b = sockaddr(&[127, 0, 0, 1], 22);
            let lo = parse_sockaddr(&b, &mut s);
            assert_eq!(decide(a, &Object::Bind(lo)), action::ERRNO | 111);
        });
        // From a socket bound to an IPv4-mapped address, :: reaches
        // 127.0.0.1: a rule on the IPv4 loopback holds for :: too.
        let p = policy(&[(
            attr::POLICY_OBJECT,
            &[
                (attr::OBJ_CLASS, &conn),
                (attr::OBJ_ACTION, &deny),
                (attr::OBJ_ADDR, &[127, 0, 0, 1]),
                (attr::OBJ_PORT_MIN, &U(22)),
            ],
        )]);
        with(&p, |a| {
            let mut s = [0u8; UNIX_NAME_MAX];
            let mut d = |ip: &[u8], port| {
                let b = sockaddr(ip, port);
                decide(a, &Object::Connect(parse_sockaddr(&b, &mut s)))
            };
            assert_eq!(d(&[0u8; 16], 22), action::ERRNO | 111, "::");
            assert_eq!(d(&lo6, 22), action::ALLOW, "::1 is not 127.0.0.1");
            assert_eq!(d(&[0u8; 16], 23), action::ALLOW);
        });
        // Under an allow-list, "any" is allowed where the loopback is.
        let allow = U(action::ALLOW);
        let p = policy(&[
            (
                attr::POLICY_OBJECT,
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_ADDR, &[127, 0, 0, 0]),
                    (attr::OBJ_ADDR_PREFIX, &U(8)),
                ],
            ),
            (
                attr::POLICY_OBJECT_DEFAULT,
                &[(attr::OBJ_CLASS, &conn), (attr::OBJ_ACTION, &deny)],
            ),
        ]);
        with(&p, |a| {
            let mut s = [0u8; UNIX_NAME_MAX];
            let b = sockaddr(&[0, 0, 0, 0], 5432);
            let any = Object::Connect(parse_sockaddr(&b, &mut s));
            assert_eq!(decide(a, &any), action::ALLOW);
            let b = sockaddr(&[10, 0, 0, 1], 5432);
            let far = Object::Connect(parse_sockaddr(&b, &mut s));
            assert_eq!(decide(a, &far), action::ERRNO | 111);
            // :: only where both loopbacks are allowed: ::1 is not here.
            let b = sockaddr(&[0u8; 16], 5432);
            let any6 = Object::Connect(parse_sockaddr(&b, &mut s));
            assert_eq!(decide(a, &any6), action::ERRNO | 111);
        });
        // Events still show what the program asked for.
        let mut out = [0u8; 32];
        let any = Object::Connect(Addr::Inet {
            family: AF_INET,
            ip: [0; 16],
            port: 22,
        });
        let n = describe(&any, &mut out);
        assert_eq!(&out[..n], b"inet 0.0.0.0:22");
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        let file = U(class::FILE);
        let sock = U(class::SOCKET);
        let conn = U(class::CONNECT);
        let allow = U(action::ALLOW);
        let trap = U(action::TRAP);
        let errno0 = U(action::ERRNO);
        let restartsys = U(action::ERRNO | 512);
        let restart_block = U(action::ERRNO | 516);
        let enograce = U(action::ERRNO | 531);
        let too_big = U(action::ERRNO | 4096);
        let cases: &[(&[(u16, &[u8])], &str)] = &[
            (
                &[(attr::OBJ_ACTION, &allow)],
                "object rule needs a known class",
            ),
            (
                &[(attr::OBJ_CLASS, &U(9)), (attr::OBJ_ACTION, &allow)],
                "object rule needs a known class",
            ),
            (
                &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &trap)],
                "object actions are allow, log, errno and kill-process",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"etc\0"),
                ],
                "path must be absolute",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"/etc/../x\0"),
                ],
                "path must be absolute",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"/etc/\0"),
                ],
                "path must be absolute",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"/etc"),
                ],
                "NUL-terminated",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PREFIX, b""),
                ],
                "prefix needs a path",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_ACCESS, &U(8)),
                ],
                "unknown file access bits",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &sock),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PORT_MIN, &U(1)),
                ],
                "does not apply",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &file),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_FAMILY, &U(2)),
                ],
                "does not apply",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_ADDR, &[1, 2, 3]),
                ],
                "4 (IPv4) or 16",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_ADDR, &[1, 2, 3, 4]),
                    (attr::OBJ_ADDR_PREFIX, &U(33)),
                ],
                "CIDR prefix longer",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_ADDR, &[1, 2, 3, 4]),
                    (attr::OBJ_FAMILY, &U(10)),
                ],
                "does not match the family",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PORT_MIN, &U(9)),
                    (attr::OBJ_PORT_MAX, &U(8)),
                ],
                "lowest first",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PORT_MAX, &U(8)),
                ],
                "needs its lowest port",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"run\0"),
                ],
                "Unix socket path",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_PATH, b"/run\0"),
                    (attr::OBJ_FAMILY, &U(2)),
                ],
                "AF_UNIX only",
            ),
            (
                &[
                    (attr::OBJ_CLASS, &conn),
                    (attr::OBJ_ACTION, &allow),
                    (attr::OBJ_ADDR_PREFIX, &U(8)),
                ],
                "needs an address",
            ),
            (
                &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &errno0)],
                "errno 0 is not an errno",
            ),
            (
                &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &restartsys)],
                "the kernel's own codes",
            ),
            (
                &[(attr::OBJ_CLASS, &conn), (attr::OBJ_ACTION, &restart_block)],
                "the kernel's own codes",
            ),
            (
                &[(attr::OBJ_CLASS, &sock), (attr::OBJ_ACTION, &enograce)],
                "the kernel's own codes",
            ),
            (
                &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &too_big)],
                "errno above 4095",
            ),
        ];
        for (attrs, want) in cases {
            let p = policy(&[(attr::POLICY_OBJECT, attrs)]);
            let got = with(&p, |a| {
                crate::engine::validate(a, &mut Box::new(crate::engine::Scratch::ZERO)).map(|_| ())
            });
            let e = got.expect_err(want);
            assert!(e.text().contains(want), "got {:?}, want {want:?}", e.text());
        }
        // A default with a rule's fields, and a class given twice.
        let p = policy(&[(
            attr::POLICY_OBJECT_DEFAULT,
            &[
                (attr::OBJ_CLASS, &file),
                (attr::OBJ_ACTION, &allow),
                (attr::OBJ_PATH, b"/x\0"),
            ],
        )]);
        assert!(with(&p, |a| crate::engine::validate(
            a,
            &mut Box::new(crate::engine::Scratch::ZERO)
        ))
        .unwrap_err()
        .text()
        .contains("class and an action only"));
        let d: &[(u16, &[u8])] = &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &allow)];
        let p = policy(&[
            (attr::POLICY_OBJECT_DEFAULT, d),
            (attr::POLICY_OBJECT_DEFAULT, d),
        ]);
        assert!(with(&p, |a| crate::engine::validate(
            a,
            &mut Box::new(crate::engine::Scratch::ZERO)
        ))
        .unwrap_err()
        .text()
        .contains("default given twice"));
        // Defaults are held to the same errnos; errnos beside those are fine.
        let d: &[(u16, &[u8])] = &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &errno0)];
        let p = policy(&[(attr::POLICY_OBJECT_DEFAULT, d)]);
        assert!(with(&p, |a| crate::engine::validate(
            a,
            &mut Box::new(crate::engine::Scratch::ZERO)
        ))
        .unwrap_err()
        .text()
        .contains("errno 0 is not an errno"));
        for e in [1u32, 13, 511, 532, 4095] {
            let act = U(action::ERRNO | e);
            let r: &[(u16, &[u8])] = &[(attr::OBJ_CLASS, &file), (attr::OBJ_ACTION, &act)];
            let p = policy(&[(attr::POLICY_OBJECT, r), (attr::POLICY_OBJECT_DEFAULT, r)]);
            with(&p, |a| {
                crate::engine::validate(a, &mut Box::new(crate::engine::Scratch::ZERO))
            })
            .unwrap_or_else(|x| panic!("errno {e}: {}", x.text()));
        }
        // Syscall rules keep seccomp's range: errno 0 and 512 are fine there.
        assert!(action::is_valid(action::ERRNO) && action::is_valid(action::ERRNO | 512));
        assert!(!action::is_object_errno(0) && !action::is_object_errno(516));
    }
}
