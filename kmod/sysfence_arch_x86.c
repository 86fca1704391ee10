// SPDX-License-Identifier: GPL-2.0
/*
 * x86_64's part of the C glue (sysfence_arch.h): syscall registers, the
 * vsyscall page, early returns from probed functions.
 */
#include <linux/module.h>
#include <linux/tracepoint.h>
#include <linux/cgroup.h>
#include <linux/sched.h>
#include <linux/ptrace.h>
#include <linux/ftrace.h>
#include <linux/objtool.h>
#include <asm/unistd.h>
#include <asm/text-patching.h>

#include "sysfence_shim.h"
#include "sysfence_arch.h"

/*
 * The gate reads syscall arguments straight from pt_regs, by word offset
 * (arch.rs ARGS_X86_64 and ARGS_IA32, the registers syscall_get_arguments()
 * reads): pin the layout it assumes.
 */
#define SF_REG_WORD(r, w) static_assert(offsetof(struct pt_regs, r) == (w) * 8)
SF_REG_WORD(bp, 4);
SF_REG_WORD(bx, 5);
SF_REG_WORD(r10, 7);
SF_REG_WORD(r9, 8);
SF_REG_WORD(r8, 9);
SF_REG_WORD(cx, 11);
SF_REG_WORD(dx, 12);
SF_REG_WORD(si, 13);
SF_REG_WORD(di, 14);
static_assert(sizeof(struct pt_regs) >= 15 * 8);

void sf_arch_exit_instead(struct pt_regs *regs, bool compat)
{
	regs->orig_ax = compat ? 1 /* ia32 exit */ : __NR_exit;
	if (compat)
		regs->bx = 0;
	else
		regs->di = 0;
}

/* int3_emulate_ret: ip from the stack, sp past it (the probe sits where
 * the return address is still at the top of the stack). */
void sf_arch_return_now(struct pt_regs *regs, long ret)
{
	regs->ax = ret;
	int3_emulate_ret(regs);
}

/* Where a refused call goes instead of the function's body: straight back
 * to its caller, with the return value the handler set (reached by the
 * ftrace trampoline's return, not by an indirect jump: no ENDBR;
 * ftrace_caller restores rax and returns to the saved rip,
 * arch/x86/kernel/ftrace_64.S: "Handlers can change the RIP"). */
asm(".text\n"
    ".globl sf_just_return\n"
    ".type sf_just_return, @function\n"
    ASM_FUNC_ALIGN
    "sf_just_return:\n"
    ANNOTATE_NOENDBR
    ASM_RET
    ".size sf_just_return, .-sf_just_return\n");

/*
 * The legacy vsyscall page (gettimeofday, time and getcpu at
 * 0xffffffffff600000): the page fault handler emulates its calls, which
 * never reach sys_enter. The emulate_vsyscall tracepoint fires before the
 * emulation, with the task's user registers at task_pt_regs(): the call is
 * decided there as the x86_64 syscall it stands for. One the policy refuses
 * is made fatal: the probe moves the saved instruction pointer, and
 * emulate_vsyscall() answers that with SIGSYS (force_exit_sig), as it does
 * for a seccomp filter that changes it. The emulation cannot be made to
 * fail with an errno, so errno and trap actions kill as well; log logs.
 */
static struct tracepoint *sf_vsyscall_tp;

static void sf_vsyscall_probe(void *data, int vnr)
{
	static const int nrs[] = { __NR_gettimeofday, __NR_time, __NR_getcpu };
	struct pt_regs *regs = task_pt_regs(current);
	int nr;

	if (vnr < 0 || vnr >= ARRAY_SIZE(nrs))
		return;
	nr = nrs[vnr];
	regs->orig_ax = nr;
	sf_rust_sys_enter(regs, nr, cgroup_id(task_dfl_cgroup(current)),
			  sf_gate_cache_this_cpu(), false);
	if (regs->orig_ax != nr)
		regs->ip ^= 1;
}

static void sf_find_vsyscall(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "emulate_vsyscall"))
		sf_vsyscall_tp = tp;
}

int sf_arch_gate_attach(void)
{
	for_each_kernel_tracepoint(sf_find_vsyscall, NULL);
	if (!sf_vsyscall_tp)
		return 0; /* a kernel without vsyscall emulation has no page */
	return tracepoint_probe_register(sf_vsyscall_tp, (void *)sf_vsyscall_probe, NULL);
}

/* The caller waits for running probes (tracepoint_synchronize_unregister). */
void sf_arch_gate_detach(void)
{
	if (sf_vsyscall_tp)
		tracepoint_probe_unregister(sf_vsyscall_tp, (void *)sf_vsyscall_probe, NULL);
}
