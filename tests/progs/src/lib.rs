// SPDX-License-Identifier: GPL-2.0
//! Raw system call entry for the guest test programs.
//!
//! The tests must be able to issue any syscall number, with any register
//! values, through each entry path the kernel has (the 64-bit `syscall`
//! instruction and the ia32 `int $0x80` gate), without libc rewriting numbers
//! or arguments. These functions do exactly one trap each.

/// The entry path a raw syscall takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    /// `syscall` from 64-bit mode: x86_64 numbers.
    X86_64,
    /// `int $0x80` from this 64-bit process: ia32 numbers, 32-bit arguments.
    Ia32Int80,
}

impl std::str::FromStr for Abi {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "x86_64" | "64" => Ok(Abi::X86_64),
            "ia32" | "int80" => Ok(Abi::Ia32Int80),
            _ => Err(format!("unknown ABI '{s}' (want x86_64 or ia32)")),
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
    }
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
