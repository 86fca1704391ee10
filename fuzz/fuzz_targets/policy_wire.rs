// SPDX-License-Identifier: GPL-2.0
//! Arbitrary bytes as a request to the module: `parse_request`, then the
//! policy's `validate` and `compile`, as the kernel runs them. A policy that
//! compiles must read back (`Tables::encode`) to a policy that compiles to
//! the same decisions, and reading that back must give the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sysfence_abi::engine::{self, Scratch};
use sysfence_abi::nla::{Attr, Iter, Writer, F_NESTED};
use sysfence_abi::proto::{attr, Abi};

use sysfence_abi::owned::Compiled as Owned;

/// `None` when the policy does not validate; one that validates must
/// compile.
fn compile(a: &Attr<'_>, scratch: &mut Scratch) -> Option<Owned> {
    engine::validate(a, scratch).ok()?;
    Some(Owned::new(a, scratch).expect("a policy that validates must compile"))
}

fn read_back(o: &Owned) -> Vec<u8> {
    let t = o.tables();
    let mut inner = vec![0u8; t.encoded_len()];
    let mut w = Writer::new(&mut inner);
    t.encode(&mut w).expect("encoded_len is enough");
    assert_eq!(w.len(), inner.len(), "encoded_len is exact");
    let mut buf = vec![0u8; inner.len() + 4];
    Writer::new(&mut buf)
        .put(attr::POLICY | F_NESTED, &inner)
        .expect("fits");
    buf
}

fuzz_target!(|data: &[u8]| {
    let mut scratch = Box::new(Scratch::ZERO);
    // The same bytes as a batch: never a panic; every item given has a
    // policy attribute, and a count is returned only with items.
    let mut items = 0usize;
    if let Ok(n) = engine::parse_batch(data, |_, p| {
        assert_eq!(p.kind, attr::POLICY);
        items += 1;
        Ok(())
    }) {
        assert!(n >= 1 && n == items);
    }
    let Ok(req) = engine::parse_request(data, true) else {
        return;
    };
    let Some(p) = req.policy else {
        return;
    };
    let Some(o) = compile(&p, &mut scratch) else {
        return;
    };
    let back = read_back(&o);
    let a2 = Iter::new(&back).next().unwrap().unwrap();
    let o2 = compile(&a2, &mut scratch).expect("a policy read back compiles");
    assert_eq!(read_back(&o2), back, "reading back is a fixed point");
    // Same decisions on calls drawn from the input.
    let arg = |i: usize| {
        data.get(i..i + 8)
            .map(|b| u64::from_ne_bytes(b.try_into().unwrap()))
            .unwrap_or(0)
    };
    for k in 0..64usize {
        let nr = (arg(k * 3) % 1100) as u32;
        let args = [arg(k), arg(k + 1), 0, 7, arg(k + 2), u64::MAX];
        for abi in Abi::ALL {
            assert_eq!(
                o.tables().decide(*abi, nr, &args),
                o2.tables().decide(*abi, nr, &args),
                "{abi:?} {nr} {args:?}"
            );
        }
    }
});
