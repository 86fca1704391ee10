// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! Syscall names and numbers per ABI (tables in `syscalls.rs`).

use crate::proto::Abi;
use crate::syscalls;

/// The table of an ABI, sorted by number.
pub fn table(abi: Abi) -> &'static [(u32, &'static str)] {
    match abi {
        Abi::X86_64 => syscalls::X86_64,
        Abi::Ia32 => syscalls::IA32,
        Abi::X32 => syscalls::X32,
        Abi::Aarch64 => syscalls::AARCH64,
        Abi::Arm => syscalls::ARM,
    }
}

/// The table of an ABI, sorted by name.
pub fn by_name(abi: Abi) -> &'static [(&'static str, u32)] {
    match abi {
        Abi::X86_64 => syscalls::X86_64_BY_NAME,
        Abi::Ia32 => syscalls::IA32_BY_NAME,
        Abi::X32 => syscalls::X32_BY_NAME,
        Abi::Aarch64 => syscalls::AARCH64_BY_NAME,
        Abi::Arm => syscalls::ARM_BY_NAME,
    }
}

/// The number of syscall `name` in `abi`: a binary search. A Docker
/// profile names about 350 calls for each of three ABIs, and a scan of the
/// table for each made loading 1,000 distinct such policies from one
/// client take 2.59 s of guest time instead of 1.58 s (bench kernel,
/// icount).
pub fn number(abi: Abi, name: &str) -> Option<u32> {
    let t = by_name(abi);
    t.binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .and_then(|i| t.get(i))
        .map(|(_, nr)| *nr)
}

/// The name of syscall `nr` in `abi`.
pub fn name(abi: Abi, nr: u32) -> Option<&'static str> {
    let t = table(abi);
    t.binary_search_by_key(&nr, |(n, _)| *n)
        .ok()
        .and_then(|i| t.get(i))
        .map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_index_holds_each_row_of_the_number_table() {
        for abi in Abi::EVERY {
            assert_eq!(by_name(*abi).len(), table(*abi).len(), "{abi:?}");
            for (nr, name) in table(*abi) {
                assert_eq!(number(*abi, name), Some(*nr), "{abi:?} {name}");
            }
            assert_eq!(number(*abi, "no_such_call"), None);
            assert_eq!(number(*abi, ""), None);
        }
    }

    #[test]
    fn well_known_numbers() {
        assert_eq!(number(Abi::X86_64, "getppid"), Some(110));
        assert_eq!(number(Abi::Ia32, "getppid"), Some(64));
        assert_eq!(number(Abi::X32, "execve"), Some(520));
        assert_eq!(name(Abi::X86_64, 0), Some("read"));
        assert_eq!(number(Abi::X86_64, "no_such_call"), None);
    }

    #[test]
    fn arm64_numbers_are_the_kernels() {
        let (a, arm) = (Abi::Aarch64, Abi::Arm);
        for (abi, name, nr) in [
            (a, "openat", 56),
            (a, "getppid", 173),
            (a, "personality", 92),
            (a, "mount", 40),
            (a, "socket", 198),
            (a, "connect", 203),
            (a, "execve", 221),
            (a, "clone", 220),
            (a, "renameat", 38),
            (a, "memfd_secret", 447),
            (arm, "getppid", 64),
            (arm, "open", 5),
            (arm, "socket", 281),
            (arm, "connect", 283),
            (arm, "execve", 11),
            (arm, "clone", 120),
            (arm, "personality", 136),
            (arm, "arm_fadvise64_64", 270),
        ] {
            assert_eq!(number(abi, name), Some(nr), "{abi:?} {name}");
        }
        // The generic table has no legacy calls.
        for name in ["open", "stat", "fork", "socketcall"] {
            assert_eq!(number(a, name), None, "aarch64 {name}");
        }
        // EABI has no OABI-only calls (socketcall, ipc).
        assert_eq!(number(arm, "socketcall"), None);
        assert_eq!(name(arm, 0), Some("restart_syscall"));
    }

    #[test]
    fn arm_private_calls_fold_into_the_table() {
        use crate::proto::arm_fold;
        // libseccomp's numbers for them (983041 = 0x0f0001, ...).
        for (call, raw) in [
            ("breakpoint", 983_041),
            ("cacheflush", 983_042),
            ("usr26", 983_043),
            ("usr32", 983_044),
            ("set_tls", 983_045),
            ("get_tls", 983_046),
        ] {
            let folded = arm_fold(raw);
            assert_eq!(number(Abi::Arm, call), Some(folded), "{call}");
            assert_eq!(name(Abi::Arm, folded), Some(call));
            // The folded number itself, called directly, is no call.
            assert_eq!(name(Abi::Arm, arm_fold(folded)), None, "{call}");
        }
        // Every other number is itself, and no call of the kernel's table
        // is in the fold's range: the only rows there are the private ones.
        assert_eq!(arm_fold(64), 64);
        assert_eq!(arm_fold(0x0f_0008), 0x0f_0008);
        let private = [
            "breakpoint",
            "cacheflush",
            "usr26",
            "usr32",
            "set_tls",
            "get_tls",
        ];
        for (nr, call) in crate::syscalls::ARM {
            assert_eq!(*nr >= 1016, private.contains(call), "{nr} {call}");
        }
    }
}
