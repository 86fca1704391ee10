// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! Events: one syscall decision worth reporting (a denial, a LOG hit, a trap
//! or a kill), multicast on the `events` group as an [`attr::EVENT`] nest.
//!
//! The module encodes with [`Event::encode`] and the manager decodes with
//! [`Event::decode`], so both sides share one definition of the layout.

use crate::nla::{Error, Iter, Writer, HDRLEN};
use crate::proto::{attr, Abi};

/// Longest task name (`TASK_COMM_LEN` without its NUL).
pub const COMM_MAX: usize = 15;

/// Longest object text an event carries (the rest is cut off).
pub const OBJECT_MAX: usize = 112;

/// One reported decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Cgroup id of the policy that decided.
    pub policy_cgroup: u64,
    /// Cgroup id of the calling task's own cgroup.
    pub task_cgroup: u64,
    /// Thread group id, in the initial pid namespace.
    pub pid: u32,
    /// Thread id, in the initial pid namespace.
    pub tid: u32,
    /// The task's name, NUL-padded.
    pub comm: [u8; COMM_MAX + 1],
    /// The ABI of the call (`Abi` as u32).
    pub abi: u32,
    /// The syscall number the kernel dispatches (x32 bit stripped).
    pub nr: u64,
    /// The six argument registers (ia32: zero-extended 32-bit values).
    pub args: [u64; 6],
    /// The action taken, with its data (`action::*`).
    pub action: u32,
    /// `CLOCK_MONOTONIC` nanoseconds.
    pub time_ns: u64,
    /// For an object decision, its `class::*`; 0 for a syscall decision.
    pub obj_class: u32,
    /// For an object decision, the object as text, NUL-padded.
    pub object: [u8; OBJECT_MAX],
    /// For a shadow event, the module's number of the shadow's record (never
    /// 0; it tells a record from the one that replaced it); 0 otherwise.
    /// On the wire only as the `EVENT_SHADOW` flag.
    pub shadow: u64,
    /// For a shadow event, the action enforced (what the task saw); `action`
    /// is then the shadow's answer.
    pub enforced: u32,
}

impl Default for Event {
    fn default() -> Self {
        Event {
            policy_cgroup: 0,
            task_cgroup: 0,
            pid: 0,
            tid: 0,
            comm: [0; COMM_MAX + 1],
            abi: 0,
            nr: 0,
            args: [0; 6],
            action: 0,
            time_ns: 0,
            obj_class: 0,
            object: [0; OBJECT_MAX],
            shadow: 0,
            enforced: 0,
        }
    }
}

/// The text of a NUL-padded byte array, up to its first NUL; invalid UTF-8
/// is cut where it starts.
fn text_of(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = bytes.get(..end).unwrap_or(&[]);
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).unwrap_or(""),
    }
}

/// Copies `src` into the NUL-padded `dst`, cut to leave a NUL at the end.
pub fn set_text(dst: &mut [u8], src: &[u8]) {
    dst.fill(0);
    let n = src.len().min(dst.len().saturating_sub(1));
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
}

/// Upper bound of an encoded event, nest header included.
pub const ENCODED_MAX: usize = HDRLEN
    + 5 * (HDRLEN + 8) // ids, nr, time
    + 6 * (HDRLEN + 8) // args
    + 4 * (HDRLEN + 4) // pid, tid, abi, action
    + HDRLEN
    + COMM_MAX
    + 4 // comm, NUL, padding
    + HDRLEN
    + 4 // object class
    + HDRLEN
    + OBJECT_MAX
    + 4 // object, padding
    + 2 * HDRLEN
    + 4; // shadow flag, enforced action

/// Why an event could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The attribute stream is malformed.
    Malformed,
    /// A required attribute is missing.
    Missing(u16),
}

impl Event {
    /// The task name as text (up to the first NUL; invalid UTF-8 bytes are
    /// cut off there).
    pub fn comm_str(&self) -> &str {
        text_of(&self.comm)
    }

    /// The object of an object decision (empty for a syscall decision).
    pub fn object_str(&self) -> &str {
        text_of(&self.object)
    }

    /// Whether this is a shadow event (see [`Event::shadow`]).
    pub fn is_shadow(&self) -> bool {
        self.shadow != 0
    }

    /// The call's ABI, if the value is a known one.
    pub fn abi(&self) -> Option<Abi> {
        Abi::try_from(self.abi).ok()
    }

    /// Appends the event as one [`attr::EVENT`] nest.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), Error> {
        w.nest(attr::EVENT, |w| {
            w.put_u64(attr::EVENT_CGROUP_ID, self.policy_cgroup)?;
            w.put_u64(attr::EVENT_TASK_CGROUP_ID, self.task_cgroup)?;
            w.put_u32(attr::EVENT_PID, self.pid)?;
            w.put_u32(attr::EVENT_TID, self.tid)?;
            w.put_str(attr::EVENT_COMM, self.comm_str())?;
            w.put_u32(attr::EVENT_ABI, self.abi)?;
            w.put_u64(attr::EVENT_NR, self.nr)?;
            for a in self.args {
                w.put_u64(attr::EVENT_ARG, a)?;
            }
            w.put_u32(attr::EVENT_ACTION, self.action)?;
            w.put_u64(attr::EVENT_TIME_NS, self.time_ns)?;
            if self.obj_class != 0 {
                w.put_u32(attr::EVENT_OBJ_CLASS, self.obj_class)?;
                w.put_str(attr::EVENT_OBJECT, self.object_str())?;
            }
            if self.is_shadow() {
                w.put(attr::EVENT_SHADOW, &[])?;
                w.put_u32(attr::EVENT_ENFORCED_ACTION, self.enforced)?;
            }
            Ok(())
        })
    }

    /// Decodes the attributes of an event message (the stream that holds
    /// the [`attr::EVENT`] nest). Unknown attributes are skipped, so newer
    /// modules can add fields.
    pub fn decode(buf: &[u8]) -> Result<Event, DecodeError> {
        let mut nest = None;
        for a in Iter::new(buf) {
            let a = a.map_err(|_| DecodeError::Malformed)?;
            if a.kind == attr::EVENT {
                nest = Some(a);
            }
        }
        let nest = nest.ok_or(DecodeError::Missing(attr::EVENT))?;
        let mut e = Event::default();
        let mut seen = 0u32;
        let mut nargs = 0usize;
        for a in nest.nested_iter() {
            let a = a.map_err(|_| DecodeError::Malformed)?;
            let bad = DecodeError::Malformed;
            match a.kind {
                attr::EVENT_CGROUP_ID => e.policy_cgroup = a.u64().ok_or(bad)?,
                attr::EVENT_TASK_CGROUP_ID => e.task_cgroup = a.u64().ok_or(bad)?,
                attr::EVENT_PID => e.pid = a.u32().ok_or(bad)?,
                attr::EVENT_TID => e.tid = a.u32().ok_or(bad)?,
                attr::EVENT_COMM => {
                    let s = a.str().ok_or(bad)?.as_bytes();
                    let n = s.len().min(COMM_MAX);
                    e.comm = [0; COMM_MAX + 1];
                    if let (Some(d), Some(src)) = (e.comm.get_mut(..n), s.get(..n)) {
                        d.copy_from_slice(src);
                    }
                }
                attr::EVENT_ABI => e.abi = a.u32().ok_or(bad)?,
                attr::EVENT_NR => e.nr = a.u64().ok_or(bad)?,
                attr::EVENT_ARG => {
                    let slot = e.args.get_mut(nargs).ok_or(bad)?;
                    *slot = a.u64().ok_or(bad)?;
                    nargs += 1;
                }
                attr::EVENT_ACTION => e.action = a.u32().ok_or(bad)?,
                attr::EVENT_TIME_NS => e.time_ns = a.u64().ok_or(bad)?,
                attr::EVENT_OBJ_CLASS => e.obj_class = a.u32().ok_or(bad)?,
                attr::EVENT_OBJECT => set_text(&mut e.object, a.str().ok_or(bad)?.as_bytes()),
                attr::EVENT_SHADOW => e.shadow = 1,
                attr::EVENT_ENFORCED_ACTION => e.enforced = a.u32().ok_or(bad)?,
                _ => continue,
            }
            if a.kind < 32 {
                seen |= 1 << a.kind;
            }
        }
        for need in [
            attr::EVENT_CGROUP_ID,
            attr::EVENT_PID,
            attr::EVENT_TID,
            attr::EVENT_ABI,
            attr::EVENT_NR,
            attr::EVENT_ACTION,
        ] {
            if seen & (1 << need) == 0 {
                return Err(DecodeError::Missing(need));
            }
        }
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::action;

    fn sample() -> Event {
        let mut comm = [0u8; COMM_MAX + 1];
        comm[..5].copy_from_slice(b"nginx");
        Event {
            policy_cgroup: 7,
            task_cgroup: 9,
            pid: 100,
            tid: 101,
            comm,
            abi: Abi::Ia32 as u32,
            nr: 20,
            args: [1, 2, 3, 4, 5, u64::MAX],
            action: action::ERRNO | 13,
            time_ns: 123_456_789,
            ..Event::default()
        }
    }

    #[test]
    fn round_trip_within_the_bound() {
        let mut buf = [0u8; ENCODED_MAX];
        let mut w = Writer::new(&mut buf);
        let mut e = sample();
        e.comm = [b'x'; COMM_MAX + 1];
        e.comm[COMM_MAX] = 0;
        e.encode(&mut w).unwrap();
        let n = w.len();
        assert!(n <= ENCODED_MAX);
        assert_eq!(Event::decode(&buf[..n]).unwrap(), e);
        let e = sample();
        let mut w = Writer::new(&mut buf);
        e.encode(&mut w).unwrap();
        let n = w.len();
        let d = Event::decode(&buf[..n]).unwrap();
        assert_eq!(d, e);
        assert_eq!(d.comm_str(), "nginx");
        assert_eq!(d.abi(), Some(Abi::Ia32));
        // An object decision, its text at the longest.
        let mut e = sample();
        e.obj_class = crate::proto::class::FILE;
        set_text(&mut e.object, &[b'/'; 300]);
        let mut w = Writer::new(&mut buf);
        e.encode(&mut w).unwrap();
        let n = w.len();
        assert!(n <= ENCODED_MAX);
        let d = Event::decode(&buf[..n]).unwrap();
        assert_eq!(d, e);
        assert_eq!(d.object_str().len(), OBJECT_MAX - 1);
        // A shadow event: the flag and the enforced action; the record's
        // number stays in the module.
        e.shadow = 42;
        e.enforced = action::ALLOW;
        let mut w = Writer::new(&mut buf);
        e.encode(&mut w).unwrap();
        let n = w.len();
        assert!(n <= ENCODED_MAX);
        let d = Event::decode(&buf[..n]).unwrap();
        assert!(d.is_shadow());
        assert_eq!(
            (d.shadow, d.enforced, d.action),
            (1, action::ALLOW, e.action)
        );
    }

    #[test]
    fn truncated_or_incomplete_events_are_refused() {
        let mut buf = [0u8; ENCODED_MAX];
        let mut w = Writer::new(&mut buf);
        sample().encode(&mut w).unwrap();
        let n = w.len();
        for cut in 0..n {
            // Every prefix either fails or (never) decodes to the same event.
            if let Ok(e) = Event::decode(&buf[..cut]) {
                panic!("prefix of {cut} bytes decoded: {e:?}");
            }
        }
        let mut small = [0u8; 64];
        let mut w = Writer::new(&mut small);
        w.nest(attr::EVENT, |w| w.put_u32(attr::EVENT_PID, 1))
            .unwrap();
        let n = w.len();
        assert_eq!(
            Event::decode(&small[..n]),
            Err(DecodeError::Missing(attr::EVENT_CGROUP_ID))
        );
    }

    #[test]
    fn seven_arguments_are_malformed() {
        let mut buf = [0u8; 512];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::EVENT, |w| {
            for _ in 0..7 {
                w.put_u64(attr::EVENT_ARG, 0)?;
            }
            Ok(())
        })
        .unwrap();
        let n = w.len();
        assert_eq!(Event::decode(&buf[..n]), Err(DecodeError::Malformed));
    }
}
