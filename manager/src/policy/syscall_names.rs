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

use rustc_hash::FxHashMap;
use std::sync::OnceLock;
use sysfence_abi::names;
use sysfence_abi::proto::Abi;

/// Per name, its number in each ABI (`Abi::index`), `NONE` where it has none.
type Index = FxHashMap<&'static str, [u32; Abi::COUNT]>;

const NONE: u32 = u32::MAX;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m = Index::default();
        for abi in Abi::ALL {
            for (name, nr) in names::by_name(*abi) {
                if let Some(slot) = m
                    .entry(name)
                    .or_insert([NONE; Abi::COUNT])
                    .get_mut(abi.index())
                {
                    *slot = *nr;
                }
            }
        }
        m
    })
}

/// The number of syscall `name` in `abi`, as `names::number` answers.
pub fn number(abi: Abi, name: &str) -> Option<u32> {
    let nr = *index().get(name)?.get(abi.index())?;
    (nr != NONE).then_some(nr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_as_the_shared_tables_do() {
        for abi in Abi::ALL {
            for (name, nr) in names::by_name(*abi) {
                assert_eq!(number(*abi, name), Some(*nr), "{abi:?} {name}");
            }
            for (_, nr) in names::by_name(*abi) {
                let name = names::name(*abi, *nr).unwrap();
                assert_eq!(number(*abi, name), names::number(*abi, name));
            }
            for other in Abi::ALL {
                for (name, _) in names::by_name(*other) {
                    assert_eq!(
                        number(*abi, name),
                        names::number(*abi, name),
                        "{abi:?} {name}"
                    );
                }
            }
            assert_eq!(number(*abi, "no_such_call"), None);
            assert_eq!(number(*abi, ""), None);
        }
    }
}
