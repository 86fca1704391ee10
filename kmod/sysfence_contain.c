// SPDX-License-Identifier: GPL-2.0
/*
 * Containment: a task under a policy never moves itself or any other task
 * to a cgroup where fewer of the policies in force apply. Decided in the
 * kernel's own cgroup functions, where the destination is already resolved,
 * so no route around it depends on a name: every cgroup.procs or
 * cgroup.threads write (any mount, cgroup namespace or chroot; any
 * descriptor, passed in or not) ends in cgroup_attach_task(), and
 * clone3(CLONE_INTO_CGROUP) with any kind of descriptor (O_PATH included)
 * reaches sched_cgroup_fork() with the cgroup it named in kargs->cgrp.
 * contain.rs decides; this file only hands it the cgroups.
 *
 * Mechanism: a kprobe on each function's first instruction. A refused move
 * makes the function return -EPERM at once, as kernel/fail_function.c does:
 * the pre-handler sets the return value and emulates the function's return
 * (sf_arch_return_now), so nothing returns into module text
 * (sf_register_early_return() keeps the probes trap-based). For
 * cgroup_attach_task() that is its caller's ordinary error; for
 * sched_cgroup_fork() it is fork's own error path (bad_fork_cancel_cgroup),
 * which releases what cgroup_can_fork() took. The post-handler keeps the
 * probes from being optimized into jumps, which would ignore the new ip.
 * A whole-process move checks every thread (threads may sit in threaded
 * cgroups of their own).
 *
 * Context: a breakpoint trap (int3 on x86_64, brk on arm64: NMI-like). The
 * decision takes no lock: an RCU read of the policy table and of the
 * cgroups (held alive by the caller's cgroup locks), atomic counters, and a
 * rate-limited printk (NMI-safe).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/cgroup.h>
#include <linux/sched/task.h>
#include <linux/rcupdate.h>

#include "sysfence_shim.h"
#include "sysfence_arch.h"

static void sf_refused(const struct cgroup *dst, struct task_struct *t)
{
	pr_notice_ratelimited("refused moving %s[%d] to cgroup %llu: fewer policies apply there (asked by %s[%d])\n",
			      t->comm, task_pid_nr(t), cgroup_id(dst),
			      current->comm, task_pid_nr(current));
}

/*
 * Whether moving `task` (and with `threadgroup` every thread of its
 * process: a thread may sit in a threaded cgroup of its own) to `dst` is
 * refused; the one whose move is refused in `*who`. RCU held.
 */
static bool sf_attach_refused(struct task_struct *task, bool threadgroup,
			      const struct cgroup *dst, struct task_struct **who)
{
	const struct cgroup *mover = task_dfl_cgroup(current);
	struct task_struct *t = task;

	if (!threadgroup) {
		*who = task;
		return sf_rust_move_refused(mover, task_dfl_cgroup(task), dst);
	}
	for_each_thread(task, t) {
		if (sf_rust_move_refused(mover, task_dfl_cgroup(t), dst)) {
			*who = t;
			return true;
		}
	}
	return false;
}

/* int cgroup_attach_task(struct cgroup *dst_cgrp, struct task_struct *leader,
 *			  bool threadgroup) */
static int sf_pre_attach(struct kprobe *p, struct pt_regs *regs)
{
	struct cgroup *dst = (struct cgroup *)regs_get_kernel_argument(regs, 0);
	struct task_struct *task = (struct task_struct *)regs_get_kernel_argument(regs, 1), *who = task;
	bool refused;

	/* Policies are on the default hierarchy only; v1 moves are free. */
	if (!sf_rust_levels() || dst->root != &cgrp_dfl_root)
		return 0;
	rcu_read_lock();
	refused = sf_attach_refused(task, (bool)regs_get_kernel_argument(regs, 2), dst, &who);
	if (refused)
		sf_refused(dst, who);
	rcu_read_unlock();
	if (!refused)
		return 0;
	sf_arch_return_now(regs, -EPERM);
	return 1;
}

/* int sched_cgroup_fork(struct task_struct *p, struct kernel_clone_args *kargs) */
static int sf_pre_fork(struct kprobe *p, struct pt_regs *regs)
{
	const struct kernel_clone_args *kargs = (const struct kernel_clone_args *)regs_get_kernel_argument(regs, 1);
	const struct cgroup *own;
	bool refused;

	if (!(kargs->flags & CLONE_INTO_CGROUP) || !kargs->cgrp || !sf_rust_levels())
		return 0;
	rcu_read_lock();
	own = task_dfl_cgroup(current);
	refused = sf_rust_move_refused(own, own, kargs->cgrp);
	rcu_read_unlock();
	if (!refused)
		return 0;
	sf_refused(kargs->cgrp, current);
	sf_arch_return_now(regs, -EPERM);
	return 1;
}

static void sf_post_nop(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

static struct kprobe sf_attach_kp = {
	.symbol_name = "cgroup_attach_task",
	.pre_handler = sf_pre_attach,
	.post_handler = sf_post_nop,
};

static struct kprobe sf_fork_kp = {
	.symbol_name = "sched_cgroup_fork",
	.pre_handler = sf_pre_fork,
	.post_handler = sf_post_nop,
};

/* Module init: containment is always on (a trap per fork and per move). */
int sf_contain_attach(void)
{
	int err = sf_register_early_return(&sf_attach_kp);

	if (err)
		return err;
	err = sf_register_early_return(&sf_fork_kp);
	if (err)
		unregister_kprobe(&sf_attach_kp);
	return err;
}

/* Module exit: returns once no handler runs (unregister_kprobes waits,
 * one grace period for both). */
void sf_contain_detach(void)
{
	struct kprobe *kps[] = { &sf_fork_kp, &sf_attach_kp };

	unregister_kprobes(kps, ARRAY_SIZE(kps));
}

/* Accessors for contain.rs: a cgroup's level and its ancestor's id. */
int sf_cgroup_level(const struct cgroup *cgrp)
{
	return cgrp->level;
}

u64 sf_cgroup_ancestor_id(const struct cgroup *cgrp, int level)
{
	if (level < 0 || level > cgrp->level)
		return 0;
	return cgroup_id(cgrp->ancestors[level]);
}
