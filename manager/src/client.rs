// SPDX-License-Identifier: GPL-2.0
//! Generic netlink client for the sysfence family.
//!
//! Every request asks for an ACK, sequence numbers are checked, replies are
//! read into buffers sized for dumps, and the kernel's extended-ack message
//! is returned with the error so the user sees why a request was refused.

use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::fmt;
use sysfence_abi::nla::{Attr, Iter, Writer};
use sysfence_abi::proto::{Cmd, FAMILY_NAME, FAMILY_VERSION};

const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_DUMP: u16 = 0x300;
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_VERSION: u16 = 3;

/// A failed request.
#[derive(Debug)]
pub enum ClientError {
    /// A socket call failed.
    Io(std::io::Error),
    /// The sysfence family is not registered (module not loaded, or another
    /// network namespace).
    NoFamily,
    /// The module speaks another protocol version.
    Version(u32),
    /// The kernel refused the request: errno and extended-ack message.
    Refused { errno: i32, msg: Option<String> },
    /// A reply did not parse.
    Malformed(&'static str),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Io(e) => write!(f, "netlink: {e}"),
            ClientError::NoFamily => write!(
                f,
                "the sysfence netlink family is not available: is sysfence.ko loaded (and are you in the initial network namespace)?"
            ),
            ClientError::Version(v) => write!(
                f,
                "the module speaks protocol version {v}, this manager {FAMILY_VERSION}"
            ),
            ClientError::Refused { errno, msg } => {
                let os = std::io::Error::from_raw_os_error(*errno);
                match msg {
                    Some(m) => write!(f, "refused by the kernel: {m} ({os})"),
                    None => write!(f, "refused by the kernel: {os}"),
                }
            }
            ClientError::Malformed(what) => write!(f, "malformed reply from the kernel: {what}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        ClientError::Io(e)
    }
}

/// One reply message: its attributes (after the generic netlink header).
pub type Reply = Vec<u8>;

/// A connection to the sysfence family.
pub struct Client {
    sock: Socket,
    family: u16,
    seq: u32,
}

fn encode(ty: u16, flags: u16, seq: u32, cmd: u8, version: u8, attrs: &[u8]) -> Vec<u8> {
    let len = NLMSG_HDRLEN + GENL_HDRLEN + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&ty.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&[cmd, version, 0, 0]);
    m.extend_from_slice(attrs);
    m
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses an NLMSG_ERROR payload: (errno, extended-ack message).
fn parse_error(flags: u16, payload: &[u8]) -> Result<(i32, Option<String>), ClientError> {
    let err = u32_at(payload, 0).ok_or(ClientError::Malformed("short error message"))? as i32;
    let mut msg = None;
    if flags & NLM_F_ACK_TLVS != 0 {
        // The echoed request follows the errno, whole unless capped.
        let inner_len = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            u32_at(payload, 4).unwrap_or(0) as usize
        };
        let tlvs = payload
            .get(4 + inner_len.max(NLMSG_HDRLEN)..)
            .unwrap_or(&[]);
        for a in Iter::new(tlvs).flatten() {
            if a.kind == NLMSGERR_ATTR_MSG {
                msg = a.str().map(str::to_owned);
            }
        }
    }
    Ok((-err, msg))
}

impl Client {
    /// Opens a socket and resolves the sysfence family.
    pub fn connect() -> Result<Self, ClientError> {
        let mut sock = Socket::new(NETLINK_GENERIC)?;
        sock.bind_auto()?;
        sock.connect(&SocketAddr::new(0, 0))?;
        // Best effort: older kernels lack these options.
        let _ = sock.set_ext_ack(true);
        let _ = sock.set_cap_ack(true);
        let mut c = Client {
            sock,
            family: GENL_ID_CTRL,
            seq: std::process::id().wrapping_mul(7919),
        };
        let mut name = [0u8; 32];
        let mut w = Writer::new(&mut name);
        w.put_str(CTRL_ATTR_FAMILY_NAME, FAMILY_NAME)
            .map_err(|_| ClientError::Malformed("family name"))?;
        let n = w.len();
        let replies = match c.request_raw(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, &name[..n], false) {
            Err(ClientError::Refused { errno: 2, .. }) => return Err(ClientError::NoFamily),
            r => r?,
        };
        let reply = replies
            .first()
            .ok_or(ClientError::Malformed("no family reply"))?;
        let (mut id, mut version) = (None, None);
        for a in Iter::new(reply).flatten() {
            match a.kind {
                CTRL_ATTR_FAMILY_ID => id = a.u16(),
                CTRL_ATTR_VERSION => version = a.u32(),
                _ => {}
            }
        }
        c.family = id.ok_or(ClientError::Malformed("no family id"))?;
        match version {
            Some(v) if v == u32::from(FAMILY_VERSION) => Ok(c),
            Some(v) => Err(ClientError::Version(v)),
            None => Err(ClientError::Malformed("no family version")),
        }
    }

    /// Sends one sysfence request and returns the reply messages' attributes.
    pub fn request(&mut self, cmd: Cmd, attrs: &[u8]) -> Result<Vec<Reply>, ClientError> {
        self.request_raw(self.family, cmd as u8, FAMILY_VERSION, attrs, false)
    }

    /// Sends one dump request and returns every message's attributes.
    pub fn dump(&mut self, cmd: Cmd, attrs: &[u8]) -> Result<Vec<Reply>, ClientError> {
        self.request_raw(self.family, cmd as u8, FAMILY_VERSION, attrs, true)
    }

    fn request_raw(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        attrs: &[u8],
        dump: bool,
    ) -> Result<Vec<Reply>, ClientError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        self.sock
            .send(&encode(family, flags, seq, cmd, version, attrs), 0)?;
        let mut replies = Vec::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = self.sock.recv(&mut &mut buf[..], 0)?;
            let mut off = 0;
            while off + NLMSG_HDRLEN <= n {
                let len = u32_at(&buf, off).unwrap_or(0) as usize;
                let ty = u16_at(&buf, off + 4).unwrap_or(0);
                let fl = u16_at(&buf, off + 6).unwrap_or(0);
                let mseq = u32_at(&buf, off + 8).unwrap_or(0);
                if len < NLMSG_HDRLEN || off + len > n {
                    return Err(ClientError::Malformed("bad message length"));
                }
                let payload = &buf[off + NLMSG_HDRLEN..off + len];
                off += (len + 3) & !3;
                if mseq != seq {
                    // A stale reply to an earlier request: not ours.
                    continue;
                }
                match ty {
                    NLMSG_ERROR => {
                        let (errno, msg) = parse_error(fl, payload)?;
                        if errno != 0 {
                            return Err(ClientError::Refused { errno, msg });
                        }
                        return Ok(replies); // the ACK ends the exchange
                    }
                    NLMSG_DONE => {
                        if let Some(e) = u32_at(payload, 0).map(|e| e as i32).filter(|e| *e < 0) {
                            return Err(ClientError::Refused {
                                errno: -e,
                                msg: None,
                            });
                        }
                        // A dump ends here: the kernel sends no ACK after it.
                        return Ok(replies);
                    }
                    t if t == family => {
                        let attrs = payload.get(GENL_HDRLEN..).unwrap_or(&[]);
                        replies.push(attrs.to_vec());
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Finds a top-level attribute of a reply.
pub fn find<'a>(reply: &'a [u8], kind: u16) -> Option<Attr<'a>> {
    Iter::new(reply).flatten().find(|a| a.kind == kind)
}
