// SPDX-License-Identifier: GPL-2.0
//! Syscall names to numbers for the manager's encoders, through one hash
//! map built on first use.
//!
//! shared-abi's `names::number` is a binary search over the generated
//! tables (it is `no_std` and compiled into the module too): about 550
//! instructions a name with musl's byte-wise `memcmp`, 74% of encoding
//! Docker's profile (1,083 lookups, callgrind), and most of the guest time
//! of loading 1,000 distinct profiles (1.2 of 1.46 s, bench kernel). The
//! map (rustc-hash's FxHash: a multiply per word, no per-process key; the
//! keys are the kernel's own names, not input to defend against) answers
//! in a hash and one comparison.
//!
//! One lookup answers for every ABI ([`numbers`]): an encoder asks once per
//! name, not once per name and ABI. Keys are four words (the name,
//! zero-padded, and its length), not `&str`: comparing two of them is a
//! few inline word compares, where comparing strings called musl's `bcmp`,
//! a byte loop that still made half the cost of a lookup (about 70 of 160
//! instructions, callgrind of `sysfence bench encode`). A key is packed
//! word by word, not copied with `copy_from_slice`: that is a call to
//! musl's `memcpy`, a `rep movs` whose start-up made it a quarter of the
//! time of encoding Docker's profile on the host (perf), though few
//! instructions.

use rustc_hash::FxHashMap;
use std::sync::OnceLock;
use sysfence_abi::names;
use sysfence_abi::proto::Abi;

/// The longest name a key holds: 31 bytes (the kernel's longest is 28);
/// the last byte of a key is the name's length.
const KEY_BYTES: usize = 32;

/// A name as a map key: its bytes, zero-padded, then its length (so that
/// a name with NUL bytes at its end is not taken for a shorter one), as
/// little-endian words.
type Key = [u64; KEY_BYTES / 8];

/// Per name, its number in each ABI.
type Index = FxHashMap<Key, Numbers>;

const NONE: u32 = u32::MAX;

/// ABIs of every family: a name's numbers are kept for all of them.
const ABIS: usize = 5;

/// A syscall's number in each ABI that has it ([`numbers`]), of every
/// family (indexed by [`at`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Numbers([u32; ABIS]);

/// Where `abi`'s number is in [`Numbers`]: its place in `Abi::EVERY`.
fn at(abi: Abi) -> usize {
    (abi as usize).wrapping_sub(1)
}

impl Numbers {
    /// In no ABI.
    pub const NONE: Numbers = Numbers([NONE; ABIS]);

    /// The number in `abi`, if the call exists there.
    pub fn get(self, abi: Abi) -> Option<u32> {
        let nr = *self.0.get(at(abi))?;
        (nr != NONE).then_some(nr)
    }
}

fn key(name: &str) -> Option<Key> {
    let b = name.as_bytes();
    if b.len() >= KEY_BYTES {
        return None;
    }
    let mut k: Key = [0; KEY_BYTES / 8];
    let words = b.chunks_exact(8);
    let tail = words.remainder();
    let mut i = 0;
    for w in words {
        let Ok(w) = <[u8; 8]>::try_from(w) else {
            return None;
        };
        *k.get_mut(i)? = u64::from_le_bytes(w);
        i += 1;
    }
    // The last bytes one by one (shifts, which the compiler does not turn
    // into a `memcpy` call).
    let mut last = 0u64;
    for (j, c) in tail.iter().enumerate() {
        last |= u64::from(*c) << (8 * j);
    }
    if let Some(w) = k.get_mut(i) {
        *w = last;
    }
    *k.last_mut()? |= (b.len() as u64) << 56;
    Some(k)
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m = Index::default();
        for abi in Abi::EVERY {
            for (name, nr) in names::by_name(*abi) {
                // (A name too long for a key is one the test below fails on.)
                let Some(k) = key(name) else { continue };
                if let Some(slot) = m.entry(k).or_insert(Numbers::NONE).0.get_mut(at(*abi)) {
                    *slot = *nr;
                }
            }
        }
        m
    })
}

/// The numbers of syscall `name` in each ABI; `None` where it is in none.
pub fn numbers(name: &str) -> Option<Numbers> {
    index().get(&key(name)?).copied()
}

/// The number of syscall `name` in `abi`, as `names::number` answers.
pub fn number(abi: Abi, name: &str) -> Option<u32> {
    numbers(name)?.get(abi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_the_shared_tables_do() {
        assert_eq!(Abi::EVERY.len(), ABIS);
        for abi in Abi::EVERY {
            for (name, nr) in names::by_name(*abi) {
                assert_eq!(number(*abi, name), Some(*nr), "{abi:?} {name}");
            }
            for (_, nr) in names::by_name(*abi) {
                let name = names::name(*abi, *nr).unwrap();
                assert_eq!(number(*abi, name), names::number(*abi, name));
            }
            for other in Abi::EVERY {
                for (name, _) in names::by_name(*other) {
                    assert_eq!(
                        number(*abi, name),
                        names::number(*abi, name),
                        "{abi:?} {name}"
                    );
                    assert_eq!(numbers(name).and_then(|n| n.get(*abi)), number(*abi, name));
                }
            }
            assert_eq!(number(*abi, "no_such_call"), None);
            assert_eq!(number(*abi, ""), None);
        }
    }

    #[test]
    fn names_that_only_look_like_known_ones_are_unknown() {
        assert_eq!(number(Abi::X86_64, "read"), Some(0));
        for n in [
            "read\0",
            "\0read",
            "rea",
            "readd",
            "READ",
            "read ",
            "read\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            "a_name_longer_than_any_key_holds_at_all",
        ] {
            assert_eq!(numbers(n), None, "{n:?}");
        }
    }
}
