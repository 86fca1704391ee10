// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! Netlink attributes (`struct nlattr`), read and written without allocation.
//!
//! An attribute is a 4-byte header (`u16` length including the header, `u16`
//! type) followed by its payload, padded to a multiple of 4 bytes. Values are
//! in host byte order. Every length is checked; nothing here can panic.

/// Attribute type flag: the payload is itself a list of attributes.
pub const F_NESTED: u16 = 1 << 15;
/// Attribute type flag: the payload is in network byte order (never used by
/// sysfence; rejected).
pub const F_NET_BYTEORDER: u16 = 1 << 14;
const TYPE_MASK: u16 = !(F_NESTED | F_NET_BYTEORDER);

/// Size of an attribute header.
pub const HDRLEN: usize = 4;

/// Rounds `len` up to the 4-byte netlink alignment, or `None` on overflow.
pub const fn align(len: usize) -> Option<usize> {
    match len.checked_add(3) {
        Some(v) => Some(v & !3),
        None => None,
    }
}

/// Why a buffer could not be read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// An attribute header or payload runs past the end of its container,
    /// or declares a length shorter than its header.
    Truncated,
    /// The destination buffer is too small.
    Overflow,
}

/// One attribute: its type (flags stripped), flags, and payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The attribute type without the nested/byte-order flags.
    pub kind: u16,
    /// True when the sender set [`F_NESTED`].
    pub nested: bool,
    /// True when the sender set [`F_NET_BYTEORDER`].
    pub net_byteorder: bool,
    /// The payload, without padding.
    pub payload: &'a [u8],
    /// Offset of the attribute's header from the start of the buffer the
    /// iterator was created on, for error reports.
    pub offset: usize,
}

impl<'a> Attr<'a> {
    /// The payload as a `u8`, if it is exactly 1 byte long.
    pub fn u8(&self) -> Option<u8> {
        match self.payload {
            [b] => Some(*b),
            _ => None,
        }
    }

    /// The payload as a `u16`, if it is exactly 2 bytes long.
    pub fn u16(&self) -> Option<u16> {
        let b: [u8; 2] = self.payload.try_into().ok()?;
        Some(u16::from_ne_bytes(b))
    }

    /// The payload as a `u32`, if it is exactly 4 bytes long.
    pub fn u32(&self) -> Option<u32> {
        let b: [u8; 4] = self.payload.try_into().ok()?;
        Some(u32::from_ne_bytes(b))
    }

    /// The payload as a `u64`, if it is exactly 8 bytes long.
    pub fn u64(&self) -> Option<u64> {
        let b: [u8; 8] = self.payload.try_into().ok()?;
        Some(u64::from_ne_bytes(b))
    }

    /// The payload as a NUL-terminated string (the NUL is required and not
    /// returned), if it is valid UTF-8 with no interior NUL.
    pub fn str(&self) -> Option<&'a str> {
        let (last, body) = self.payload.split_last()?;
        if *last != 0 || body.contains(&0) {
            return None;
        }
        core::str::from_utf8(body).ok()
    }

    /// Iterates over the attributes nested in this one.
    pub fn nested_iter(&self) -> Iter<'a> {
        Iter::with_base(self.payload, self.offset.saturating_add(HDRLEN))
    }
}

/// Iterates over a buffer of attributes. After the first malformed attribute
/// it yields one `Err` and then stops.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    done: bool,
}

impl<'a> Iter<'a> {
    /// Iterates over `buf`, reporting offsets relative to its start.
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_base(buf, 0)
    }

    fn with_base(buf: &'a [u8], base: usize) -> Self {
        Iter {
            buf,
            pos: 0,
            base,
            done: false,
        }
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<Attr<'a>, (Error, usize)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        let offset = self.base.saturating_add(self.pos);
        let fail = |it: &mut Self| {
            it.done = true;
            Some(Err((Error::Truncated, offset)))
        };
        let (Some(len), Some(kind)) = (rest.get(0..2), rest.get(2..4)) else {
            return fail(self);
        };
        let len = usize::from(u16::from_ne_bytes([len[0], len[1]]));
        let kind = u16::from_ne_bytes([kind[0], kind[1]]);
        let Some(payload) = (if len < HDRLEN {
            None
        } else {
            rest.get(HDRLEN..len)
        }) else {
            return fail(self);
        };
        // The last attribute may omit its padding.
        let step = align(len).unwrap_or(len).min(rest.len());
        self.pos = self.pos.saturating_add(step);
        Some(Ok(Attr {
            kind: kind & TYPE_MASK,
            nested: kind & F_NESTED != 0,
            net_byteorder: kind & F_NET_BYTEORDER != 0,
            payload,
            offset,
        }))
    }
}

/// Writes attributes into a caller-provided buffer.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

/// Copies `src` to the start of `dst`, as much as fits (element by element:
/// no length-mismatch panic path in the module).
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

impl<'a> Writer<'a> {
    /// Starts writing at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, len: 0 }
    }

    /// Bytes written so far (always a multiple of 4).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn put_header(&mut self, at: usize, kind: u16, total: usize) -> Result<(), Error> {
        let total = u16::try_from(total).map_err(|_| Error::Overflow)?;
        let hdr = self.buf.get_mut(at..at + HDRLEN).ok_or(Error::Overflow)?;
        hdr[0..2].copy_from_slice(&total.to_ne_bytes());
        hdr[2..4].copy_from_slice(&kind.to_ne_bytes());
        Ok(())
    }

    /// Appends one attribute with the given payload.
    pub fn put(&mut self, kind: u16, payload: &[u8]) -> Result<(), Error> {
        self.put_with(kind, payload.len(), |dst| copy(dst, payload))
    }

    /// Appends an attribute of `len` payload bytes that `fill` writes (it
    /// gets the zeroed payload).
    pub fn put_with(
        &mut self,
        kind: u16,
        len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<(), Error> {
        let total = HDRLEN.checked_add(len).ok_or(Error::Overflow)?;
        let padded = align(total).ok_or(Error::Overflow)?;
        let end = self.len.checked_add(padded).ok_or(Error::Overflow)?;
        if end > self.buf.len() {
            return Err(Error::Overflow);
        }
        self.put_header(self.len, kind, total)?;
        let body = self.len + HDRLEN;
        let Some(dst) = self.buf.get_mut(body..end) else {
            return Err(Error::Overflow);
        };
        dst.fill(0);
        if let Some(payload) = dst.get_mut(..len) {
            fill(payload);
        }
        self.len = end;
        Ok(())
    }

    /// Appends bytes that already are whole, aligned attributes.
    pub fn put_raw(&mut self, attrs: &[u8]) -> Result<(), Error> {
        let end = self.len.checked_add(attrs.len()).ok_or(Error::Overflow)?;
        let Some(dst) = self.buf.get_mut(self.len..end) else {
            return Err(Error::Overflow);
        };
        copy(dst, attrs);
        self.len = end;
        Ok(())
    }

    /// Appends a `u32` attribute.
    pub fn put_u32(&mut self, kind: u16, v: u32) -> Result<(), Error> {
        self.put(kind, &v.to_ne_bytes())
    }

    /// Appends a `u64` attribute.
    pub fn put_u64(&mut self, kind: u16, v: u64) -> Result<(), Error> {
        self.put(kind, &v.to_ne_bytes())
    }

    /// Appends a NUL-terminated string attribute.
    pub fn put_str(&mut self, kind: u16, s: &str) -> Result<(), Error> {
        // The payload is zeroed first, so the NUL is already there.
        let len = s.len().checked_add(1).ok_or(Error::Overflow)?;
        self.put_with(kind, len, |dst| copy(dst, s.as_bytes()))
    }

    /// Appends a nested attribute whose payload `f` writes.
    pub fn nest(
        &mut self,
        kind: u16,
        f: impl FnOnce(&mut Writer<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let start = self.len;
        let body = start.checked_add(HDRLEN).ok_or(Error::Overflow)?;
        if body > self.buf.len() {
            return Err(Error::Overflow);
        }
        let inner_len = {
            let mut inner = Writer::new(&mut self.buf[body..]);
            f(&mut inner)?;
            inner.len
        };
        let total = HDRLEN.checked_add(inner_len).ok_or(Error::Overflow)?;
        self.put_header(start, kind | F_NESTED, total)?;
        self.len = start + total;
        Ok(())
    }
}

// Validation of attributes, shared by the policy (`engine`) and its object
// rules (`objects`).

/// Why a policy or request was refused: a fixed message (sent to userspace
/// as the extended-ack text) and the byte offset of the offending attribute
/// within the buffer that was parsed. Messages end with a NUL byte so the
/// module can hand them to netlink's extended ack as they are; use
/// [`Invalid::text`] to display one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// What is wrong, in words.
    pub msg: &'static str,
    /// Offset of the offending attribute in the parsed buffer.
    pub offset: usize,
}

impl Invalid {
    /// The message without its terminating NUL.
    pub fn text(&self) -> &'static str {
        self.msg.trim_end_matches('\0')
    }
}

pub(crate) fn bad<T>(msg: &'static str, at: &Attr<'_>) -> Result<T, Invalid> {
    Err(Invalid {
        msg,
        offset: at.offset,
    })
}

/// One bit per kind listed (kinds above 63 are never accepted by
/// [`walk`], so they need none).
fn kinds(list: &[u16]) -> u64 {
    list.iter()
        .filter(|k| **k < 64)
        .fold(0, |m, k| m | 1u64 << *k)
}

/// Visits the attributes of one nest, refusing malformed, unknown,
/// wrongly flagged and repeated ones. `repeated` lists the kinds that may
/// occur more than once; `visit` sees every accepted attribute.
///
/// The same attributes, checks and refusals as iterating with [`Iter`]
/// and checking each, in one loop: each header read once, the kind lists
/// as bit masks.
pub(crate) fn walk<'a>(
    it: Iter<'a>,
    max_kind: u16,
    nested: &[u16],
    repeated: &[u16],
    mut visit: impl FnMut(Attr<'a>) -> Result<(), Invalid>,
) -> Result<(), Invalid> {
    if it.done {
        return Ok(());
    }
    let (nested, repeated) = (kinds(nested), kinds(repeated));
    // Kinds are small: 1 to max_kind, and at most 63 (one bit each).
    let top = if max_kind < 63 { max_kind } else { 63 };
    let mut seen: u64 = 0;
    let mut rest = it.buf.get(it.pos..).unwrap_or(&[]);
    let mut offset = it.base.saturating_add(it.pos);
    while !rest.is_empty() {
        let truncated = Invalid {
            msg: "truncated attribute\0",
            offset,
        };
        let Some((hdr, body)) = rest.split_first_chunk::<HDRLEN>() else {
            return Err(truncated);
        };
        let len = usize::from(u16::from_ne_bytes([hdr[0], hdr[1]]));
        let raw = u16::from_ne_bytes([hdr[2], hdr[3]]);
        let Some(payload) = len.checked_sub(HDRLEN).and_then(|n| body.get(..n)) else {
            return Err(truncated);
        };
        let kind = raw & TYPE_MASK;
        let a = Attr {
            kind,
            nested: raw & F_NESTED != 0,
            net_byteorder: raw & F_NET_BYTEORDER != 0,
            payload,
            offset,
        };
        if kind == 0 || kind > top {
            return bad("unknown attribute\0", &a);
        }
        if a.net_byteorder {
            return bad("network byte order is not supported\0", &a);
        }
        let bit = 1u64 << kind;
        if a.nested != (nested & bit != 0) {
            return bad("attribute has the wrong nested flag\0", &a);
        }
        if seen & bit & !repeated != 0 {
            return bad("attribute repeated\0", &a);
        }
        seen |= bit;
        // The last attribute may omit its padding (len < 2^16: no
        // overflow).
        let step = ((len + 3) & !3).min(rest.len());
        rest = rest.get(step..).unwrap_or(&[]);
        offset = offset.saturating_add(step);
        visit(a)?;
    }
    Ok(())
}

pub(crate) fn get_u32(a: &Attr<'_>) -> Result<u32, Invalid> {
    match a.u32() {
        Some(v) => Ok(v),
        None => bad("attribute must be a 4-byte u32\0", a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_scalars_strings_and_nests() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.put_u32(1, 7).unwrap();
        w.nest(2, |w| w.put_u64(3, u64::MAX)).unwrap();
        w.put_str(4, "ab").unwrap();
        let n = w.len();
        // Golden bytes: header (len 8, type 1), value 7.
        assert_eq!(&buf[..8], &[8, 0, 1, 0, 7, 0, 0, 0]);
        // Nested: len 16, type 2 | F_NESTED.
        assert_eq!(&buf[8..12], &[16, 0, 2, 0x80]);
        let attrs: Vec<_> = Iter::new(&buf[..n]).collect();
        assert_eq!(attrs.len(), 3);
        let a = attrs[0].unwrap();
        assert_eq!((a.kind, a.u32(), a.offset), (1, Some(7), 0));
        let nest = attrs[1].unwrap();
        assert!(nest.nested);
        let inner: Vec<_> = nest.nested_iter().collect();
        assert_eq!(inner[0].unwrap().u64(), Some(u64::MAX));
        assert_eq!(inner[0].unwrap().offset, 12);
        assert_eq!(attrs[2].unwrap().str(), Some("ab"));
    }

    #[test]
    fn truncated_input_yields_one_error() {
        // Header claims 12 bytes, only 8 present.
        let buf = [12u8, 0, 1, 0, 0, 0, 0, 0];
        let mut it = Iter::new(&buf);
        assert_eq!(it.next(), Some(Err((Error::Truncated, 0))));
        assert_eq!(it.next(), None);
        // A length shorter than the header.
        let buf = [2u8, 0, 1, 0];
        assert!(matches!(Iter::new(&buf).next(), Some(Err(_))));
        // Three stray bytes.
        assert!(matches!(Iter::new(&[1, 2, 3]).next(), Some(Err(_))));
    }

    #[test]
    fn wrong_sizes_are_not_values() {
        let buf = [6u8, 0, 1, 0, 1, 2, 0, 0];
        let a = Iter::new(&buf).next().unwrap().unwrap();
        assert_eq!(a.u32(), None);
        assert_eq!(a.u16(), Some(0x0201));
        assert_eq!(a.str(), None);
    }

    #[test]
    fn writer_refuses_to_overflow() {
        let mut buf = [0u8; 7];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.put_u32(1, 1), Err(Error::Overflow));
        assert!(w.is_empty());
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.nest(1, |w| w.put_u32(2, 2)), Err(Error::Overflow));
    }
}
