// SPDX-License-Identifier: GPL-2.0
/*
 * arm64's part of the C glue (sysfence_arch.h): syscall registers and early
 * returns from probed functions. AArch32 tasks (CONFIG_COMPAT) make the
 * `arm` ABI's calls; there is no vsyscall page to decide.
 *
 * el0_svc_common() (arch/arm64/kernel/syscall.c) runs the call numbered
 * regs->syscallno, with x0..x5 as its arguments, after syscall_trace_enter()
 * has reported to ptrace, run seccomp and fired sys_enter, in that order:
 * the gate's probe is the last to see the call, and what it leaves in
 * those registers is what runs.
 */
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/ftrace.h>
#include <asm/unistd.h>
#include <asm/syscall.h>
#include <asm/unistd_compat_32.h>

#include "sysfence_shim.h"
#include "sysfence_arch.h"

/* arch.rs reads argument i as pt_regs word i (x0..x5). */
static_assert(offsetof(struct pt_regs, regs) == 0);
static_assert(sizeof(((struct pt_regs *)0)->regs[0]) == 8);

void sf_arch_exit_instead(struct pt_regs *regs, bool compat)
{
	regs->syscallno = compat ? __NR_compat32_exit : __NR_exit;
	regs->regs[0] = 0;
}

/* As arm64's override_function_with_return(): at the function's first
 * instruction the link register still holds the return address. */
void sf_arch_return_now(struct pt_regs *regs, long ret)
{
	regs_set_return_value(regs, ret);
	instruction_pointer_set(regs, procedure_link_pointer(regs));
}

/*
 * Where a refused call goes instead of the function's body: a bare `ret`,
 * reached by ftrace_caller's `ret x9` (not a branch with link: no BTI
 * landing pad needed), which returns to x30 as ftrace_caller left it. Not
 * ftrace_override_function_with_return() (pc = lr): another ftrace user of
 * the same call site may have changed lr (the function-graph tracer points
 * it at return_to_handler, and would then pop an entry never used), and a
 * BPF trampoline sharing the site calls the "original function" at the
 * address pc names; through this stub both see a function that returned
 * `ret`. Module text: unregistering the ops waits for tasks on their way
 * here (sysfence_hooks.c, sf_hooks_exit()).
 */
asm(".text\n"
    ".globl sf_just_return\n"
    ".type sf_just_return, %function\n"
    ".balign 4\n"
    "sf_just_return:\n"
    "ret\n"
    ".size sf_just_return, .-sf_just_return\n");

int sf_arch_gate_attach(void)
{
	return 0;
}

void sf_arch_gate_detach(void)
{
}
