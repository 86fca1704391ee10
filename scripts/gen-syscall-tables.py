#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generates shared-abi/src/syscalls.rs from the pinned kernel's sources.

    scripts/gen-syscall-tables.py [--check] [--src DIR]

Two things come from the kernel:
- the numbers and names of each ABI: x86_64, x32 and ia32 from
  arch/x86/entry/syscalls/syscall_64.tbl and syscall_32.tbl; aarch64 and
  arm (AArch32, EABI) from the tables an arm64 kernel builds, see below;
- the width of each argument as the kernel reads it, from the declared
  types of each table entry's SYSCALL_DEFINEn, COMPAT_SYSCALL_DEFINEn or
  SYSCALL32_DEFINEn: the x86 syscall wrappers (arch/x86/include/asm/
  syscall_wrapper.h) cast each register to the declared type, so an `int`
  parameter is the register's low 32 bits, an umode_t its low 16. x86_64
  and x32 rows use the 64-bit register conversion, ia32 rows the 32-bit one
  of the compat entry point when the row has one, else of the native one.
  include/linux/syscalls.h's prototypes are used only for an entry point
  with no definition (there is none in 6.12): they are not what the
  wrappers cast to, and some differ (clone's flags are `unsigned` there,
  `unsigned long` in kernel/fork.c).

arm64, as 6.12 builds it:
- scripts/Makefile.asm-headers generates the tables with
  `syscall_abis_64 += common,64` and `syscall_abis_32 += common,32`, then
  includes arch/arm64/kernel/Makefile.syscalls, which adds
  `renameat rlimit memfd_secret` to the 64-bit ABIs and sets
  `syscalltbl = arch/arm64/tools/syscall_%.tbl`; scripts/syscalltbl.sh
  keeps the rows whose ABI column is one of those. aarch64 is therefore
  the rows of arch/arm64/tools/syscall_64.tbl (a symbolic link to
  scripts/syscall.tbl) with those ABIs, read from the two Makefiles here;
- arm is arch/arm64/tools/syscall_32.tbl (all `common`, with the compat
  entry points arm64 runs: compat_sys_aarch32_* of arch/arm64/kernel/
  sys32.c), and its numbers and names are checked against the `common`
  and `eabi` rows of arch/arm/tools/syscall.tbl (not `oabi`), which it
  says it follows; a difference stops the script. ARM's private calls
  (__ARM_NR_BASE 0x0f0000 + k of arch/arm/include/uapi/asm/unistd.h:
  breakpoint, cacheflush, usr26, usr32, set_tls, get_tls; arm64 runs
  cacheflush and set_tls and answers ENOSYS to the others, in
  arch/arm64/kernel/sys_compat.c) are beyond any 1024-call table: they
  are listed as 1016 + k (proto.rs ARM_PRIVATE_FOLD), the number the gate
  decides them as;
- widths: arch/arm64/include/asm/syscall_wrapper.h's __SYSCALL_DEFINEx
  passes regs->regs[0..5] as longs and casts each to its declared type
  (__SC_CAST), as x86 does, so aarch64 rows use the 64-bit register
  conversion of the native SYSCALL_DEFINEn (an `int` is the low 32 bits);
  its COMPAT_SYSCALL_DEFINEx casts with __SC_DELOUSE to the declared type,
  and an AArch32 task's registers are 32 bits, so arm rows use the 32-bit
  conversion of the compat entry point when the row has one, else of the
  native one, as ia32. Definitions are read from generic code and the
  architecture's own directory (arch/x86 or arch/arm64), and an entry
  point arch/arm64/kernel/sys.c renames (`#define __arm64_sys_personality
  __arm64_sys_arm64_personality`) is read under its new name.

The sources are /usr/src/linux-source-6.12.tar.xz's (Debian's
linux-source-6.12), or those of --src DIR (an extracted tree). The few files
that matter are copied once to ~/.cache/sysfence/syscall-src-KEY (KEY: the
tarball's size and time), from the tree scripts/build-kernel.sh extracts
when there is one (a few seconds), else from the tarball in one pass (about
20 s); every later run reads that copy, in under a second. With --check it
only compares and exits 1 if the committed file differs.
"""
import atexit, os, re, shutil, subprocess, sys, tarfile, tempfile, textwrap

TARBALL = "/usr/src/linux-source-6.12.tar.xz"
OUT = "shared-abi/src/syscalls.rs"
TABLES = ("arch/x86/entry/syscalls/syscall_64.tbl", "arch/x86/entry/syscalls/syscall_32.tbl")
# arch/arm64/tools/syscall_64.tbl is a symbolic link to scripts/syscall.tbl.
ARM64_TABLES = ("scripts/syscall.tbl", "arch/arm64/tools/syscall_32.tbl",
                "arch/arm/tools/syscall.tbl")
ARM64_MAKE = ("scripts/Makefile.asm-headers", "arch/arm64/kernel/Makefile.syscalls")
ARM64_RENAMES = "arch/arm64/kernel/sys.c"
ARM_PRIVATE = "arch/arm/include/uapi/asm/unistd.h"
ARM_PRIVATE_FOLD = 1016  # shared-abi/src/proto.rs ARM_PRIVATE_FOLD
HEADERS = ("include/linux/syscalls.h", "include/linux/compat.h")
DEFINE = re.compile(rb"\b(COMPAT_SYSCALL_DEFINE|SYSCALL32_DEFINE|SYSCALL_DEFINE)([0-6])\s*\(")
DEFINED = re.compile(rb"(SYSCALL|SYSCALL32)_DEFINE[0-6]")  # as source_files' grep
COMMENT = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)

def cache_dir():
    """scripts/lib.sh's SF_CACHE."""
    return os.environ.get("SYSFENCE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sysfence")

def wanted(rel, arches=("x86", "arm64")):
    """Whether a source file can hold a definition a kernel of one of
    arches builds."""
    parts = rel.split("/")
    if parts[0] in ("tools", "samples", "Documentation", "scripts", "usr"):
        return False
    if parts[0] == "arch" and (len(parts) < 3 or parts[1] not in arches or parts[2] == "um"):
        return False
    return rel.endswith((".c", ".h"))

def extracted_tree():
    try:
        ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "linux-source-6.12"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        ver = ""
    tree = os.path.join(cache_dir(), "src", f"linux-{ver}")
    return tree if ver and os.path.isfile(os.path.join(tree, ".sysfence-extracted")) else None

def subset(tree):
    """A copy of the few files that matter (the tables, the headers, the
    sources with definitions), kept in the cache per tarball: made once from
    the extracted tree (a few seconds) or, without one, from the tarball in
    one pass over its compressed stream (about 20 s); read in under a
    second by every later run."""
    st = os.stat(TARBALL)
    sub = os.path.join(cache_dir(), f"syscall-src-{st.st_size}-{int(st.st_mtime)}-x86-arm64-private")
    if os.path.isfile(os.path.join(sub, ".complete")):
        return sub
    keep = set(TABLES) | set(HEADERS) | set(ARM64_TABLES) | set(ARM64_MAKE) | {ARM_PRIVATE}
    try:
        os.makedirs(cache_dir(), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(sub) + ".tmp-", dir=cache_dir())
    except OSError:
        # No cache to write to: read the tree itself, or a copy for this run.
        if tree:
            return tree
        sub = None
        tmp = tempfile.mkdtemp(prefix="sysfence-syscall-src-")
        atexit.register(shutil.rmtree, tmp, True)

    def put(rel, data):
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    if tree:
        for rel in sorted(keep) + source_files(tree):
            put(rel, read(tree, rel))
    else:
        print(f"reading {TARBALL} once (about 20 s); the files that matter go to {sub or tmp}", file=sys.stderr)
        with tarfile.open(TARBALL, "r|xz") as t:
            for m in t:
                rel = m.name.split("/", 1)[1] if "/" in m.name else ""
                if not m.isfile() or not (rel in keep or wanted(rel)):
                    continue
                data = t.extractfile(m).read()
                if rel in keep or DEFINED.search(data):
                    put(rel, data)
    for rel in keep:
        if not os.path.isfile(os.path.join(tmp, rel)):
            sys.exit(f"{tree or TARBALL}: no {rel}")
    if sub is None:
        return tmp
    open(os.path.join(tmp, ".complete"), "w").close()
    try:
        os.rename(tmp, sub)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # another run got there first
    return sub

def source_files(root):
    """Relative paths of the files under root that mention a definition."""
    out = subprocess.run(["grep", "-rlE", "--include=*.c", "--include=*.h",
                          "(SYSCALL|SYSCALL32)_DEFINE[0-6]", "."],
                         cwd=root, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"grep in {root}: {out.stderr.strip()}")
    return sorted(p[2:] for p in out.stdout.split() if wanted(p[2:]))

def read(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        return f.read()

def split_top(s):
    parts, depth, cur = [], 0, ""
    for c in s:
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return [" ".join(p.split()) for p in parts]

def definitions(root, arch):
    """{(kind, name): {types: [file, ...]}}; kind "sys" or "compat"; from
    generic code and arch/ARCH."""
    defs = {}
    for rel in (r for r in source_files(root) if wanted(r, (arch,))):
        data = COMMENT.sub(b" ", read(root, rel))
        for m in DEFINE.finditer(data):
            line = data.rfind(b"\n", 0, m.start()) + 1
            if data[line:m.start()].lstrip().startswith(b"#"):
                continue  # the macro's own definition
            depth, j = 1, m.end()
            while j < len(data) and depth:
                depth += {b"(": 1, b")": -1}.get(data[j:j + 1], 0)
                j += 1
            inner = data[m.end():j - 1].decode()
            # 64-bit values split over two registers (include/linux/syscalls.h,
            # include/asm-generic/compat.h).
            # arch/arm64/kernel/sys32.c's arg_u32p likewise.
            inner = re.sub(r"\b(SC_ARG64|compat_arg_u64_dual|arg_u32p)\((\w+)\)", r"u32, \2_lo, u32, \2_hi", inner)
            parts = split_top(inner)
            n = int(m.group(2))
            if "..." in inner or len(parts) != 1 + 2 * n:
                sys.exit(f"{rel}: cannot read {m.group(0).decode()}{inner[:60]}...")
            kind = "sys" if m.group(1) == b"SYSCALL_DEFINE" else "compat"
            types = tuple(parts[1::2])
            defs.setdefault((kind, parts[0]), {}).setdefault(types, []).append(rel)
    return defs

def prototypes(root):
    """{(kind, name): types} from the asmlinkage prototypes of the headers."""
    protos = {}
    for rel in HEADERS:
        text = COMMENT.sub(b" ", read(root, rel)).decode()
        for m in re.finditer(r"asmlinkage\s+long\s+(compat_sys|sys)_(\w+)\s*\(([^;{]*?)\)\s*;", text):
            args = [] if m.group(3).strip() in ("", "void") else split_top(m.group(3))
            # Each parameter is "TYPE NAME": drop the name.
            types = tuple(re.sub(r"\s*\b\w+\s*$", "", a) or a for a in args)
            protos.setdefault(("sys" if m.group(1) == "sys" else "compat", m.group(2)), types)
    return protos

# Where a call has several definitions under #ifdefs whose widths differ:
# the one the x86 kernel builds (arch/x86/Kconfig selects CLONE_BACKWARDS
# and, with IA32_EMULATION, OLD_SIGSUSPEND3).
CHOSEN = {
    ("sys", "clone"): ("unsigned long", "unsigned long", "int __user *", "unsigned long", "int __user *"),
    ("sys", "sigsuspend"): ("int", "int", "old_sigset_t"),
}

# Bits of each parameter type on x86_64 (LP64), from the kernel's typedefs:
# include/linux/types.h, include/uapi/asm-generic/posix_types.h,
# arch/x86/include/uapi/asm/posix_types_64.h (old uid/gid: unsigned short),
# arch/x86/include/asm/signal.h (old_sigset_t: unsigned long),
# include/asm-generic/compat.h and arch/x86/include/asm/compat.h (compat
# types, which only COMPAT_SYSCALL_DEFINE uses). Pointers are 64. A type
# not listed stops the script: add it, with its source.
BITS = {
    "int": 32, "unsigned": 32, "unsigned int": 32, "long": 64, "unsigned long": 64,
    "u32": 32, "__u32": 32, "s32": 32, "__s32": 32, "u64": 64, "__u64": 64,
    "size_t": 64, "loff_t": 64, "off_t": 64, "aio_context_t": 64,
    "pid_t": 32, "uid_t": 32, "gid_t": 32, "qid_t": 32, "key_serial_t": 32,
    "key_t": 32, "clockid_t": 32, "timer_t": 32, "mqd_t": 32, "rwf_t": 32,
    "umode_t": 16, "old_uid_t": 16, "old_gid_t": 16, "old_sigset_t": 64,
    "enum landlock_rule_type": 32,
    # Typedefs of pointers.
    "__sighandler_t": 64, "cap_user_header_t": 64, "cap_user_data_t": 64,
    "compat_long_t": 32, "compat_ulong_t": 32, "compat_uptr_t": 32,
    "compat_size_t": 32, "compat_ssize_t": 32, "compat_off_t": 32,
    "compat_pid_t": 32, "compat_aio_context_t": 32, "compat_mode_t": 16,
}

def bits(t, where):
    if "*" in t:
        return 64
    base = " ".join(w for w in t.split() if w not in ("const", "volatile", "__user"))
    if base not in BITS:
        sys.exit(f"{where}: parameter type '{t}' has no known width: add it to BITS")
    return BITS[base]

def widths(entry, defs, protos):
    """Declared widths of an entry point (`sys_x`, `compat_sys_x`), or None."""
    kind, name = ("compat", entry[len("compat_sys_"):]) if entry.startswith("compat_sys_") else \
                 ("sys", entry[len("sys_"):]) if entry.startswith("sys_") else (None, None)
    if kind is None:
        sys.exit(f"entry point {entry}: neither sys_ nor compat_sys_")
    found = defs.get((kind, name), {})
    if not found and (kind, name) in protos:
        found = {protos[(kind, name)]: ["include/linux/syscalls.h"]}
    if not found:
        return None
    cands = {types: tuple(bits(t, f"{entry} in {files[0]}") for t in types) for types, files in found.items()}
    if len(set(cands.values())) > 1:
        pick = CHOSEN.get((kind, name))
        if pick not in cands:
            sys.exit(f"{entry}: definitions with different widths ({sorted(found)}): say which in CHOSEN")
        return cands[pick]
    return next(iter(cands.values()))

def parse(text, abis):
    rows = []
    for line in text.splitlines():
        f = line.split("#", 1)[0].split()
        if len(f) >= 3 and f[1] in abis:
            native = f[3] if len(f) > 3 else None
            compat = f[4] if len(f) > 4 and f[4] != "-" else None
            rows.append((int(f[0]), f[2], native, compat))
    return sorted(rows)

def names(name, doc, rows):
    body = "".join(f'    ({n}, "{s}"),\n' for n, s, _, _ in rows)
    return f"/// {doc}\npub const {name}: &[(u32, &str)] = &[\n{body}];\n"

def by_name(name, doc, rows):
    # Byte order, as Rust's str ordering; a name is in a table once.
    body = "".join(f'    ("{s}", {n}),\n' for n, s, _, _ in sorted(rows, key=lambda r: r[1].encode()))
    return f"/// {doc}\npub const {name}: &[(&str, u32)] = &[\n{body}];\n"

def args(name, doc, rows, reg, compat_first, defs, protos, renames=None):
    items = []
    for n, s, native, compat in rows:
        entry = (compat or native) if compat_first else native
        entry = (renames or {}).get(entry, entry)
        w = widths(entry, defs, protos) if entry and entry != "sys_ni_syscall" else None
        if w is None:
            continue
        w = [min(b, reg) for b in w] + [reg] * (6 - len(w))
        if any(b < reg for b in w):
            items.append((f"({n}, [{', '.join(map(str, w))}]),", s))
    # The names as comments, aligned as rustfmt aligns them.
    col = max(len(i) for i, _ in items) + 1
    body = "".join(f"    {i.ljust(col)}// {s}\n" for i, s in items)
    doc = "".join(f"/// {l}\n" for l in textwrap.wrap(doc, 76))
    return f"{doc}pub const {name}: &[(u32, [u8; 6])] = &[\n{body}];\n"

NARROW = ("the numbers whose call has an argument narrower than the ABI's {reg}-bit "
          "registers, with each argument's width in bits as the kernel reads it: the "
          "declared type of the {what}. Any other argument, of any call, is read whole.")

def make_abis(root, bits):
    """The ABIs of arm64's `bits`-bit table (64: native, 32: compat), as
    scripts/Makefile.asm-headers computes syscall_abis_BITS after
    including arch/arm64/kernel/Makefile.syscalls."""
    abis = set()
    for rel in ARM64_MAKE:
        for m in re.finditer(rf"^syscall_abis_{bits}\s*\+=(.*)$", read(root, rel).decode(), re.M):
            abis |= {a for a in re.split(r"[\s,]+", m.group(1)) if a}
    if "common" not in abis:
        sys.exit(f"{' and '.join(ARM64_MAKE)}: no syscall_abis_{bits} with common")
    return abis

def arm64_renames(root):
    """{entry: entry} of arch/arm64/kernel/sys.c's `#define __arm64_sys_X
    __arm64_sys_Y`: the table's sys_X runs sys_Y's wrapper."""
    text = read(root, ARM64_RENAMES).decode()
    return {f"sys_{a}": f"sys_{b}" for a, b in
            re.findall(r"^#define\s+__arm64_sys_(\w+)\s+__arm64_sys_(\w+)\s*$", text, re.M)}

def arm_checked(root):
    """arm64's compat rows, after checking their numbers and names against
    arch/arm/tools/syscall.tbl's EABI rows."""
    rows = parse(read(root, ARM64_TABLES[1]).decode(), make_abis(root, 32))
    eabi = parse(read(root, ARM64_TABLES[2]).decode(), {"common", "eabi"})
    ours, theirs = [(n, s) for n, s, _, _ in rows], [(n, s) for n, s, _, _ in eabi]
    if ours != theirs:
        diff = sorted(set(ours) ^ set(theirs))[:5]
        sys.exit(f"{ARM64_TABLES[1]} and {ARM64_TABLES[2]} (common, eabi) differ: {diff}")
    return rows

def arm_private(root):
    """ARM's private calls, as rows numbered ARM_PRIVATE_FOLD + k."""
    text = read(root, ARM_PRIVATE).decode()
    found = re.findall(r"^#define\s+__ARM_NR_(\w+)\s+\(__ARM_NR_BASE\+(\d+)\)", text, re.M)
    if not found:
        sys.exit(f"{ARM_PRIVATE}: no __ARM_NR_BASE+k calls")
    return [(ARM_PRIVATE_FOLD + int(k), name, None, None) for name, k in found if int(k) < 8]

def render_x86(root, protos):
    t64, t32 = (read(root, p).decode() for p in TABLES)
    defs = definitions(root, "x86")
    x86_64 = parse(t64, {"common", "64"})
    x32 = parse(t64, {"common", "x32"})
    ia32 = parse(t32, {"i386"})
    return (names("X86_64", "x86_64 (`common` and `64` rows of syscall_64.tbl).", x86_64) + "\n"
            + names("X32", "x32 (`common` and `x32` rows of syscall_64.tbl), numbers without the x32 bit.", x32) + "\n"
            + names("IA32", "ia32 (syscall_32.tbl).", ia32) + "\n"
            + by_name("X86_64_BY_NAME", "[`X86_64`] sorted by name, for lookups by name.", x86_64) + "\n"
            + by_name("X32_BY_NAME", "[`X32`] sorted by name.", x32) + "\n"
            + by_name("IA32_BY_NAME", "[`IA32`] sorted by name.", ia32) + "\n"
            + args("X86_64_ARG_BITS", "x86_64: " + NARROW.format(reg=64, what="entry point's `SYSCALL_DEFINEn`"), x86_64, 64, False, defs, protos) + "\n"
            + args("X32_ARG_BITS", "x32: " + NARROW.format(reg=64, what="entry point's `SYSCALL_DEFINEn` or `COMPAT_SYSCALL_DEFINEn`"), x32, 64, False, defs, protos) + "\n"
            + args("IA32_ARG_BITS", "ia32: " + NARROW.format(reg=32, what="compat entry point's `COMPAT_SYSCALL_DEFINEn` when the row has one, else the native `SYSCALL_DEFINEn`"), ia32, 32, True, defs, protos))

def render_arm64(root, protos):
    defs = definitions(root, "arm64")
    abis64 = make_abis(root, 64)
    aarch64 = parse(read(root, ARM64_TABLES[0]).decode(), abis64)
    arm = arm_checked(root) + arm_private(root)
    which = ", ".join(f"`{a}`" for a in sorted(abis64))
    return (names("AARCH64", f"aarch64 ({which} rows of scripts/syscall.tbl, arm64\'s syscall_64.tbl).", aarch64) + "\n"
            + names("ARM", "arm, AArch32 EABI (arch/arm64/tools/syscall_32.tbl, as arch/arm/tools/syscall.tbl's `common` and `eabi` rows).", arm) + "\n"
            + by_name("AARCH64_BY_NAME", "[`AARCH64`] sorted by name.", aarch64) + "\n"
            + by_name("ARM_BY_NAME", "[`ARM`] sorted by name.", arm) + "\n"
            + args("AARCH64_ARG_BITS", "aarch64: " + NARROW.format(reg=64, what="entry point's `SYSCALL_DEFINEn`"), aarch64, 64, False, defs, protos, arm64_renames(root)) + "\n"
            + args("ARM_ARG_BITS", "arm: " + NARROW.format(reg=32, what="compat entry point's `COMPAT_SYSCALL_DEFINEn` when the row has one, else the native `SYSCALL_DEFINEn`"), arm, 32, True, defs, protos))

def render(root):
    protos = prototypes(root)
    return ("// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT\n"
            "// @generated by scripts/gen-syscall-tables.py from Linux 6.12's\n"
            "// arch/x86/entry/syscalls/syscall_{64,32}.tbl, scripts/syscall.tbl,\n"
            "// arch/arm64/tools/syscall_32.tbl and the SYSCALL_DEFINEn,\n"
            "// COMPAT_SYSCALL_DEFINEn and SYSCALL32_DEFINEn of each entry point.\n"
            "// Do not edit.\n"
            "//! Syscall numbers and names per ABI, sorted by number and by name, and\n"
            "//! the width of each argument as the kernel reads it.\n\n"
            + render_x86(root, protos) + "\n" + render_arm64(root, protos))

def main():
    argv = sys.argv[1:]
    root = None
    if "--src" in argv:
        i = argv.index("--src")
        if i + 1 >= len(argv):
            sys.exit("--src needs a directory")
        root = argv[i + 1]
    if root is None:
        tree = extracted_tree()
        if os.path.isfile(TARBALL):
            root = subset(tree)
        elif tree:
            root = tree
        else:
            sys.exit(f"{TARBALL} is missing: run scripts/setup.sh")
    text = render(root)
    if "--check" in argv:
        if open(OUT).read() != text:
            print(f"{OUT} does not match the kernel's sources in {root}: run scripts/gen-syscall-tables.py", file=sys.stderr)
            sys.exit(1)
        print(f"{OUT} matches {root}")
        return
    open(OUT, "w").write(text)

main()
