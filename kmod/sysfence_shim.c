// SPDX-License-Identifier: GPL-2.0
/*
 * Thin C glue for sysfence.ko, for what Linux 6.12 has no Rust bindings for:
 * the sys_enter tracepoint, cgroup ids of the current task, syscall
 * registers, SIGSYS delivery, RCU, and the generic netlink family. No policy
 * logic lives here: every decision is made by the Rust side (sf_rust_*).
 */
#include <linux/module.h>
#include <linux/tracepoint.h>
#include <linux/cgroup.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/rcupdate.h>
#include <linux/ptrace.h>
#include <linux/audit.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <asm/syscall.h>
#include <asm/unistd.h>
#include <linux/kprobes.h>
#include <asm/ftrace.h>

#include "sysfence_shim.h"
#include "sysfence_arch.h"

/* ---- syscall gate ------------------------------------------------------ */

static struct tracepoint *sf_sys_enter_tp;

/*
 * The gate's per-CPU cache: 128 opaque, aligned bytes that only the Rust
 * gate reads and writes (gate.rs `PathCache`), with preemption disabled.
 */
static DEFINE_PER_CPU_ALIGNED(u64[16], sf_gate_cache);

/*
 * The probe hands Rust what every decision needs, gathered here where the
 * accessors inline: the task's cgroup id (preemption is disabled, which
 * keeps its css_set alive), this CPU's cache and the call's ABI. The gate's
 * C functions are notrace: no __fentry__ call (a nop unless traced) on
 * every filtered syscall.
 */
static notrace void sf_probe(void *data, struct pt_regs *regs, long id)
{
	sf_rust_sys_enter(regs, id, cgroup_id(task_dfl_cgroup(current)),
			  this_cpu_ptr(&sf_gate_cache), sf_arch_compat());
}

/* This CPU's gate cache, for a decision that continues past the fast path. */
notrace void *sf_gate_cache_this_cpu(void)
{
	return this_cpu_ptr(&sf_gate_cache);
}

/*
 * This CPU's gate cache and the current task's cgroup id, for the object
 * hooks' decisions (task context, preemption disabled), which find the
 * task's policies as the gate left them for the same call.
 */
notrace void *sf_gate_cache_for_current(u64 *cgid)
{
	*cgid = cgroup_id(task_dfl_cgroup(current));
	return this_cpu_ptr(&sf_gate_cache);
}

static void sf_find_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sys_enter"))
		sf_sys_enter_tp = tp;
}

int sf_gate_attach(void)
{
	int err;

	for_each_kernel_tracepoint(sf_find_tp, NULL);
	if (!sf_sys_enter_tp)
		return -ENOENT;
	err = tracepoint_probe_register(sf_sys_enter_tp, (void *)sf_probe, NULL);
	if (err)
		return err;
	err = sf_arch_gate_attach();
	if (err) {
		tracepoint_probe_unregister(sf_sys_enter_tp, (void *)sf_probe, NULL);
		tracepoint_synchronize_unregister();
	}
	return err;
}

void sf_gate_detach(void)
{
	if (!sf_sys_enter_tp)
		return;
	tracepoint_probe_unregister(sf_sys_enter_tp, (void *)sf_probe, NULL);
	sf_arch_gate_detach();
	/* No probe call may still be running (or return into freed text). */
	tracepoint_synchronize_unregister();
}

void sf_call_rcu(struct rcu_head *head, rcu_callback_t func)
{
	/* The Rust side declares rcu_head as two pointers. */
	BUILD_BUG_ON(sizeof(struct rcu_head) != 2 * sizeof(void *));
	call_rcu(head, func);
}

void sf_rcu_barrier(void)
{
	rcu_barrier();
}

/* ---- the calling task -------------------------------------------------- */

/*
 * The ids of the current task's cgroup ancestors (itself included) at the
 * levels set in `levels` (bit N: level N; the root is level 0), deepest
 * first, into `out` (room for `cap`); returns how many were written, and
 * the task's own cgroup id in `*own`.
 *
 * Callers run with preemption disabled (tracepoint probes) or under
 * sf_rcu_read_lock(), which keeps the css_set and its cgroups alive.
 */
notrace int sf_current_path_ids(u64 levels, u64 *out, int cap, u64 *own)
{
	const struct cgroup *cgrp = task_dfl_cgroup(current);
	int level = cgrp->level, n = 0;

	*own = cgroup_id(cgrp);
	if (level > 63)
		level = 63; /* policies are refused below level 63 */
	levels &= level == 63 ? ~0ULL : (2ULL << level) - 1;
	while (levels && n < cap) {
		int l = 63 - __builtin_clzll(levels);

		out[n++] = cgroup_id(cgrp->ancestors[l]);
		levels &= ~(1ULL << l);
	}
	return n;
}

notrace void sf_rcu_read_lock(void)
{
	rcu_read_lock();
}

notrace void sf_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

u64 sf_instruction_pointer(struct pt_regs *regs)
{
	return instruction_pointer(regs);
}

/* Skips the syscall: no handler runs and userspace sees `ret`. */
notrace void sf_skip_syscall(struct pt_regs *regs, long ret)
{
	sf_arch_skip_syscall(regs, ret);
}

/* ---- kill and trap ----------------------------------------------------- */

/*
 * Makes `sig` fatal to the current task whatever it does, as seccomp's kill
 * does (force_sig_seccomp with HANDLER_EXIT, which is not exported): under
 * the signal lock the action becomes SIG_DFL and SA_IMMUTABLE (so another
 * thread's sigaction() is refused, and a tracer is not told: get_signal()
 * skips ptrace_signal() for it), the signal is unblocked, and
 * SIGNAL_UNKILLABLE is cleared (a PID namespace's init dies too). The
 * caller sends the signal next.
 */
void sf_force_fatal(int sig)
{
	struct k_sigaction *action = &current->sighand->action[sig - 1];
	unsigned long flags;

	spin_lock_irqsave(&current->sighand->siglock, flags);
	action->sa.sa_handler = SIG_DFL;
	action->sa.sa_flags |= SA_IMMUTABLE;
	sigdelset(&current->blocked, sig);
	recalc_sigpending();
	current->signal->flags &= ~SIGNAL_UNKILLABLE;
	spin_unlock_irqrestore(&current->sighand->siglock, flags);
}

static void sf_sigsys(struct pt_regs *regs, int nr, int data, bool fatal)
{
	struct kernel_siginfo info;

	if (fatal)
		sf_force_fatal(SIGSYS);
	clear_siginfo(&info);
	info.si_signo = SIGSYS;
	info.si_code = SYS_SECCOMP;
	info.si_call_addr = (void __user *)instruction_pointer(regs);
	info.si_errno = data;
	info.si_arch = syscall_get_arch(current);
	info.si_syscall = nr;
	send_sig_info(SIGSYS, &info, current);
}

/* TRAP: skip the call and raise SIGSYS with seccomp-like siginfo. */
void sf_trap(struct pt_regs *regs, int nr, bool compat, int data)
{
	sf_skip_syscall(regs, -ENOSYS);
	sf_sigsys(regs, nr, data, false);
}

/* KILL_PROCESS: skip the call; the whole process dies of SIGSYS. */
void sf_kill_process(struct pt_regs *regs, int nr, bool compat)
{
	sf_skip_syscall(regs, -ENOSYS);
	sf_sigsys(regs, nr, 0, true);
}

/*
 * KILL_THREAD: the call is replaced by exit(0) of the calling thread, which
 * the kernel then runs instead (it re-reads the number after the
 * tracepoint). The last thread of a process dies of SIGSYS, as seccomp's.
 */
void sf_kill_thread(struct pt_regs *regs, int nr, bool compat)
{
	if (get_nr_threads(current) <= 1) {
		sf_kill_process(regs, nr, compat);
		return;
	}
	sf_arch_exit_instead(regs, compat);
}

/* ---- kprobes that may return early -------------------------------------- */

/*
 * Registers a kprobe whose pre-handler may make the probed function return
 * at once (the containment probes, the object hooks' guards): that sets
 * the return value and emulates the function's return (sf_arch_return_now;
 * on x86_64 int3_emulate_ret: ip from the stack, sp past it), which only a
 * trap-based kprobe honours (arm64 has no kprobes on ftrace: all are).
 * Where a kprobe on a function's entry goes through ftrace (kernels with
 * CONFIG_KPROBES_ON_FTRACE), ftrace restores ip but not sp, so the probe
 * is moved past the __fentry__ call: there the prologue has not run yet,
 * the return address is still at the top of the stack, and the arguments
 * are in their registers. `kp` must have symbol_name, pre_handler and
 * post_handler set (a post-handler keeps the probe from being optimized
 * into a jump, which would ignore the new ip); it may be registered again
 * only from a zeroed state, which this function restores itself.
 */
int sf_register_early_return(struct kprobe *kp)
{
	int err = register_kprobe(kp);

#ifdef CONFIG_KPROBES_ON_FTRACE
	if (!err && kprobe_ftrace(kp)) {
		struct kprobe fresh = {
			.addr = (kprobe_opcode_t *)((unsigned long)kp->addr + MCOUNT_INSN_SIZE),
			.pre_handler = kp->pre_handler,
			.post_handler = kp->post_handler,
		};

		unregister_kprobe(kp);
		*kp = fresh;
		err = register_kprobe(kp);
		if (!err && kprobe_ftrace(kp)) {
			unregister_kprobe(kp);
			err = -EOPNOTSUPP;
		}
	}
#endif
	return err;
}

/* ---- generic netlink --------------------------------------------------- */

static struct genl_family sf_family;

/*
 * Closed until module init opens it, as its last step (so no request runs
 * before everything a handler relies on is in place), and closed again at
 * module exit, under the genl mutex: no handler runs after that.
 */
static bool sf_closing = true;

static int sf_doit(struct sk_buff *skb, struct genl_info *info)
{
	if (READ_ONCE(sf_closing))
		return -ESHUTDOWN;
	return sf_rust_doit(info->genlhdr->cmd, genlmsg_data(info->genlhdr),
			    genlmsg_len(info->genlhdr), info);
}

static int sf_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	if (READ_ONCE(sf_closing))
		return -ESHUTDOWN;
	for (;;) {
		void *hdr;
		u32 len = 0;
		int ret;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &sf_family, NLM_F_MULTI, SF_CMD_POLICY_DUMP);
		if (!hdr)
			break;
		ret = sf_rust_dump_one(cb->args[0], skb_tail_pointer(skb), skb_tailroom(skb), &len);
		if (ret <= 0) {
			genlmsg_cancel(skb, hdr);
			/* 0: no more policies; < 0: this one did not fit, next skb. */
			if (ret == 0 || skb->len == 0)
				return ret == 0 ? skb->len : ret;
			break;
		}
		skb_put(skb, len);
		genlmsg_end(skb, hdr);
		cb->args[0]++;
	}
	return skb->len;
}

/*
 * Who may do what: policies, their counters and the events are security
 * configuration, so everything but GET_INFO needs CAP_SYS_ADMIN in the
 * initial user namespace, of the process sending and of the socket's opener
 * (netlink_capable). CAP_NET_ADMIN is not enough: CNI plugins and
 * kube-proxy hold it. The family core first checks CAP_NET_ADMIN
 * (GENL_ADMIN_PERM); pre_doit and the dump's start then check
 * CAP_SYS_ADMIN, the latter before the dump pins the module, so a dump
 * nobody reads can be started only by the operator.
 */
static int sf_pre_doit(const struct genl_split_ops *ops, struct sk_buff *skb,
		       struct genl_info *info)
{
	if (ops->cmd != SF_CMD_GET_INFO && !netlink_capable(skb, CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static int sf_dump_start(struct netlink_callback *cb)
{
	return netlink_capable(cb->skb, CAP_SYS_ADMIN) ? 0 : -EPERM;
}

#define SF_VALIDATE (GENL_DONT_VALIDATE_STRICT | GENL_DONT_VALIDATE_DUMP)
#define SF_OP(c, f) { .cmd = (c), .validate = SF_VALIDATE, .doit = sf_doit, .flags = (f) }

static const struct genl_ops sf_ops[] = {
	SF_OP(SF_CMD_GET_INFO, 0),
	SF_OP(SF_CMD_POLICY_SET, GENL_ADMIN_PERM),
	SF_OP(SF_CMD_POLICY_DELETE, GENL_ADMIN_PERM),
	SF_OP(SF_CMD_POLICY_GET, GENL_ADMIN_PERM),
	{
		.cmd = SF_CMD_POLICY_DUMP,
		.validate = SF_VALIDATE,
		.start = sf_dump_start,
		.dumpit = sf_dumpit,
		.flags = GENL_ADMIN_PERM,
	},
	SF_OP(SF_CMD_STATS_GET, GENL_ADMIN_PERM),
	SF_OP(SF_CMD_POLICY_PROMOTE, GENL_ADMIN_PERM),
	SF_OP(SF_CMD_SHADOW_DISCARD, GENL_ADMIN_PERM),
	SF_OP(SF_CMD_SHADOW_GET, GENL_ADMIN_PERM),
	SF_OP(SF_CMD_POLICY_SET_BATCH, GENL_ADMIN_PERM),
};

static const struct genl_multicast_group sf_mcgrps[] = {
	{ .name = "events", .flags = GENL_MCAST_CAP_SYS_ADMIN },
};

static struct genl_family sf_family = {
	.name = "sysfence",
	.version = SF_FAMILY_VERSION,
	.maxattr = 0, /* attributes are parsed and validated by the Rust side */
	.netnsok = false,
	.parallel_ops = false,
	.module = THIS_MODULE,
	.pre_doit = sf_pre_doit,
	.ops = sf_ops,
	.n_ops = ARRAY_SIZE(sf_ops),
	/*
	 * Every command's attributes are parsed and validated by the Rust side
	 * (strictly: unknown attributes are refused), so none takes the core's
	 * reject-all policy that commands from resv_start_op on would get.
	 */
	.resv_start_op = SF_CMD_POLICY_SET_BATCH + 1,
	.mcgrps = sf_mcgrps,
	.n_mcgrps = ARRAY_SIZE(sf_mcgrps),
};

/* The family version, for the Rust side's check at load. */
const u8 sf_family_version = SF_FAMILY_VERSION;

/*
 * The most policies held at once: 65536 (the protocol's limit) unless an
 * operator caps the module's memory lower at load. Read once by the Rust
 * side at init, which refuses to load outside 1-65536.
 */
unsigned int sf_max_policies = 65536;
module_param_named(max_policies, sf_max_policies, uint, 0444);
MODULE_PARM_DESC(max_policies, "most policies held at once, 1-65536 (default 65536)");

int sf_nl_register(void)
{
	return genl_register_family(&sf_family);
}

void sf_nl_unregister(void)
{
	genl_unregister_family(&sf_family);
}

/* Module init, last step: requests reach the handlers from now on. */
void sf_nl_open(void)
{
	genl_lock();
	WRITE_ONCE(sf_closing, false);
	genl_unlock();
}

/*
 * Module exit, first step: once the genl mutex is ours, no handler of the
 * family runs (it is not parallel_ops), and every later one refuses. So no
 * policy change can re-attach a hook or publish a table while the module
 * tears them down.
 */
void sf_nl_fence(void)
{
	genl_lock();
	WRITE_ONCE(sf_closing, true);
	genl_unlock();
}

/* Whether the family is fenced (module exit); under genl_lock(). */
bool sf_nl_fenced(void)
{
	return READ_ONCE(sf_closing);
}

/* Sends `len` bytes of attributes as the reply to `info`'s request. */
int sf_nl_reply(struct genl_info *info, u8 cmd, const void *buf, u32 len)
{
	struct sk_buff *msg = genlmsg_new(len, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &sf_family, 0, cmd);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	skb_put_data(msg, buf, len);
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* ---- events ------------------------------------------------------------ */

/*
 * Events leave the syscall path through a fixed ring of opaque records (the
 * Rust side defines their content): the probe copies one in under a
 * spinlock and kicks a work item, which multicasts them in process context.
 * The probe never allocates or sleeps; a full ring drops the record.
 */
#define SF_EV_SLOTS 1024
#define SF_EV_SLOT_SIZE 256

static DEFINE_SPINLOCK(sf_ev_lock);
static u8 sf_ev_ring[SF_EV_SLOTS][SF_EV_SLOT_SIZE];
static u32 sf_ev_head, sf_ev_len; /* protected by sf_ev_lock */
static bool sf_ev_stopped;          /* protected by sf_ev_lock */

static void sf_ev_work_fn(struct work_struct *work);
static DECLARE_WORK(sf_ev_work, sf_ev_work_fn);

bool sf_ev_has_listeners(void)
{
	return genl_has_listeners(&sf_family, &init_net, 0);
}

/* Queues one record; -ENOSPC when the ring is full (or draining for unload). */
int sf_ev_push(const void *rec, u32 size)
{
	unsigned long flags;
	int ret = 0;

	if (size > SF_EV_SLOT_SIZE)
		return -EINVAL;
	spin_lock_irqsave(&sf_ev_lock, flags);
	if (sf_ev_stopped || sf_ev_len == SF_EV_SLOTS) {
		ret = -ENOSPC;
	} else {
		memcpy(sf_ev_ring[(sf_ev_head + sf_ev_len) % SF_EV_SLOTS], rec, size);
		sf_ev_len++;
	}
	spin_unlock_irqrestore(&sf_ev_lock, flags);
	if (!ret)
		schedule_work(&sf_ev_work);
	return ret;
}

static bool sf_ev_pop(u8 *out)
{
	unsigned long flags;
	bool got = false;

	spin_lock_irqsave(&sf_ev_lock, flags);
	if (sf_ev_len) {
		memcpy(out, sf_ev_ring[sf_ev_head], SF_EV_SLOT_SIZE);
		sf_ev_head = (sf_ev_head + 1) % SF_EV_SLOTS;
		sf_ev_len--;
		got = true;
	}
	spin_unlock_irqrestore(&sf_ev_lock, flags);
	return got;
}

static void sf_ev_work_fn(struct work_struct *work)
{
	u8 rec[SF_EV_SLOT_SIZE];
	int n = 0;

	while (sf_ev_pop(rec)) {
		sf_rust_emit_event(rec, SF_EV_SLOT_SIZE);
		if (++n % 64 == 0)
			cond_resched();
	}
}

/* Module exit, after the probe is detached: sends what is queued, stops. */
void sf_ev_drain(void)
{
	unsigned long flags;

	flush_work(&sf_ev_work);
	spin_lock_irqsave(&sf_ev_lock, flags);
	sf_ev_stopped = true;
	spin_unlock_irqrestore(&sf_ev_lock, flags);
	cancel_work_sync(&sf_ev_work);
	sf_ev_work_fn(&sf_ev_work);
}

/* Module init: the ring starts empty and open. */
void sf_ev_start(void)
{
	unsigned long flags;

	spin_lock_irqsave(&sf_ev_lock, flags);
	sf_ev_head = 0;
	sf_ev_len = 0;
	sf_ev_stopped = false;
	spin_unlock_irqrestore(&sf_ev_lock, flags);
}

/* The calling task's identity for an event. */
void sf_current_task_info(u32 *pid, u32 *tid, u8 *comm, u32 comm_size)
{
	*pid = task_tgid_nr(current);
	*tid = task_pid_nr(current);
	/* As trace events do: a racy copy of our own comm is good enough. */
	if (comm_size)
		strscpy_pad((char *)comm, current->comm, min_t(u32, comm_size, TASK_COMM_LEN));
}

u64 sf_ktime_ns(void)
{
	return ktime_get_ns();
}

/* Multicasts `len` bytes of attributes as an event; process context. */
int sf_nl_event(const void *buf, u32 len)
{
	struct sk_buff *msg = genlmsg_new(len, GFP_KERNEL);
	void *hdr;

	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &sf_family, 0, SF_CMD_EVENT);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	skb_put_data(msg, buf, len);
	genlmsg_end(msg, hdr);
	return genlmsg_multicast(&sf_family, msg, 0, 0, GFP_KERNEL);
}

/*
 * Sets the extended-ack message (a static string) and, when a whole
 * attribute header fits at `offset` within the request's attributes, points
 * the error at that attribute. `offset` is u32::MAX for "no attribute";
 * the test is written so that nothing can wrap.
 */
void sf_nl_set_err(struct genl_info *info, const char *msg, u32 offset)
{
	u32 len = max(genlmsg_len(info->genlhdr), 0);

	if (!info->extack)
		return;
	info->extack->_msg = msg; /* `msg` is a static string of the module */
	if (offset <= len && len - offset >= NLA_HDRLEN)
		NL_SET_BAD_ATTR(info->extack,
				(const struct nlattr *)((const u8 *)genlmsg_data(info->genlhdr) + offset));
}
