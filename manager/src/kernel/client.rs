// SPDX-License-Identifier: GPL-2.0
//! Generic netlink client for the sysfence family.
//!
//! Every request asks for an ACK, sequence numbers are checked, replies are
//! read into buffers sized for dumps, and the kernel's extended-ack message
//! is returned with the error so the user sees why a request was refused.

use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use std::fmt;
use std::os::fd::AsRawFd;
use std::time::Duration;
use sysfence_abi::event::Event;
use sysfence_abi::nla::{Attr, Iter, Writer};
use sysfence_abi::proto::{Cmd, FAMILY_NAME, FAMILY_VERSION, MCGRP_EVENTS, RELEASE};

// Netlink and generic netlink constants, from libc (as `c_int`; the
// header fields they go in are narrower).
const NLMSG_HDRLEN: usize = std::mem::size_of::<libc::nlmsghdr>();
const GENL_HDRLEN: usize = std::mem::size_of::<libc::genlmsghdr>();
const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;
const NLM_F_CAPPED: u16 = libc::NLM_F_CAPPED as u16;
const NLM_F_ACK_TLVS: u16 = libc::NLM_F_ACK_TLVS as u16;
/// `enum nlmsgerr_attrs` (include/uapi/linux/netlink.h), which libc lacks.
const NLMSGERR_ATTR_MSG: u16 = 1;
const GENL_ID_CTRL: u16 = libc::GENL_ID_CTRL as u16;
const CTRL_CMD_GETFAMILY: u8 = libc::CTRL_CMD_GETFAMILY as u8;
const CTRL_ATTR_FAMILY_ID: u16 = libc::CTRL_ATTR_FAMILY_ID as u16;
const CTRL_ATTR_FAMILY_NAME: u16 = libc::CTRL_ATTR_FAMILY_NAME as u16;
const CTRL_ATTR_VERSION: u16 = libc::CTRL_ATTR_VERSION as u16;
const CTRL_ATTR_MCAST_GROUPS: u16 = libc::CTRL_ATTR_MCAST_GROUPS as u16;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = libc::CTRL_ATTR_MCAST_GRP_NAME as u16;
const CTRL_ATTR_MCAST_GRP_ID: u16 = libc::CTRL_ATTR_MCAST_GRP_ID as u16;

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
            ClientError::NoFamily if std::path::Path::new("/sys/module/sysfence").is_dir() => write!(
                f,
                "the sysfence module is loaded, but its netlink family is not visible from this network namespace: run sysfence in the host's initial network namespace"
            ),
            ClientError::NoFamily => write!(
                f,
                "the sysfence kernel module is not loaded: load it (`modprobe sysfence`, or `insmod sysfence.ko` from a build) and retry"
            ),
            ClientError::Version(v) => write!(
                f,
                "the loaded sysfence module speaks protocol version {v} and this sysfence version {FAMILY_VERSION}: load the module of this release ({RELEASE}) with `rmmod sysfence && insmod sysfence.ko`, or use the sysfence command that came with the loaded module"
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
    events_group: Option<u32>,
    seq: u32,
    /// The receive buffer, allocated once per client: zeroing a fresh 1 MiB
    /// buffer per request cost more than the kernel's whole work on a
    /// policy replace.
    buf: Vec<u8>,
}

/// What one read from an event subscription brought.
#[derive(Debug, Default)]
pub struct EventBatch {
    /// Events, in the order the kernel sent them.
    pub events: Vec<Event>,
    /// The socket's receive buffer overflowed: some events were lost here
    /// (the kernel counts them as sent).
    pub overrun: bool,
    /// Messages that did not decode as events.
    pub malformed: usize,
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
        // The echoed request is padded to 4 bytes before the TLVs.
        let tlvs = payload
            .get((4 + inner_len.max(NLMSG_HDRLEN) + 3) & !3..)
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
            events_group: None,
            seq: std::process::id().wrapping_mul(7919),
            buf: Vec::new(),
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
                CTRL_ATTR_MCAST_GROUPS => {
                    for g in a.nested_iter().flatten() {
                        let (mut name, mut gid) = (None, None);
                        for f in g.nested_iter().flatten() {
                            match f.kind {
                                CTRL_ATTR_MCAST_GRP_NAME => name = f.str(),
                                CTRL_ATTR_MCAST_GRP_ID => gid = f.u32(),
                                _ => {}
                            }
                        }
                        if name == Some(MCGRP_EVENTS) {
                            c.events_group = gid;
                        }
                    }
                }
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

    /// Joins the events multicast group (needs CAP_SYS_ADMIN).
    pub fn subscribe_events(&mut self) -> Result<(), ClientError> {
        let g = self
            .events_group
            .ok_or(ClientError::Malformed("the family has no events group"))?;
        // Room for bursts: 4 MiB holds several thousand events. FORCE
        // passes the rmem_max cap (CAP_NET_ADMIN, which the operator has); else best effort.
        let size: libc::c_int = 4 << 20;
        // SAFETY: `size` is a valid int for the option's length.
        let forced = unsafe {
            libc::setsockopt(
                self.sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if forced != 0 {
            let _ = self.sock.set_rx_buf_sz(size as usize);
        }
        self.sock
            .add_membership(g)
            .map_err(|e| match e.raw_os_error() {
                Some(errno @ 1) => ClientError::Refused {
                    errno,
                    msg: Some("subscribing to events needs CAP_SYS_ADMIN".into()),
                },
                _ => ClientError::Io(e),
            })
    }

    /// Waits up to `timeout` (forever if `None`) for events and returns what
    /// one read brings (possibly nothing, on timeout).
    pub fn recv_events(&mut self, timeout: Option<Duration>) -> Result<EventBatch, ClientError> {
        let mut batch = EventBatch::default();
        let mut pfd = libc::pollfd {
            fd: self.sock.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.map_or(-1, |t| i32::try_from(t.as_millis()).unwrap_or(i32::MAX));
        // SAFETY: `pfd` is one valid pollfd, and the count says so.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                return Ok(batch);
            }
            return Err(e.into());
        }
        if r == 0 {
            return Ok(batch);
        }
        let mut buf = vec![0u8; 1 << 16];
        let n = match self.sock.recv(&mut &mut buf[..], 0) {
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                batch.overrun = true;
                return Ok(batch);
            }
            Err(e) => return Err(e.into()),
        };
        let mut off = 0;
        while off + NLMSG_HDRLEN <= n {
            let len = u32_at(&buf, off).unwrap_or(0) as usize;
            let ty = u16_at(&buf, off + 4).unwrap_or(0);
            if len < NLMSG_HDRLEN || off + len > n {
                batch.malformed += 1;
                break;
            }
            let payload = &buf[off + NLMSG_HDRLEN..off + len];
            off += (len + 3) & !3;
            if ty != self.family || payload.first() != Some(&(Cmd::Event as u8)) {
                continue;
            }
            match Event::decode(payload.get(GENL_HDRLEN..).unwrap_or(&[])) {
                Ok(e) => batch.events.push(e),
                Err(_) => batch.malformed += 1,
            }
        }
        Ok(batch)
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
        if self.buf.is_empty() {
            self.buf = vec![0u8; 1 << 20];
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.read_replies(&mut buf, seq, family, &mut replies);
        self.buf = buf;
        result.map(|()| replies)
    }

    /// Reads the replies to request `seq` into `replies`, until its ACK or
    /// the end of its dump.
    fn read_replies(
        &mut self,
        buf: &mut [u8],
        seq: u32,
        family: u16,
        replies: &mut Vec<Reply>,
    ) -> Result<(), ClientError> {
        loop {
            let n = self.sock.recv(&mut &mut buf[..], 0)?;
            let buf = &buf[..];
            let mut off = 0;
            while off + NLMSG_HDRLEN <= n {
                let len = u32_at(buf, off).unwrap_or(0) as usize;
                let ty = u16_at(buf, off + 4).unwrap_or(0);
                let fl = u16_at(buf, off + 6).unwrap_or(0);
                let mseq = u32_at(buf, off + 8).unwrap_or(0);
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
                        return Ok(()); // the ACK ends the exchange
                    }
                    NLMSG_DONE => {
                        if let Some(e) = u32_at(payload, 0).map(|e| e as i32).filter(|e| *e < 0) {
                            return Err(ClientError::Refused {
                                errno: -e,
                                msg: None,
                            });
                        }
                        // A dump ends here: the kernel sends no ACK after it.
                        return Ok(());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libc_gives_the_uapi_values() {
        assert_eq!((NLMSG_HDRLEN, GENL_HDRLEN), (16, 4));
        assert_eq!((NLMSG_ERROR, NLMSG_DONE), (2, 3));
        assert_eq!((NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP), (0x1, 0x4, 0x300));
        assert_eq!((NLM_F_CAPPED, NLM_F_ACK_TLVS), (0x100, 0x200));
        assert_eq!((GENL_ID_CTRL, CTRL_CMD_GETFAMILY), (0x10, 3));
        assert_eq!(
            (
                CTRL_ATTR_FAMILY_ID,
                CTRL_ATTR_FAMILY_NAME,
                CTRL_ATTR_VERSION,
                CTRL_ATTR_MCAST_GROUPS,
                CTRL_ATTR_MCAST_GRP_NAME,
                CTRL_ATTR_MCAST_GRP_ID
            ),
            (1, 2, 3, 7, 1, 2)
        );
    }

    /// An NLMSG_ERROR payload as the kernel builds it: errno, the echoed
    /// request (`echo_len` bytes, padded to 4), then the TLVs.
    fn error_payload(errno: i32, echo_len: usize, msg: &str) -> Vec<u8> {
        let mut p = (-errno).to_ne_bytes().to_vec();
        let mut hdr = vec![0u8; echo_len];
        hdr[..4].copy_from_slice(&(echo_len as u32).to_ne_bytes());
        p.extend_from_slice(&hdr);
        while !p.len().is_multiple_of(4) {
            p.push(0);
        }
        let mut tlv = vec![0u8; 64];
        let mut w = Writer::new(&mut tlv);
        w.put_str(NLMSGERR_ATTR_MSG, msg).unwrap();
        let n = w.len();
        p.extend_from_slice(&tlv[..n]);
        p
    }

    #[test]
    fn extack_message_after_an_unaligned_echo() {
        for echo in [20, 26, 27, 28, 29] {
            let p = error_payload(22, echo, "truncated attribute");
            let (errno, msg) = parse_error(NLM_F_ACK_TLVS, &p).unwrap();
            assert_eq!(errno, 22);
            assert_eq!(
                msg.as_deref(),
                Some("truncated attribute"),
                "echo of {echo} bytes"
            );
        }
    }

    #[test]
    fn extack_message_after_a_capped_echo() {
        let p = error_payload(
            1,
            NLMSG_HDRLEN,
            "the caller is itself under a sysfence policy",
        );
        let (errno, msg) = parse_error(NLM_F_ACK_TLVS | NLM_F_CAPPED, &p).unwrap();
        assert_eq!(errno, 1);
        assert_eq!(
            msg.as_deref(),
            Some("the caller is itself under a sysfence policy")
        );
    }

    #[test]
    fn short_error_is_malformed_not_a_panic() {
        assert!(parse_error(NLM_F_ACK_TLVS, &[1, 2]).is_err());
        let (errno, msg) = parse_error(NLM_F_ACK_TLVS, &[0; 4]).unwrap();
        assert_eq!((errno, msg), (0, None));
    }
}
