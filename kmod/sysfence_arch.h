/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the C glue does differently on each architecture, behind one small
 * interface: sysfence_arch_x86.c (x86_64: the x86_64, ia32 and x32 ABIs)
 * and sysfence_arch_arm64.c (arm64: aarch64 and AArch32). Kbuild builds the
 * one of the kernel's SRCARCH. The Rust side's counterpart is kmod/arch.rs
 * (which ABI a call is, where its arguments are).
 */
#ifndef SYSFENCE_ARCH_H
#define SYSFENCE_ARCH_H

#include <linux/compat.h>
#include <linux/linkage.h>
#include <asm/syscall.h>
#include <asm/ptrace.h>

struct pt_regs;
struct ftrace_regs;

/*
 * Whether the current syscall uses the architecture's compat ABI (ia32 on
 * x86_64, AArch32 on arm64). Inline: the gate's probe asks on every
 * filtered syscall.
 */
static __always_inline bool sf_arch_compat(void)
{
#if defined(CONFIG_X86_64)
	return in_ia32_syscall();
#elif defined(CONFIG_ARM64)
	return is_compat_task();
#else
#error "sysfence supports x86_64 and arm64"
#endif
}

/* Skips the syscall being entered: no handler runs, userspace sees `ret`.
 * Inline: every refused call takes it. x86_64: orig_ax -1 is no syscall;
 * arm64: NO_SYSCALL, as a ptrace skip, with x0 what userspace sees. */
static __always_inline void sf_arch_skip_syscall(struct pt_regs *regs, long ret)
{
#if defined(CONFIG_X86_64)
	regs->orig_ax = -1;
	regs->ax = ret;
#else
	regs->syscallno = NO_SYSCALL;
	regs->regs[0] = ret;
#endif
}

/* Replaces the syscall being entered by exit(0) of the calling thread
 * (the kernel reads the number again after the sys_enter tracepoint). */
void sf_arch_exit_instead(struct pt_regs *regs, bool compat);

/* From a kprobe's pre-handler on a function's first instruction (a trap,
 * not ftrace): the function returns `ret` to its caller at once. */
void sf_arch_return_now(struct pt_regs *regs, long ret);

/* Where an object hook's refusal sends the hooked function instead of its
 * body (sysfence_hooks.c): a bare return to its caller, in each
 * architecture's file (module text). */
asmlinkage void sf_just_return(void);

/* Entries into the kernel other than sys_enter that run a syscall (x86's
 * vsyscall page): attached beside the gate, detached before it. */
int sf_arch_gate_attach(void);
void sf_arch_gate_detach(void);

#endif
