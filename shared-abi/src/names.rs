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
    }
}

/// The number of syscall `name` in `abi`.
pub fn number(abi: Abi, name: &str) -> Option<u32> {
    table(abi)
        .iter()
        .find(|(_, n)| *n == name)
        .map(|(nr, _)| *nr)
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
    fn well_known_numbers() {
        assert_eq!(number(Abi::X86_64, "getppid"), Some(110));
        assert_eq!(number(Abi::Ia32, "getppid"), Some(64));
        assert_eq!(number(Abi::X32, "execve"), Some(520));
        assert_eq!(name(Abi::X86_64, 0), Some("read"));
        assert_eq!(number(Abi::X86_64, "no_such_call"), None);
    }
}
