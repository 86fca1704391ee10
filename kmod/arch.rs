// SPDX-License-Identifier: GPL-2.0
//! What the gate reads of a syscall's registers, per architecture: which
//! ABI a call is, and where its six arguments are. The C side's
//! counterpart is `sysfence_arch.h`, which says whether a call is the
//! compat ABI (`compat` below).

#[cfg(target_arch = "x86_64")]
mod imp {
    use crate::ffi::PtRegs;
    use crate::proto::{Abi, X32_SYSCALL_BIT};

    /// The ABI of a call on its fast path: an x32 number has bit 30 set,
    /// beyond any allow bitmap, so it is never allowed there and x32 need
    /// not be told apart.
    #[inline(always)]
    pub(crate) fn fast_abi(compat: bool) -> Abi {
        if compat {
            Abi::Ia32
        } else {
            Abi::X86_64
        }
    }

    /// The number the fast path looks up: the kernel's, truncated to 32
    /// bits as it does (an x32 number is beyond any bitmap).
    #[inline(always)]
    pub(crate) fn fast_nr(_compat: bool, id: core::ffi::c_long) -> u32 {
        id as u32
    }

    /// The ABI of the current call and the number the kernel dispatches:
    /// the kernel truncates the number register to 32 bits (`int nr`), so
    /// high bits can neither dodge a rule nor reach one.
    pub(crate) fn classify(compat: bool, id: core::ffi::c_long) -> (Abi, u32) {
        let nr = id as u32;
        if compat {
            (Abi::Ia32, nr)
        } else if u64::from(nr) & X32_SYSCALL_BIT != 0 {
            (Abi::X32, nr & !(X32_SYSCALL_BIT as u32))
        } else {
            (Abi::X86_64, nr)
        }
    }

    /// Word offsets in `struct pt_regs` of the six argument registers, as
    /// `syscall_get_arguments()` reads them (di, si, dx, r10, r8, r9 for
    /// x86_64 and x32; bx, cx, dx, si, di, bp for ia32). The C glue
    /// (`sysfence_arch_x86.c`) checks each offset at build time.
    const ARGS_X86_64: [usize; 6] = [14, 13, 12, 7, 9, 8];
    const ARGS_IA32: [usize; 6] = [5, 11, 12, 13, 14, 4];

    /// Argument `i` of the current call; ia32 arguments are 32-bit
    /// registers.
    ///
    /// # Safety
    /// `regs` must be the current task's syscall registers.
    #[inline(always)]
    pub(crate) unsafe fn arg(regs: *mut PtRegs, compat: bool, i: u8) -> u64 {
        let words = if compat { &ARGS_IA32 } else { &ARGS_X86_64 };
        let Some(&w) = words.get(usize::from(i)) else {
            return 0;
        };
        // SAFETY: `regs` points to a whole `struct pt_regs`, in which word
        // `w` is the register named above (layout checked by the C glue).
        let v = unsafe { regs.cast::<u64>().add(w).read() };
        if compat {
            v & 0xffff_ffff
        } else {
            v
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    use crate::ffi::PtRegs;
    use crate::proto::{arm_fold, Abi};

    /// The ABI of a call on its fast path.
    #[inline(always)]
    pub(crate) fn fast_abi(compat: bool) -> Abi {
        if compat {
            Abi::Arm
        } else {
            Abi::Aarch64
        }
    }

    /// The number the fast path looks up: the one [`classify`] decides
    /// (AArch32's private calls folded, [`arm_fold`]), so that the allow
    /// bit it tests is the call's own and the slow path may take it as
    /// missed (`Compiled::lookup_missed`).
    #[inline(always)]
    pub(crate) fn fast_nr(compat: bool, id: core::ffi::c_long) -> u32 {
        if compat {
            arm_fold(id as u32)
        } else {
            id as u32
        }
    }

    /// The ABI of the current call and its number (`regs->syscallno`, an
    /// `int`); AArch32's private calls (`set_tls`, `cacheflush`: 0xf0000
    /// and up) as the `arm` ABI numbers them ([`arm_fold`]).
    pub(crate) fn classify(compat: bool, id: core::ffi::c_long) -> (Abi, u32) {
        (fast_abi(compat), fast_nr(compat, id))
    }

    /// Argument `i` of the current call: `regs->regs[i]`, words 0 to 5 of
    /// `struct pt_regs` (checked by `sysfence_arch_arm64.c`), which is what
    /// the syscall wrappers pass on after the `sys_enter` tracepoint (the
    /// last thing before the call: ptrace and seccomp ran first). AArch32
    /// arguments are the low 32 bits.
    ///
    /// # Safety
    /// `regs` must be the current task's syscall registers.
    #[inline(always)]
    pub(crate) unsafe fn arg(regs: *mut PtRegs, compat: bool, i: u8) -> u64 {
        if i >= 6 {
            return 0;
        }
        // SAFETY: `regs` points to a whole `struct pt_regs`, whose first
        // six words are x0..x5 (layout checked by the C glue).
        let v = unsafe { regs.cast::<u64>().add(usize::from(i)).read() };
        if compat {
            v & 0xffff_ffff
        } else {
            v
        }
    }
}

pub(crate) use imp::{arg, classify, fast_abi, fast_nr};
