#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Says whether a kernel suits sysfence.ko: the running one, or the one a
# build tree was configured for.
#
#   scripts/check-host.sh                  the running kernel (uname -r), its
#                                          config (/boot/config-RELEASE or
#                                          /proc/config.gz) and its build tree
#                                          (/lib/modules/RELEASE/build)
#   scripts/check-host.sh --kdir DIR       the kernel build tree DIR (its
#   scripts/check-host.sh KDIR=DIR         .config and kernel.release); also
#   KDIR=DIR scripts/check-host.sh         what `make -C kmod KDIR=DIR` uses
#
# Prints one "ok" line per requirement met and one "missing:" line per
# requirement not met, then a verdict; exits 0 if the module can be built
# against this kernel and loaded into it, 1 if not, 2 on a usage error.
# It reads files only: no root, nothing built, nothing loaded.
set -euo pipefail

usage() { sed -n '3,17s/^# \{0,1\}//p' "$0" >&2; exit 2; }

kdir=${KDIR:-}
while [ $# -gt 0 ]; do
  case $1 in
    --kdir) [ $# -ge 2 ] || usage; kdir=$2; shift 2 ;;
    --kdir=*) kdir=${1#--kdir=}; shift ;;
    KDIR=*) kdir=${1#KDIR=}; shift ;;
    -h | --help) usage ;;
    *) echo "check-host.sh: unknown argument '$1'" >&2; usage ;;
  esac
done

missing=0
ok() { printf '  ok       %s\n' "$*"; }
miss() { printf '  missing: %s\n' "$*"; missing=$((missing + 1)); }

# Which kernel, and where its configuration is. A build tree describes the
# kernel it was configured for, which need not be the running one (the
# usual case when building for a kernel before booting it).
config='' config_name=''
if [ -n "$kdir" ]; then
  [ -d "$kdir" ] || { echo "check-host.sh: $kdir is not a directory" >&2; exit 2; }
  release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || true)
  if [ -f "$kdir/.config" ]; then config=$(cat "$kdir/.config") config_name=$kdir/.config; fi
  arch=''
  case $config in *CONFIG_X86_64=y*) arch=x86_64 ;; *CONFIG_64BIT=y*) arch='64-bit, not x86_64' ;; esac
  subject="kernel build tree $kdir"
else
  release=$(uname -r)
  arch=$(uname -m)
  kdir=/lib/modules/$release/build
  if [ -r "/boot/config-$release" ]; then
    config=$(cat "/boot/config-$release") config_name=/boot/config-$release
  elif [ -r /proc/config.gz ]; then
    config=$(zcat /proc/config.gz) config_name=/proc/config.gz
  fi
  subject="running kernel"
fi
echo "sysfence host check: $subject (release ${release:-unknown})"

# The module is written for one architecture's syscall entry (orig_ax,
# in_ia32_syscall) and one kernel series' internals (6.12's Rust `kernel`
# crate, C function signatures it declares itself).
if [ "$arch" = x86_64 ]; then ok "architecture x86_64"; else miss "architecture x86_64 (this is ${arch:-not known without a configuration})"; fi
case $release in
  6.12.*) ok "Linux 6.12.x ($release)" ;;
  '') miss "Linux 6.12.x (no include/config/kernel.release in $kdir: not a configured build tree)" ;;
  *) miss "Linux 6.12.x (this is $release; sysfence is written and tested for 6.12 only)" ;;
esac

if [ -z "$config" ]; then
  if [ "$subject" = "running kernel" ]; then
    miss "kernel configuration (neither /boot/config-$release nor /proc/config.gz)"
  else
    miss "kernel configuration ($kdir/.config not found)"
  fi
else
  ok "kernel configuration ($config_name)"
  # Each option, and what breaks without it.
  while read -r opt why; do
    if grep -qx "$opt=y" <<<"$config"; then ok "$opt=y"; else miss "$opt=y ($why)"; fi
  done <<'EOF'
CONFIG_MODULES no loadable modules at all
CONFIG_RUST the module is written in Rust against the kernel's `kernel` crate
CONFIG_FTRACE_SYSCALLS the sys_enter tracepoint every decision runs in
CONFIG_KPROBES the cgroup-migration and fork probes that keep tasks in their policy
CONFIG_DYNAMIC_FTRACE_WITH_ARGS the object rules' hooks on files, exec and sockets are an ftrace_ops that reads the functions' arguments (CONFIG_FUNCTION_TRACER and CONFIG_DYNAMIC_FTRACE give it on x86_64 and arm64)
CONFIG_SECURITY the security_* functions the object hooks attach to
CONFIG_SECURITY_NETWORK socket, connect and bind rules (security_socket_*)
CONFIG_SECURITY_PATH path rules on link, rename, mkdir, unlink and the like (security_path_*)
CONFIG_CGROUPS policies are attached to cgroups
EOF
  case $config in *CONFIG_IA32_EMULATION=y*) ;; *) ok "CONFIG_IA32_EMULATION is off: no ia32 calls to filter (fine)" ;; esac
fi

# Building needs the full build tree the kernel was built in: Kbuild's
# out-of-tree build links against its Module.symvers, and a Rust module
# against the `kernel` crate's metadata (rust/*.rmeta), which headers-only
# packages such as linux-headers-* do not carry.
if [ ! -f "$kdir/Makefile" ]; then
  miss "kernel build tree at $kdir (none there; pass --kdir DIR)"
else
  ok "kernel build tree $kdir"
  if [ -f "$kdir/Module.symvers" ]; then ok "Module.symvers"; else miss "Module.symvers in $kdir (the kernel was not built there)"; fi
  if compgen -G "$kdir/rust/*.rmeta" >/dev/null; then
    ok "Rust metadata ($kdir/rust/*.rmeta)"
  else
    miss "Rust metadata $kdir/rust/*.rmeta (a headers-only tree, or a kernel built without CONFIG_RUST)"
  fi
fi

# A Rust module must be compiled by exactly the rustc that built the
# kernel's `kernel` crate, or rustc refuses its metadata (E0514).
want_rustc=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' <<<"$config")
if grep -qx 'CONFIG_RUST=y' <<<"$config" && [ -n "$want_rustc" ]; then
  have_rustc=$(rustc --version 2>/dev/null || true)
  if [ "$have_rustc" = "$want_rustc" ]; then
    ok "rustc on PATH is the kernel's ($have_rustc)"
  else
    miss "the kernel's rustc on PATH (kernel built with '$want_rustc', PATH has '${have_rustc:-no rustc}')"
  fi
fi

# A kernel built with LLVM (CONFIG_CC_IS_CLANG) wants its module built with
# LLVM=1, which calls clang, ld.lld and llvm-* by those names. Another clang
# version only draws Kbuild's warning; none at all fails the build.
if grep -qx 'CONFIG_CC_IS_CLANG=y' <<<"$config"; then
  want_cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' <<<"$config")
  have_cc=$(clang --version 2>/dev/null | head -n 1 || true)
  if [ -z "$have_cc" ]; then
    miss "clang on PATH (the kernel was built with '$want_cc'; Debian: PATH=/usr/lib/llvm-19/bin:\$PATH)"
  elif [ "$have_cc" = "$want_cc" ]; then
    ok "clang on PATH is the kernel's ($have_cc)"
  else
    ok "clang on PATH ($have_cc; the kernel was built with '$want_cc': Kbuild will warn)"
  fi
fi

if [ "$missing" -eq 0 ]; then
  echo "sysfence host check: suitable"
else
  echo "sysfence host check: $missing requirement(s) missing"
  exit 1
fi
