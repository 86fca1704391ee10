// SPDX-License-Identifier: GPL-2.0
/*
 * Which tasks take the syscall slow path.
 *
 * Registering a sys_enter probe sets SYSCALL_WORK_SYSCALL_TRACEPOINT on
 * every thread of the host, so every syscall of every task would pay the
 * tracepoint's slow path (+70 instructions on a 216-instruction getppid
 * before the probe does anything). sysfence needs the probe only for tasks
 * under a policy, so it keeps the flag on exactly those ("trimmed" mode):
 *
 * - at load, before any policy can exist, the flag is cleared on every
 *   thread (only if no other tracer uses sys_enter or sys_exit);
 * - a new policy on a cgroup flags every thread in its subtree before the
 *   policy is published, and again after (sf_flag_subtree), so no task of
 *   the subtree runs unflagged while the policy is in force;
 * - a child inherits its parent's flag (copy_process); the sched_process_fork
 *   probe also flags a child created in a filtered cgroup (CLONE_INTO_CGROUP)
 *   before it first runs;
 * - the cgroup_attach_task probe flags tasks moved into a filtered cgroup;
 *   a task that moves itself (as `sysfence run` does) is flagged before its
 *   write to cgroup.procs returns;
 * - flags are never cleared while the module runs: a task that leaves
 *   filtering keeps the cheap "no policy on my path" probe call.
 *
 * Other tracers of sys_enter/sys_exit (perf, ftrace, BPF) expect the flag on
 * every task. A worker checks every second; when one appears, every thread
 * is flagged again and trimming stops for the module's lifetime (their
 * events from trimmed tasks can be missing for up to that second). At
 * unload, if another tracer remains, every thread is flagged back.
 */
#include <linux/module.h>
#include <linux/tracepoint.h>
#include <linux/cgroup.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

#include "sysfence_shim.h"

static struct tracepoint *sf_tp_enter, *sf_tp_exit, *sf_tp_fork, *sf_tp_attach, *sf_tp_exec;
static bool sf_trimmed;

static void sf_find(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sys_enter"))
		sf_tp_enter = tp;
	else if (!strcmp(tp->name, "sys_exit"))
		sf_tp_exit = tp;
	else if (!strcmp(tp->name, "sched_process_fork"))
		sf_tp_fork = tp;
	else if (!strcmp(tp->name, "cgroup_attach_task"))
		sf_tp_attach = tp;
	else if (!strcmp(tp->name, "sched_process_exec"))
		sf_tp_exec = tp;
}

/* Number of probes on a tracepoint. */
static int sf_nprobes(struct tracepoint *tp)
{
	struct tracepoint_func *f;
	int n = 0;

	if (!tp)
		return 0;
	rcu_read_lock_sched();
	f = rcu_dereference_sched(tp->funcs);
	if (f)
		for (; f->func; f++)
			n++;
	rcu_read_unlock_sched();
	return n;
}

/* Whether anyone but sysfence (its one sys_enter probe) traces syscalls. */
static bool sf_other_tracers(void)
{
	return sf_nprobes(sf_tp_enter) > 1 || sf_nprobes(sf_tp_exit) > 0;
}

/* Whether a policy sits on `cgrp` or an ancestor. Caller holds RCU. */
static bool sf_cgrp_filtered(const struct cgroup *cgrp)
{
	u64 levels = sf_rust_levels(), ids[64];
	int level = cgrp->level, n = 0;

	if (!levels)
		return false;
	if (level > 63)
		level = 63;
	levels &= level == 63 ? ~0ULL : (2ULL << level) - 1;
	while (levels) {
		int l = 63 - __builtin_clzll(levels);

		ids[n++] = cgroup_id(cgrp->ancestors[l]);
		levels &= ~(1ULL << l);
	}
	return n && sf_rust_ids_filtered(ids, n);
}

static void sf_flag(struct task_struct *t)
{
	set_task_syscall_work(t, SYSCALL_TRACEPOINT);
}

static void sf_probe_fork(void *data, struct task_struct *parent,
			  struct task_struct *child)
{
	if (!READ_ONCE(sf_trimmed) ||
	    test_task_syscall_work(child, SYSCALL_TRACEPOINT))
		return;
	rcu_read_lock();
	if (sf_cgrp_filtered(task_dfl_cgroup(child)))
		sf_flag(child);
	rcu_read_unlock();
}

/*
 * A task completed an exec: a policy waiting for its cgroup's next exec
 * (ARM_ON_EXEC) starts now, before the new program's first instruction.
 */
static void sf_probe_exec(void *data, struct task_struct *p, pid_t old_pid,
			  struct linux_binprm *bprm)
{
	u64 id;

	rcu_read_lock();
	id = cgroup_id(task_dfl_cgroup(p));
	rcu_read_unlock();
	sf_rust_exec_done(id);
}

static void sf_probe_attach(void *data, struct cgroup *dst, const char *path,
			    struct task_struct *task, bool threadgroup)
{
	struct task_struct *t;

	/* A cgroup v1 id could match a policy's by accident: that only flags
	 * a task needlessly. */
	if (!READ_ONCE(sf_trimmed))
		return;
	rcu_read_lock();
	if (sf_cgrp_filtered(dst)) {
		if (threadgroup)
			for_each_thread(task, t)
				sf_flag(t);
		else
			sf_flag(task);
	}
	rcu_read_unlock();
}

static void sf_flag_all(void)
{
	struct task_struct *p, *t;

	rcu_read_lock();
	for_each_process_thread(p, t)
		sf_flag(t);
	rcu_read_unlock();
}

static void sf_watch_fn(struct work_struct *w);
static DECLARE_DELAYED_WORK(sf_watch, sf_watch_fn);

static void sf_watch_fn(struct work_struct *w)
{
	if (!READ_ONCE(sf_trimmed))
		return;
	if (sf_other_tracers()) {
		WRITE_ONCE(sf_trimmed, false);
		sf_flag_all();
		pr_info("sysfence: another syscall tracer is active: every task takes the syscall slow path from now on\n");
		return;
	}
	schedule_delayed_work(&sf_watch, HZ);
}

/*
 * Flags every thread in the subtree of cgroup `id` (a policy is being set
 * there). Called around the policy's publication; may take a while on a
 * host with many threads, but only when a cgroup gets its first policy.
 */
void sf_flag_subtree(u64 id)
{
	struct cgroup *cgrp;
	struct task_struct *p, *t;

	if (!READ_ONCE(sf_trimmed))
		return;
	cgrp = cgroup_get_from_id(id);
	if (IS_ERR(cgrp))
		return;
	rcu_read_lock();
	for_each_process_thread(p, t)
		if (cgroup_is_descendant(task_dfl_cgroup(t), cgrp))
			sf_flag(t);
	rcu_read_unlock();
	cgroup_put(cgrp);
}

/* After the sys_enter probe is attached: hooks on, flags trimmed. */
int sf_tasks_start(void)
{
	struct task_struct *p, *t;
	int err;

	for_each_kernel_tracepoint(sf_find, NULL);
	if (!sf_tp_fork || !sf_tp_attach || !sf_tp_exec)
		return -ENOENT;
	err = tracepoint_probe_register(sf_tp_fork, (void *)sf_probe_fork, NULL);
	if (err)
		return err;
	err = tracepoint_probe_register(sf_tp_attach, (void *)sf_probe_attach, NULL);
	if (err) {
		tracepoint_probe_unregister(sf_tp_fork, (void *)sf_probe_fork, NULL);
		return err;
	}
	err = tracepoint_probe_register(sf_tp_exec, (void *)sf_probe_exec, NULL);
	if (err) {
		tracepoint_probe_unregister(sf_tp_attach, (void *)sf_probe_attach, NULL);
		tracepoint_probe_unregister(sf_tp_fork, (void *)sf_probe_fork, NULL);
		return err;
	}
	if (sf_other_tracers())
		return 0;
	/* No policy can exist yet (the family is not open to requests). */
	WRITE_ONCE(sf_trimmed, true);
	rcu_read_lock();
	for_each_process_thread(p, t)
		clear_task_syscall_work(t, SYSCALL_TRACEPOINT);
	rcu_read_unlock();
	schedule_delayed_work(&sf_watch, HZ);
	return 0;
}

/* Before the sys_enter probe is detached. */
void sf_tasks_stop(void)
{
	cancel_delayed_work_sync(&sf_watch);
	if (READ_ONCE(sf_trimmed) && sf_other_tracers())
		sf_flag_all();
	WRITE_ONCE(sf_trimmed, false);
	tracepoint_probe_unregister(sf_tp_exec, (void *)sf_probe_exec, NULL);
	tracepoint_probe_unregister(sf_tp_attach, (void *)sf_probe_attach, NULL);
	tracepoint_probe_unregister(sf_tp_fork, (void *)sf_probe_fork, NULL);
	tracepoint_synchronize_unregister();
}
