// SPDX-License-Identifier: GPL-2.0
//! Raw system call entry for the guest test programs.
//!
//! The tests must be able to issue any syscall number, with any register
//! values, through each entry path the kernel has (the 64-bit `syscall`
//! instruction and the ia32 `int $0x80` gate), without libc rewriting numbers
//! or arguments. These functions do exactly one trap each.

/// The entry path a raw syscall takes. Each architecture has its own:
/// x86_64 the 64-bit `syscall` instruction and the ia32 `int $0x80` gate,
/// aarch64 `svc #0` (an AArch64 process cannot enter the AArch32 compat
/// ABI; only a 32-bit program can).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// `syscall` from 64-bit mode: x86_64 numbers.
    #[cfg(target_arch = "x86_64")]
    X86_64,
    /// `int $0x80` from this 64-bit process: ia32 numbers, 32-bit arguments.
    #[cfg(target_arch = "x86_64")]
    Ia32Int80,
    /// `svc #0` from AArch64: aarch64 (generic table) numbers.
    #[cfg(target_arch = "aarch64")]
    Aarch64,
}

impl Abi {
    /// This program's own ABI, the one libc's `SYS_*` numbers belong to.
    #[cfg(target_arch = "x86_64")]
    pub const NATIVE: Abi = Abi::X86_64;
    /// This program's own ABI, the one libc's `SYS_*` numbers belong to.
    #[cfg(target_arch = "aarch64")]
    pub const NATIVE: Abi = Abi::Aarch64;
}

impl std::str::FromStr for Abi {
    type Err = String;
    #[cfg(target_arch = "x86_64")]
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "x86_64" | "64" => Ok(Abi::X86_64),
            "ia32" | "int80" => Ok(Abi::Ia32Int80),
            _ => Err(format!("unknown ABI '{s}' (want x86_64 or ia32)")),
        }
    }
    #[cfg(target_arch = "aarch64")]
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "aarch64" | "64" => Ok(Abi::Aarch64),
            _ => Err(format!("unknown ABI '{s}' (want aarch64)")),
        }
    }
}

/// Issues syscall `nr` with `args` through `abi` and returns the raw kernel
/// return value (a negative errno on failure).
///
/// # Safety
/// The caller chooses the syscall: it may do anything a syscall can do to
/// this process (unmap memory, exit, write through pointers in `args`).
pub unsafe fn raw_syscall(abi: Abi, nr: u64, args: [u64; 6]) -> i64 {
    match abi {
        #[cfg(target_arch = "x86_64")]
        Abi::X86_64 => {
            let ret: i64;
            // SAFETY: the `syscall` instruction clobbers only rax, rcx and
            // r11, all declared; the caller vouches for the call itself.
            unsafe {
                core::arch::asm!(
                    "syscall",
                    inlateout("rax") nr as i64 => ret,
                    in("rdi") args[0], in("rsi") args[1], in("rdx") args[2],
                    in("r10") args[3], in("r8") args[4], in("r9") args[5],
                    lateout("rcx") _, lateout("r11") _,
                    options(nostack),
                );
            }
            ret
        }
        #[cfg(target_arch = "x86_64")]
        Abi::Ia32Int80 => {
            let ret: i32;
            // SAFETY: ebx and ebp cannot be asm operands, so the first and
            // sixth arguments are swapped into them and restored afterwards;
            // the stack is balanced (push/pop) and r8-r11 are declared
            // clobbered because the compat entry does not preserve them.
            unsafe {
                core::arch::asm!(
                    "xchg {b:r}, rbx",
                    "push rbp",
                    "mov ebp, {f:e}",
                    "int 0x80",
                    "pop rbp",
                    "xchg {b:r}, rbx",
                    b = inout(reg) args[0] as u32 as u64 => _,
                    f = in(reg) args[5] as u32,
                    inlateout("eax") nr as u32 => ret,
                    in("ecx") args[1] as u32, in("edx") args[2] as u32,
                    in("esi") args[3] as u32, in("edi") args[4] as u32,
                    lateout("r8") _, lateout("r9") _, lateout("r10") _, lateout("r11") _,
                );
            }
            i64::from(ret)
        }
        #[cfg(target_arch = "aarch64")]
        Abi::Aarch64 => {
            let ret: i64;
            // SAFETY: `svc #0` takes the number in x8 and arguments in
            // x0-x5, returns in x0 and preserves every other register; the
            // caller vouches for the call itself.
            unsafe {
                core::arch::asm!(
                    "svc #0",
                    in("x8") nr,
                    inlateout("x0") args[0] as i64 => ret,
                    in("x1") args[1], in("x2") args[2], in("x3") args[3],
                    in("x4") args[4], in("x5") args[5],
                    options(nostack),
                );
            }
            ret
        }
    }
}

/// Raw generic netlink, for tests that must send what the manager never
/// would (malformed requests) or more than a process per request allows
/// (thousands of replaces per second).
pub mod nl {
    use std::io::Error;
    use sysfence_abi::nla::Writer;
    use sysfence_abi::proto::{FAMILY_NAME, FAMILY_VERSION};

    const NLMSG_ERROR: u16 = 2;
    const NLM_F_REQUEST: u16 = 1;
    const NLM_F_ACK: u16 = 4;
    const GENL_ID_CTRL: u16 = 0x10;
    const NETLINK_EXT_ACK: i32 = 11;
    const NLMSGERR_ATTR_MSG: u16 = 1;

    /// A generic netlink socket with extended acks on.
    pub struct Sock {
        fd: i32,
        seq: u32,
        /// The receive buffer, kept across requests.
        buf: Vec<u8>,
    }

    impl Sock {
        /// Opens the socket.
        pub fn open() -> Result<Sock, Error> {
            // SAFETY: plain socket(2) call.
            let fd =
                unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, libc::NETLINK_GENERIC) };
            if fd < 0 {
                return Err(Error::last_os_error());
            }
            let one: i32 = 1;
            // SAFETY: `one` is a valid int for the option's size.
            unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_NETLINK,
                    NETLINK_EXT_ACK,
                    (&one as *const i32).cast(),
                    4,
                )
            };
            Ok(Sock {
                fd,
                seq: 1,
                buf: vec![0u8; 1 << 17],
            })
        }

        /// Asks the kernel not to echo the request in error ACKs
        /// (`NETLINK_CAP_ACK`): less work per refused request for a fuzzer.
        pub fn cap_acks(&mut self) {
            const NETLINK_CAP_ACK: i32 = 10;
            let one: i32 = 1;
            // SAFETY: `one` is a valid int for the option's size.
            unsafe {
                libc::setsockopt(
                    self.fd,
                    libc::SOL_NETLINK,
                    NETLINK_CAP_ACK,
                    (&one as *const i32).cast(),
                    4,
                )
            };
        }

        /// Sends one message (`payload` after the genl header) and returns the
        /// errno and extack message of the ACK, plus any reply payloads.
        pub fn request(
            &mut self,
            family: u16,
            cmd: u8,
            payload: &[u8],
        ) -> Result<(i32, String, Vec<Vec<u8>>), Error> {
            self.seq += 1;
            let len = 16 + 4 + payload.len();
            let mut m = Vec::with_capacity(len);
            m.extend_from_slice(&(len as u32).to_ne_bytes());
            m.extend_from_slice(&family.to_ne_bytes());
            m.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
            m.extend_from_slice(&self.seq.to_ne_bytes());
            m.extend_from_slice(&0u32.to_ne_bytes());
            m.extend_from_slice(&[cmd, FAMILY_VERSION, 0, 0]);
            m.extend_from_slice(payload);
            // SAFETY: `m` is valid for its length; the kernel is the peer.
            if unsafe { libc::send(self.fd, m.as_ptr().cast(), m.len(), 0) } < 0 {
                return Err(Error::last_os_error());
            }
            let mut replies = Vec::new();
            let buf = &mut self.buf;
            loop {
                // SAFETY: `buf` is writable for its length.
                let n = unsafe { libc::recv(self.fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
                if n < 0 {
                    return Err(Error::last_os_error());
                }
                let n = n as usize;
                let mut off = 0;
                while off + 16 <= n {
                    let mlen = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
                    let ty = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
                    let flags = u16::from_ne_bytes(buf[off + 6..off + 8].try_into().unwrap());
                    if mlen < 16 || off + mlen > n {
                        return Err(Error::other("bad reply length"));
                    }
                    let body = &buf[off + 16..off + mlen];
                    off += (mlen + 3) & !3;
                    if ty == NLMSG_ERROR {
                        let err = -i32::from_ne_bytes(body[0..4].try_into().unwrap());
                        let mut msg = String::from("-");
                        if flags & 0x200 != 0 {
                            // The echoed request (capped or whole), then TLVs.
                            let inner = if flags & 0x100 != 0 {
                                16
                            } else {
                                u32::from_ne_bytes(body[4..8].try_into().unwrap()) as usize
                            };
                            // The echoed request is padded to 4 bytes before the TLVs.
                            let tlvs = body.get((4 + inner.max(16) + 3) & !3..).unwrap_or(&[]);
                            for a in sysfence_abi::nla::Iter::new(tlvs).flatten() {
                                if a.kind == NLMSGERR_ATTR_MSG {
                                    msg = a.str().unwrap_or("?").to_string();
                                }
                            }
                        }
                        return Ok((err, msg, replies));
                    }
                    replies.push(body.get(4..).unwrap_or(&[]).to_vec());
                }
            }
        }
    }

    impl Sock {
        /// Opens a socket and resolves the family, or exits with a message
        /// prefixed by `prog` (for the test programs' `main`).
        pub fn open_family_or_exit(prog: &str) -> (Sock, u16) {
            let mut s = Sock::open().unwrap_or_else(|e| {
                eprintln!("{prog}: socket: {e}");
                std::process::exit(1)
            });
            let fam = s.family_id().unwrap_or_else(|e| {
                eprintln!("{prog}: {e}");
                std::process::exit(1)
            });
            (s, fam)
        }

        /// Resolves the sysfence family's id.
        pub fn family_id(&mut self) -> Result<u16, Error> {
            let mut b = [0u8; 32];
            let mut w = Writer::new(&mut b);
            w.put_str(2, FAMILY_NAME).unwrap();
            let n = w.len();
            let (err, msg, replies) = self.request(GENL_ID_CTRL, 3, &b[..n])?;
            if err != 0 {
                return Err(Error::other(format!("family lookup: errno {err} {msg}")));
            }
            for r in replies {
                for a in sysfence_abi::nla::Iter::new(&r).flatten() {
                    if a.kind == 1 {
                        return a.u16().ok_or_else(|| Error::other("family id"));
                    }
                }
            }
            Err(Error::other("no family id"))
        }
    }
}

impl Abi {
    /// The ABI as policies, events and shared-abi's tables name it.
    pub fn proto(self) -> sysfence_abi::proto::Abi {
        use sysfence_abi::proto::Abi as P;
        match self {
            #[cfg(target_arch = "x86_64")]
            Abi::X86_64 => P::X86_64,
            #[cfg(target_arch = "x86_64")]
            Abi::Ia32Int80 => P::Ia32,
            #[cfg(target_arch = "aarch64")]
            Abi::Aarch64 => P::Aarch64,
        }
    }
}

/// Parses a syscall number: a number as [`parse_arg`] reads it, or the
/// name of a syscall of `abi` (`getppid`: 110 on x86_64, 64 on ia32, 173
/// on aarch64), so that guest tests need not know any architecture's
/// numbers.
pub fn parse_nr(abi: Abi, s: &str) -> Result<u64, String> {
    parse_arg(s).or_else(|_| {
        sysfence_abi::names::number(abi.proto(), s)
            .map(u64::from)
            .ok_or_else(|| {
                format!(
                    "'{s}' is neither a number nor a syscall of {}",
                    abi.proto().name()
                )
            })
    })
}

/// Parses a syscall argument: decimal, negative decimal, or 0x-prefixed hex.
pub fn parse_arg(s: &str) -> Result<u64, String> {
    let parsed = if let Some(hex) = s.strip_prefix("0x") {
        u64::from_str_radix(hex, 16).ok()
    } else if let Some(neg) = s.strip_prefix('-') {
        neg.parse::<u64>().ok().map(|v| v.wrapping_neg())
    } else {
        s.parse::<u64>().ok()
    };
    parsed.ok_or_else(|| format!("'{s}' is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers() {
        assert_eq!(parse_arg("42"), Ok(42));
        assert_eq!(parse_arg("0xff"), Ok(255));
        assert_eq!(parse_arg("-1"), Ok(u64::MAX));
        assert!(parse_arg("x").is_err());
    }

    #[test]
    fn parses_syscall_names_of_the_abi() {
        assert_eq!(
            parse_nr(Abi::NATIVE, "getppid"),
            Ok(libc::SYS_getppid as u64)
        );
        assert_eq!(parse_nr(Abi::NATIVE, "0x10"), Ok(16));
        assert!(parse_nr(Abi::NATIVE, "no_such_call").is_err());
        #[cfg(target_arch = "x86_64")]
        assert_eq!(parse_nr(Abi::Ia32Int80, "getppid"), Ok(64));
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn both_abis_reach_the_kernel() {
        // getppid is 110 on x86_64 and 64 on ia32: the same answer both ways.
        // SAFETY: getppid has no side effects.
        let (a, b) = unsafe {
            (
                raw_syscall(Abi::X86_64, 110, [0; 6]),
                raw_syscall(Abi::Ia32Int80, 64, [0; 6]),
            )
        };
        assert!(a > 0);
        // Kernels without IA32_EMULATION answer -ENOSYS (-38) to int 0x80.
        assert!(b == a || b == -38, "ia32 getppid gave {b}, x86_64 gave {a}");
    }
}
