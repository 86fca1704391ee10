// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! The sysfence generic netlink protocol: family, commands, attributes,
//! actions, comparison operators, ABIs and limits.
//!
//! Every number here is part of the userspace ABI: append-only, never reused.
//! `docs/ABI.md` and `shared-abi/sysfence.yaml` describe the same protocol in
//! prose and as a netlink YAML spec.

/// Version of the sysfence release this ABI belongs to; the module logs it at
/// load and the manager prints it with `--version`.
pub const RELEASE: &str = "0.1.0";

/// Name of the generic netlink family the module registers.
pub const FAMILY_NAME: &str = "sysfence";

/// Version of the generic netlink family. A manager refuses to drive a module
/// whose family version differs from its own.
pub const FAMILY_VERSION: u8 = 4;

/// Name of the multicast group that carries [`Cmd::Event`] messages.
pub const MCGRP_EVENTS: &str = "events";

/// Limits the module enforces; `get-info` reports them.
pub mod limits {
    /// Policies in all (one per cgroup).
    pub const MAX_POLICIES: u32 = 65_536;
    /// Rules in one policy, all ABIs together.
    pub const MAX_RULES: u32 = 2_048;
    /// Argument comparisons in one rule (one per register, as seccomp).
    pub const MAX_ARGS_PER_RULE: u32 = 6;
    /// Largest syscall number a rule may name (numbers above it take the
    /// default action; x32 numbers are a separate ABI, see [`super::Abi`]).
    pub const MAX_SYSCALL_NR: u32 = 1_023;
    /// Largest errno an ERRNO action may carry (the kernel's MAX_ERRNO).
    pub const MAX_ERRNO: u32 = 4_095;
    /// Events per second per cgroup before drops are counted instead.
    pub const EVENTS_PER_SEC: u32 = 1_000;
    /// Largest `POLICY` attribute payload, in bytes (netlink attribute
    /// lengths are 16 bits).
    pub const MAX_POLICY_BYTES: u32 = 65_535;
    /// Object rules in one policy.
    pub const MAX_OBJECT_RULES: u32 = 256;
    /// Longest path in an object rule, in bytes (the kernel's PATH_MAX
    /// without the NUL).
    pub const MAX_PATH: u32 = 4_095;
    /// Entries (ABI, syscall, object class) a shadow record holds; further
    /// differing calls are counted in `SR_DIFFERED` and `SR_UNTRACKED`.
    pub const SHADOW_SLOTS: u32 = 256;
    /// Programs (comm) a shadow record entry names.
    pub const SHADOW_COMMS: u32 = 4;
    /// Items in one `policy-set-batch` request.
    pub const MAX_BATCH: u32 = 1_024;
}

/// Feature bits reported by `get-info` ([`attr::INFO_FEATURES`]).
pub mod features {
    /// Syscall filtering by number and register arguments.
    pub const SYSCALL_FILTER: u64 = 1 << 0;
    /// Hierarchical policies (every policy on the cgroup path applies).
    pub const HIERARCHY: u64 = 1 << 1;
    /// Events on the [`super::MCGRP_EVENTS`] multicast group.
    pub const EVENTS: u64 = 1 << 2;
    /// Recording policies ([`super::attr::POLICY_RECORD`]) and the
    /// `STATS_SEEN_*` bitmaps.
    pub const RECORD: u64 = 1 << 3;
    /// Object rules ([`super::attr::POLICY_OBJECT`]): file open, exec,
    /// socket create, connect and bind.
    pub const OBJECTS: u64 = 1 << 4;
    /// Policies set to start at the cgroup's next exec
    /// ([`super::attr::ARM_ON_EXEC`]), for runtime hooks.
    pub const ARM_ON_EXEC: u64 = 1 << 5;
    /// Shadow policies ([`super::attr::SHADOW`]), promotion and the shadow
    /// record ([`super::Cmd::ShadowGet`]).
    pub const SHADOW: u64 = 1 << 6;
    /// A policy goes with its cgroup: the module deletes it when the
    /// cgroup is removed ([`super::attr::INFO_POLICIES_FREED`]).
    pub const FREE_WITH_CGROUP: u64 = 1 << 7;
    /// Many cgroups' policies set in one request and one table version
    /// ([`super::Cmd::PolicySetBatch`]).
    pub const POLICY_BATCH: u64 = 1 << 8;
}

/// Classes of object rules ([`attr::OBJ_CLASS`]).
pub mod class {
    /// A file being opened (`security_file_open`): path, access.
    pub const FILE: u32 = 1;
    /// A program being executed (`security_bprm_check`): path.
    pub const EXEC: u32 = 2;
    /// A socket being created (`security_socket_create`): family, type,
    /// protocol.
    pub const SOCKET: u32 = 3;
    /// A socket connecting (`security_socket_connect`): family, address,
    /// port or Unix path.
    pub const CONNECT: u32 = 4;
    /// A socket binding (`security_socket_bind`): as connect.
    pub const BIND: u32 = 5;
    /// Number of classes (ids 1 to COUNT).
    pub const COUNT: u32 = 5;

    /// Class `c`'s bit in a mask of classes (bit `c - 1`); 0 for an id
    /// outside 1 to 32.
    pub const fn bit(c: u32) -> u32 {
        match c.checked_sub(1) {
            Some(b) if b < 32 => 1 << b,
            _ => 0,
        }
    }

    /// The class's name, for messages.
    pub const fn name(c: u32) -> &'static str {
        match c {
            FILE => "file",
            EXEC => "exec",
            SOCKET => "socket",
            CONNECT => "connect",
            BIND => "bind",
            _ => "unknown",
        }
    }
}

/// File access bits ([`attr::OBJ_ACCESS`]).
pub mod access {
    /// Opened for reading (also the open of an executable).
    pub const READ: u32 = 1;
    /// Opened for writing.
    pub const WRITE: u32 = 2;
    /// The open created the file.
    pub const CREATE: u32 = 4;
    /// In a decision only, never in a rule: the object is a directory being
    /// moved or renamed (with `READ | WRITE`, as the old name of any
    /// rename). Every file rule with read or write protection (an action
    /// other than allow, for read or write or any access) on a path inside
    /// the directory, or on the directory itself, then applies as if its
    /// own path had been opened for reading and writing: moving `/etc`
    /// gives the action of a rule on `/etc/shadow`. The answer is the
    /// stricter of that and the plain decision on the directory's path, so
    /// it is never less strict than the directory's own decision (an
    /// allow rule inside adds nothing; a default still applies).
    pub const TREE: u32 = 8;
    /// Every bit a rule may name (`TREE` is for decisions only).
    pub const ALL: u32 = READ | WRITE | CREATE;
}

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident : $repr:ty { $($(#[$vm:meta])* $v:ident = $n:expr,)* }) => {
        wire_enum! { $(#[$m])* $name : $repr as ALL { $($(#[$vm])* $v = $n,)* } }
    };
    ($(#[$m:meta])* $name:ident : $repr:ty as $all:ident { $($(#[$vm:meta])* $v:ident = $n:expr,)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr($repr)]
        pub enum $name { $($(#[$vm])* $v = $n,)* }

        impl TryFrom<$repr> for $name {
            type Error = $repr;
            /// Converts a wire value; an unknown value is returned as the error.
            fn try_from(v: $repr) -> Result<Self, $repr> {
                match v { $($n => Ok($name::$v),)* _ => Err(v) }
            }
        }

        impl $name {
            /// Every value, in wire order.
            pub const $all: &'static [$name] = &[$($name::$v,)*];
        }
    };
}

wire_enum! {
    /// Generic netlink commands (`genlmsghdr.cmd`).
    Cmd: u8 {
        /// Request: nothing. Reply: `INFO_*` attributes.
        GetInfo = 1,
        /// Request: `CGROUP_ID` + `POLICY`. Creates or atomically replaces
        /// the cgroup's policy. Admin only.
        PolicySet = 2,
        /// Request: `CGROUP_ID`. Removes the cgroup's policy. Admin only.
        PolicyDelete = 3,
        /// Request: `CGROUP_ID`. Reply: `CGROUP_ID` + `POLICY` as set.
        PolicyGet = 4,
        /// Dump request: every policy, one message each, as `PolicyGet`.
        PolicyDump = 5,
        /// Request: `CGROUP_ID`. Reply: `CGROUP_ID` + `STATS`.
        StatsGet = 6,
        /// Multicast on [`super::MCGRP_EVENTS`]: one decision worth reporting.
        Event = 7,
        /// Request: `CGROUP_ID`. The cgroup's shadow becomes its enforcing
        /// policy and the enforcing policy its shadow, in one step (the
        /// gate decides each call by one version of the table), with a new,
        /// empty shadow record; promoting again swaps back. Admin only.
        PolicyPromote = 8,
        /// Request: `CGROUP_ID`. Drops the cgroup's shadow and its record
        /// (and the cgroup's entry, when it has no enforcing policy). Admin
        /// only.
        ShadowDiscard = 9,
        /// Request: `CGROUP_ID`. Reply: `CGROUP_ID` + `SHADOW_RECORD`.
        ShadowGet = 10,
        /// Request: one or more `BATCH_ITEM`s (up to
        /// [`limits::MAX_BATCH`]), each `CGROUP_ID` + `POLICY`. Creates or
        /// replaces the enforcing policy of every cgroup named, all in one
        /// new version of the table: each call is decided by the policies
        /// from before the request or by all of those it sets, and a batch
        /// that fails validation anywhere changes nothing. Admin only.
        PolicySetBatch = 11,
    }
}

wire_enum! {
    /// Syscall ABIs a policy describes separately. Each belongs to an
    /// architecture family ([`Arch`]); a policy describes ABIs of one
    /// family, and a kernel takes only policies of its own.
    Abi: u32 as EVERY {
        /// 64-bit `syscall`, numbers without the x32 bit.
        X86_64 = 1,
        /// `int $0x80` and `sysenter`, from 32-bit or 64-bit processes.
        Ia32 = 2,
        /// 64-bit `syscall` with the x32 bit (0x40000000) set in the number.
        X32 = 3,
        /// arm64's native ABI (`svc #0` from AArch64 state).
        Aarch64 = 4,
        /// AArch32 EABI (`svc #0` from AArch32 state) on an arm64 kernel.
        Arm = 5,
    }
}

impl Abi {
    /// The name used in policy files and events.
    pub const fn name(self) -> &'static str {
        match self {
            Abi::X86_64 => "x86_64",
            Abi::Ia32 => "ia32",
            Abi::X32 => "x32",
            Abi::Aarch64 => "aarch64",
            Abi::Arm => "arm",
        }
    }

    /// The ABI's slot in per-ABI arrays: its place among the ABIs of its
    /// family ([`Arch::abis`]), 0-based and below [`Abi::COUNT`]. ABIs of
    /// different families share slots: a policy, a kernel and their
    /// arrays hold one family's.
    pub const fn index(self) -> usize {
        match self {
            Abi::X86_64 | Abi::Aarch64 => 0,
            Abi::Ia32 | Abi::Arm => 1,
            Abi::X32 => 2,
        }
    }

    /// The architecture family of the ABI.
    pub const fn arch(self) -> Arch {
        match self {
            Abi::X86_64 | Abi::Ia32 | Abi::X32 => Arch::X86,
            Abi::Aarch64 | Abi::Arm => Arch::Arm64,
        }
    }

    /// Slots in per-ABI arrays: the most ABIs a family has.
    pub const COUNT: usize = 3;

    /// The ABIs of the family the code is built for ([`Arch::NATIVE`]):
    /// those a kernel module sees. Code that serves another kernel (the
    /// manager, the host tests) uses [`Arch::abis`] or [`Abi::EVERY`].
    pub const ALL: &'static [Abi] = Arch::NATIVE.abis();
}

/// An architecture family: the ABIs one kernel runs. A compiled policy
/// belongs to one; a kernel refuses a policy of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Arch {
    /// An x86_64 kernel: x86_64, ia32 and x32.
    X86 = 0,
    /// An arm64 kernel: aarch64 and arm (AArch32 compat).
    Arm64 = 1,
}

impl Arch {
    /// Every family.
    pub const ALL: &'static [Arch] = &[Arch::X86, Arch::Arm64];

    /// The family of the target the code is built for (the module's:
    /// arm64 for `aarch64`, x86 for any other target).
    pub const NATIVE: Arch = if cfg!(target_arch = "aarch64") {
        Arch::Arm64
    } else {
        Arch::X86
    };

    /// Its ABIs, in slot order ([`Abi::index`]).
    pub const fn abis(self) -> &'static [Abi] {
        match self {
            Arch::X86 => &[Abi::X86_64, Abi::Ia32, Abi::X32],
            Arch::Arm64 => &[Abi::Aarch64, Abi::Arm],
        }
    }

    /// The ABI in `slot`, if the family has one there.
    pub fn abi(self, slot: usize) -> Option<Abi> {
        self.abis().get(slot).copied()
    }

    /// Its name, as the kernel's `ARCH` (`x86`, `arm64`).
    pub const fn name(self) -> &'static str {
        match self {
            Arch::X86 => "x86",
            Arch::Arm64 => "arm64",
        }
    }

    /// Why a kernel of another family refuses a policy of this one (a C
    /// string, for the extended ack).
    pub const fn foreign(self) -> &'static str {
        match self {
            Arch::X86 => "policy describes x86 ABIs (x86_64, ia32, x32); this kernel is not x86\0",
            Arch::Arm64 => "policy describes arm64 ABIs (aarch64, arm); this kernel is not arm64\0",
        }
    }

    /// Why a policy naming ABIs of two families is refused (a C string).
    pub const MIXED: &'static str =
        "policy describes ABIs of two architecture families (x86 and arm64)\0";
}

/// x86_64 `uretprobe` (335): like seccomp since Linux 6.12.y, sysfence
/// never filters it. The kernel only honours it from its own uprobe
/// trampoline; called from anywhere else it kills the caller with SIGILL,
/// so letting it through grants nothing, and filtering it would break
/// uretprobes in filtered tasks.
pub const X86_64_URETPROBE: u32 = 335;

/// The x32 bit in a 64-bit syscall number (`__X32_SYSCALL_BIT`).
pub const X32_SYSCALL_BIT: u64 = 0x4000_0000;

/// AArch32's private calls are numbered `__ARM_NR_BASE` (0x0f0000) + k
/// (breakpoint 1, cacheflush 2, usr26 3, usr32 4, set_tls 5, get_tls 6),
/// beyond any table of [`limits::MAX_SYSCALL_NR`] calls. The `arm` ABI
/// names and decides them as `ARM_PRIVATE_FOLD + k` ([`arm_fold`]).
pub const ARM_PRIVATE_BASE: u32 = 0x0f_0000;
/// Where [`arm_fold`] puts the first [`ARM_PRIVATE_COUNT`] private calls.
pub const ARM_PRIVATE_FOLD: u32 = 1016;
/// How many private calls fold (0x0f0000 to 0x0f0007).
pub const ARM_PRIVATE_COUNT: u32 = 8;

/// The number an `arm` call is decided as: a private call's folded number;
/// a number in the fold's own range made one no table lists (so that no
/// call can pass for a private one: the kernel answers such a number with
/// SIGILL anyway); any other number itself.
pub const fn arm_fold(nr: u32) -> u32 {
    if nr.wrapping_sub(ARM_PRIVATE_BASE) < ARM_PRIVATE_COUNT {
        ARM_PRIVATE_FOLD + (nr - ARM_PRIVATE_BASE)
    } else if nr.wrapping_sub(ARM_PRIVATE_FOLD) < ARM_PRIVATE_COUNT {
        nr | 0x8000_0000
    } else {
        nr
    }
}

wire_enum! {
    /// Argument comparison operators, numbered as libseccomp's
    /// `enum scmp_compare`. Comparisons are unsigned, at the width the
    /// kernel reads the argument (`engine::arg_bits`: 32 bits for an `int`,
    /// 64 for a pointer or a `long`).
    Op: u32 {
        /// `arg != value`
        Ne = 1,
        /// `arg < value`
        Lt = 2,
        /// `arg <= value`
        Le = 3,
        /// `arg == value`
        Eq = 4,
        /// `arg >= value`
        Ge = 5,
        /// `arg > value`
        Gt = 6,
        /// `(arg & value) == value_two`
        MaskedEq = 7,
    }
}

/// Actions, encoded exactly as seccomp's `SECCOMP_RET_*` return values: the
/// action in the high 16 bits, data (the errno for ERRNO) in the low 16.
/// Precedence between two actions is seccomp's: the smaller action value,
/// compared as a signed 32-bit number, is the more restrictive and wins.
pub mod action {
    /// Kill the whole process (as by SIGSYS). The call is skipped.
    pub const KILL_PROCESS: u32 = 0x8000_0000;
    /// Kill the calling thread. The call is skipped.
    pub const KILL_THREAD: u32 = 0x0000_0000;
    /// Skip the call and send SIGSYS with seccomp-like siginfo.
    pub const TRAP: u32 = 0x0003_0000;
    /// Skip the call and return `-data` as errno.
    pub const ERRNO: u32 = 0x0005_0000;
    /// Allow the call and report it as an event.
    pub const LOG: u32 = 0x7ffc_0000;
    /// Allow the call.
    pub const ALLOW: u32 = 0x7fff_0000;
    /// Mask of the action part.
    pub const ACTION_MASK: u32 = 0xffff_0000;
    /// Mask of the data part.
    pub const DATA_MASK: u32 = 0x0000_ffff;

    /// True when `v` is one of the actions above with valid data: ERRNO data
    /// at most `MAX_ERRNO`, TRAP data any 16 bits, no data on the others.
    pub const fn is_valid(v: u32) -> bool {
        let data = v & DATA_MASK;
        match v & ACTION_MASK {
            ERRNO => data <= super::limits::MAX_ERRNO,
            TRAP => true,
            KILL_PROCESS | KILL_THREAD | LOG | ALLOW => data == 0,
            _ => false,
        }
    }

    /// The first of the kernel's own error codes (`ERESTARTSYS`,
    /// include/linux/errno.h): "never seen by user programs", and some of
    /// them steer the kernel (the `ERESTART*` codes restart the call,
    /// `EOPENSTALE` retries an open). An object rule may not return one.
    pub const KERNEL_ERRNO_FIRST: u32 = 512;
    /// The last of the kernel's own error codes (`ENOGRACE`).
    pub const KERNEL_ERRNO_LAST: u32 = 531;

    /// True when `e` can be the errno of an object rule's (or object
    /// default's) errno action: 1 to `MAX_ERRNO`, but not one of the
    /// kernel's own codes. 0 is refused: an object hook that returns 0
    /// lets the operation go ahead. (A syscall rule, as seccomp's, may
    /// return any errno up to `MAX_ERRNO`, 0 included: the call is skipped
    /// and returns 0.)
    pub const fn is_object_errno(e: u32) -> bool {
        e != 0
            && e <= super::limits::MAX_ERRNO
            && !(e >= KERNEL_ERRNO_FIRST && e <= KERNEL_ERRNO_LAST)
    }

    /// The actions, strictest first.
    pub const BY_STRICTNESS: [u32; 6] = [KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, LOG, ALLOW];

    /// True when `a` takes precedence over `b` (is more restrictive).
    pub const fn stricter(a: u32, b: u32) -> bool {
        ((a & ACTION_MASK) as i32) < ((b & ACTION_MASK) as i32)
    }

    /// The action's name, for messages.
    pub const fn name(v: u32) -> &'static str {
        match v & ACTION_MASK {
            KILL_PROCESS => "kill-process",
            KILL_THREAD => "kill-thread",
            TRAP => "trap",
            ERRNO => "errno",
            LOG => "log",
            ALLOW => "allow",
            _ => "invalid",
        }
    }
}

/// Attribute ids. Top-level attributes and each nest have their own space.
pub mod attr {
    // Top level (every command).
    /// u64: cgroup v2 id (the inode number of the cgroup directory).
    pub const CGROUP_ID: u16 = 1;
    /// nest (`POLICY_*`): a policy.
    pub const POLICY: u16 = 2;
    /// nest (`STATS_*`): counters of one cgroup's policy.
    pub const STATS: u16 = 3;
    /// u32: `get-info` reply: family version.
    pub const INFO_VERSION: u16 = 4;
    /// u64: `get-info` reply: feature bits (`features::*`).
    pub const INFO_FEATURES: u16 = 5;
    /// u32: `get-info` reply: policies installed now.
    pub const INFO_POLICY_COUNT: u16 = 6;
    /// u32: `get-info` reply: `limits::MAX_POLICIES`.
    pub const INFO_MAX_POLICIES: u16 = 7;
    /// u32: `get-info` reply: `limits::MAX_RULES`.
    pub const INFO_MAX_RULES: u16 = 8;
    /// string: `get-info` reply: module release.
    pub const INFO_RELEASE: u16 = 9;
    /// nest (`EVENT_*`): an event.
    pub const EVENT: u16 = 10;
    /// u32: `get-info` reply: `limits::EVENTS_PER_SEC`.
    pub const INFO_EVENTS_PER_SEC: u16 = 11;
    /// u64: `get-info` reply: hits of the hooked functions that kprobes
    /// skipped because another kprobe's handler was running on the CPU
    /// (see docs/architecture.md); 0 in any normal run.
    pub const INFO_OBJECTS_UNCHECKED: u16 = 12;
    /// u64: `get-info` reply: policies the module deleted because their
    /// cgroup was removed (rmdir), since it loaded.
    pub const INFO_POLICIES_FREED: u16 = 19;
    /// flag (`policy-set` only): the policy waits, and the cgroup's tasks
    /// run unfiltered, until a task of the cgroup completes an `execve`;
    /// from then on it applies as if set at that moment, before the new
    /// program's first instruction. For runtime hooks, which run before
    /// the runtime's own set-up of the container (mounts, pivot_root,
    /// capabilities) that the policy may forbid. A set without it makes a
    /// waiting policy apply at once.
    pub const ARM_ON_EXEC: u16 = 13;
    /// flag (`policy-get` and `policy-dump` replies): the policy is waiting
    /// for the cgroup's next exec ([`ARM_ON_EXEC`]).
    pub const WAITING_FOR_EXEC: u16 = 14;
    /// flag (`policy-set` only): the policy is set as the cgroup's
    /// **shadow**: evaluated beside the enforcing policies on every call of
    /// the subtree, it changes nothing any task sees; each call it would
    /// decide differently is counted in its record (`SHADOW_RECORD`) and
    /// reported as an event with `EVENT_SHADOW`. Setting a shadow replaces
    /// the previous one and starts an empty record. A cgroup may have a
    /// shadow and no enforcing policy. Not with `ARM_ON_EXEC`, and a shadow
    /// may not record (`POLICY_RECORD`).
    pub const SHADOW: u16 = 15;
    /// nest (`POLICY_*`) (`policy-get` and `policy-dump` replies): the
    /// cgroup's shadow policy. The enforcing one is `POLICY`, absent when
    /// the cgroup has only a shadow.
    pub const SHADOW_POLICY: u16 = 16;
    /// flag (`policy-get` and `policy-dump` replies): the cgroup's shadow is
    /// "no policy" (what the cgroup had before a promote of a shadow set on
    /// a cgroup without a policy): its record counts the calls that no
    /// policy of the cgroup would change.
    pub const SHADOW_NONE: u16 = 17;
    /// nest (`SR_*`) (`shadow-get` reply): the shadow's record.
    pub const SHADOW_RECORD: u16 = 18;
    /// nest (`policy-set-batch` only, repeated): one cgroup's policy,
    /// `CGROUP_ID` + `POLICY` inside.
    pub const BATCH_ITEM: u16 = 20;
    /// Largest top-level attribute id.
    pub const MAX: u16 = 20;

    // Inside SHADOW_RECORD.
    /// u64: `CLOCK_MONOTONIC` ns when the shadow (and its record) was set.
    pub const SR_SINCE_NS: u16 = 1;
    /// u64: calls the shadow decided differently from the enforcing
    /// policies (every one, whether or not a slot below holds it).
    pub const SR_DIFFERED: u16 = 2;
    /// u64: shadow events multicast (as `STATS_EVENTS_SENT`, for the
    /// shadow's own rate limit).
    pub const SR_EVENTS_SENT: u16 = 3;
    /// u64: shadow events dropped. While someone listens, sent + dropped
    /// grows by one for every differing call.
    pub const SR_EVENTS_DROPPED: u16 = 4;
    /// u64: differing calls counted in `SR_DIFFERED` that no entry holds
    /// (the record's [`super::limits::SHADOW_SLOTS`] slots were full).
    pub const SR_UNTRACKED: u16 = 5;
    /// nest (`SRE_*`), repeated: one (ABI, syscall, object class) that the
    /// shadow decided differently.
    pub const SR_ENTRY: u16 = 6;

    // Inside SR_ENTRY.
    /// u32: the `Abi` of the calls.
    pub const SRE_ABI: u16 = 1;
    /// u32: the syscall number (for an object decision, the call that
    /// reached the object).
    pub const SRE_NR: u16 = 2;
    /// u32: 0 for syscall decisions, else the object's `class::*`.
    pub const SRE_OBJ_CLASS: u16 = 3;
    /// u32: the shadow's answer (the latest, with data).
    pub const SRE_SHADOW_ACTION: u16 = 4;
    /// u32: the answer enforced (the latest, with data).
    pub const SRE_ENFORCED_ACTION: u16 = 5;
    /// u64: differing calls.
    pub const SRE_COUNT: u16 = 6;
    /// u64: `CLOCK_MONOTONIC` ns of the first.
    pub const SRE_FIRST_NS: u16 = 7;
    /// u64: `CLOCK_MONOTONIC` ns of the latest.
    pub const SRE_LAST_NS: u16 = 8;
    /// string, repeated (up to [`super::limits::SHADOW_COMMS`]): the
    /// programs (comm) that made them, in the order first seen.
    pub const SRE_COMM: u16 = 9;

    // Inside POLICY.
    /// u32 (required): the action for syscalls no rule matches.
    pub const POLICY_DEFAULT: u16 = 1;
    /// u32 (optional, default KILL_PROCESS): the action for every syscall of
    /// an ABI the policy has no `POLICY_ABI` for (fail closed).
    pub const POLICY_BAD_ABI: u16 = 2;
    /// nest (`ABI_*`), repeated, one per ABI: the rules of one ABI.
    pub const POLICY_ABI: u16 = 3;
    /// flag (optional, empty payload): a recording policy. Each call it lets
    /// run (allow or log) sets the call's bit in the cgroup's `STATS_SEEN_*`
    /// bitmaps; setting a recording policy where none was recording clears
    /// them. For `sysfence record`: learning costs no events.
    pub const POLICY_RECORD: u16 = 4;
    /// nest (`OBJ_*`), repeated: one object rule (file open, exec, socket
    /// create, connect, bind).
    pub const POLICY_OBJECT: u16 = 5;
    /// nest (`OBJ_CLASS` + `OBJ_ACTION`), repeated, each class at most
    /// once: the action for objects of a class no rule matches (allow when
    /// absent).
    pub const POLICY_OBJECT_DEFAULT: u16 = 6;

    // Inside POLICY_OBJECT and POLICY_OBJECT_DEFAULT.
    /// u32 (required): a `class::*` value.
    pub const OBJ_CLASS: u16 = 1;
    /// u32 (required): the action: allow, log, errno or kill-process (the
    /// process gets SIGKILL and the call fails with EPERM).
    pub const OBJ_ACTION: u16 = 2;
    /// string: file and exec: an absolute path; connect and bind: a Unix
    /// socket path (`@name` for the abstract namespace).
    pub const OBJ_PATH: u16 = 3;
    /// flag: `OBJ_PATH` is a prefix: it matches the path itself and every
    /// path below it (`/etc` matches `/etc` and `/etc/x`, not `/etcx`).
    pub const OBJ_PREFIX: u16 = 4;
    /// u32: file: the `access::*` bits the rule is for (any when absent).
    pub const OBJ_ACCESS: u16 = 5;
    /// u32: socket, connect, bind: the address family (`AF_*`).
    pub const OBJ_FAMILY: u16 = 6;
    /// u32: socket: the socket type (`SOCK_STREAM`...), flags excluded.
    pub const OBJ_TYPE: u16 = 7;
    /// u32: socket: the protocol.
    pub const OBJ_PROTOCOL: u16 = 8;
    /// binary, 4 (IPv4) or 16 (IPv6) bytes, network order: connect, bind:
    /// the address, with `OBJ_ADDR_PREFIX` bits significant.
    pub const OBJ_ADDR: u16 = 9;
    /// u32: the CIDR prefix length of `OBJ_ADDR` (default all bits).
    pub const OBJ_ADDR_PREFIX: u16 = 10;
    /// u32: connect, bind: lowest port of the range (inclusive).
    pub const OBJ_PORT_MIN: u16 = 11;
    /// u32: connect, bind: highest port of the range (inclusive; default
    /// `OBJ_PORT_MIN`).
    pub const OBJ_PORT_MAX: u16 = 12;

    // Inside POLICY_ABI.
    /// u32 (required): an `Abi` value; each ABI at most once per policy.
    pub const ABI_ID: u16 = 1;
    /// nest (`RULE_*`), repeated: one rule.
    pub const ABI_RULE: u16 = 2;
    /// binary, repeated: rules without argument comparisons, packed as
    /// (u32 syscall number, u32 action) pairs in host byte order. The same
    /// as that many `ABI_RULE`s in the same place, at an eighth of the
    /// parsing cost (most of a container profile is such rules).
    pub const ABI_PACKED: u16 = 3;
    /// binary, [`ALLOW_BYTES`] bytes, at most once: syscalls allowed without
    /// comparisons, one bit each (bit N: byte N/8, bit N%8). The same as a
    /// packed `(N, ALLOW)` pair for each bit set: a container profile's
    /// hundreds of allowed calls in 128 bytes, read a word at a time.
    pub const ABI_ALLOW: u16 = 4;
    /// Size of an [`ABI_ALLOW`] bitmap: one bit per syscall number up to
    /// [`super::limits::MAX_SYSCALL_NR`].
    pub const ALLOW_BYTES: usize = (super::limits::MAX_SYSCALL_NR as usize + 1) / 8;

    // Inside ABI_RULE.
    /// u32 (required): syscall number in this ABI.
    pub const RULE_NR: u16 = 1;
    /// u32 (required): the action when the rule matches.
    pub const RULE_ACTION: u16 = 2;
    /// nest (`ARG_*`), repeated, at most 6: all must hold for a match.
    pub const RULE_ARG: u16 = 3;

    // Inside RULE_ARG.
    /// u32 (required): argument index 0-5.
    pub const ARG_INDEX: u16 = 1;
    /// u32 (required): an `Op` value.
    pub const ARG_OP: u16 = 2;
    /// u64 (required): the value (the mask, for MASKED_EQ).
    pub const ARG_VALUE: u16 = 3;
    /// u64 (required for MASKED_EQ, else absent): the masked value.
    pub const ARG_VALUE_TWO: u16 = 4;

    // Inside STATS (all u64).
    /// Calls allowed (including LOG).
    pub const STATS_ALLOWED: u16 = 1;
    /// Calls refused with an errno.
    pub const STATS_DENIED: u16 = 2;
    /// Calls allowed and reported (LOG).
    pub const STATS_LOGGED: u16 = 3;
    /// Calls whose thread or process was killed.
    pub const STATS_KILLED: u16 = 4;
    /// Calls answered with SIGSYS (TRAP).
    pub const STATS_TRAPPED: u16 = 5;
    /// Events multicast.
    pub const STATS_EVENTS_SENT: u16 = 6;
    /// Events not sent (rate limit, full queue, or no memory).
    pub const STATS_EVENTS_DROPPED: u16 = 7;
    /// binary, [`SEEN_BYTES`] bytes (present when any bit is set): the
    /// x86_64 calls run under a recording policy; bit N (byte N/8, bit N%8)
    /// is syscall N.
    pub const STATS_SEEN_X86_64: u16 = 8;
    /// binary: as [`STATS_SEEN_X86_64`], for ia32 calls.
    pub const STATS_SEEN_IA32: u16 = 9;
    /// binary: as [`STATS_SEEN_X86_64`], for x32 calls (number without the
    /// x32 bit).
    pub const STATS_SEEN_X32: u16 = 10;
    /// binary: as [`STATS_SEEN_X86_64`], for aarch64 calls.
    pub const STATS_SEEN_AARCH64: u16 = 11;
    /// binary: as [`STATS_SEEN_X86_64`], for arm (AArch32) calls.
    pub const STATS_SEEN_ARM: u16 = 12;
    /// Size of a `STATS_SEEN_*` bitmap: one bit per syscall number up to
    /// [`super::limits::MAX_SYSCALL_NR`].
    pub const SEEN_BYTES: usize = (super::limits::MAX_SYSCALL_NR as usize + 1) / 8;

    /// The `STATS_SEEN_*` attribute of an ABI.
    pub const fn stats_seen(abi: super::Abi) -> u16 {
        match abi {
            super::Abi::X86_64 => STATS_SEEN_X86_64,
            super::Abi::Ia32 => STATS_SEEN_IA32,
            super::Abi::X32 => STATS_SEEN_X32,
            super::Abi::Aarch64 => STATS_SEEN_AARCH64,
            super::Abi::Arm => STATS_SEEN_ARM,
        }
    }

    // Inside EVENT.
    /// u64: cgroup id of the policy that decided (the task's cgroup or one
    /// of its ancestors).
    pub const EVENT_CGROUP_ID: u16 = 1;
    /// u32: process id (thread group id) in the initial pid namespace.
    pub const EVENT_PID: u16 = 2;
    /// u32: thread id in the initial pid namespace.
    pub const EVENT_TID: u16 = 3;
    /// string: the task's comm.
    pub const EVENT_COMM: u16 = 4;
    /// u32: `Abi` of the call.
    pub const EVENT_ABI: u16 = 5;
    /// u64: syscall number as the kernel dispatches it (the low 32 bits of
    /// the number register; for x32 calls without the x32 bit, which the ABI
    /// attribute reports).
    pub const EVENT_NR: u16 = 6;
    /// u64, repeated 6 times in order: the argument registers.
    pub const EVENT_ARG: u16 = 7;
    /// u32: the action taken (`action::*`, with data).
    pub const EVENT_ACTION: u16 = 8;
    /// u64: cgroup id of the calling task's own cgroup.
    pub const EVENT_TASK_CGROUP_ID: u16 = 9;
    /// u64: `CLOCK_MONOTONIC` time of the call, in nanoseconds.
    pub const EVENT_TIME_NS: u16 = 10;
    /// u32 (object decisions only): the `class::*` of the object.
    pub const EVENT_OBJ_CLASS: u16 = 11;
    /// string (object decisions only): the object: a path, `inet
    /// 127.0.0.1:22`, `inet6 [::1]:22`, `unix /path`, `family 2 type 1
    /// protocol 0`; cut at [`crate::event::OBJECT_MAX`] bytes.
    pub const EVENT_OBJECT: u16 = 12;
    /// flag: a shadow event: `EVENT_CGROUP_ID`'s shadow would have answered
    /// `EVENT_ACTION`, and the call got `EVENT_ENFORCED_ACTION` (what the
    /// task saw).
    pub const EVENT_SHADOW: u16 = 13;
    /// u32 (shadow events only): the action enforced.
    pub const EVENT_ENFORCED_ACTION: u16 = 14;
}
