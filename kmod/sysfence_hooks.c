// SPDX-License-Identifier: GPL-2.0
/*
 * Object hooks: kprobes at the entry of the security_* functions, where the
 * kernel has resolved what a syscall acts on (the file opened, the program
 * executed, the socket created, the address connected or bound to). An
 * out-of-tree module cannot register as an LSM, so it decides at these
 * functions' entry and, on a refusal, returns from them at once with
 * -errno instead of running them.
 *
 * Mechanism, and why:
 * - The kprobes go through ftrace (CONFIG_KPROBES_ON_FTRACE, which the
 *   function tracer gives, as on every distribution kernel): the handler
 *   runs from the function's __fentry__ call in the task's own context,
 *   preemption disabled, not in an int3 trap (NMI-like, where the path
 *   walk's locks and the event queue are not allowed). sf_hooks_attach()
 *   refuses a kernel where they do not (-EOPNOTSUPP).
 * - The handler first asks Rust whether the task is under a policy with
 *   object rules (an RCU read of the table and of the task's cgroup ids,
 *   no lock); every other task runs the function untouched. For a task
 *   under rules it resolves the object (the path from the root of the
 *   task's mount namespace into a per-CPU buffer, sysfence_path.c; the
 *   socket address is the kernel's copy), lets Rust decide, and on a
 *   refusal sets the return value and points the instruction pointer at a
 *   bare return (sf_arch_refuse_at_entry: on x86_64 sf_just_return, as
 *   kernel/fail_function.c does), so the function's body never runs. An allowed call runs the function, whose
 *   other security modules may still refuse it.
 * - There is no return handler, so no per-call instance to run out of.
 *   unregister_kprobes() waits for running handlers; a refused call still
 *   on its way from the trampoline to sf_just_return (module text) is
 *   waited for at exit by a tasks-RCU grace period (sf_hooks_exit()).
 * - kprobes skip a hit when another kprobe handler is running on the same
 *   CPU (counted in the kprobe's nmissed, reported by sf_hooks_missed()),
 *   when ftrace's recursion guard refuses it (not counted), and all of
 *   them once the kernel has disabled ftrace after an internal failure
 *   (ftrace_kill()); no task can cause any of these.
 * - Hooks are registered per object class (files, exec, socket, connect,
 *   bind) while some policy names that class, and removed when none has
 *   for SF_SETTLE_DELAY: hosts without object rules pay nothing, and a
 *   policy with file rules costs nothing to other tasks' sends.
 * - Paths are absolute, from the root of the task's mount namespace
 *   (sysfence_path.c), not from the task's root: chroot, which a container's
 *   root (or any user, in a user namespace of its own) may call, renames
 *   nothing. Operations that do rename a namespace's files (pivot_root, bind
 *   and move mounts) are refused to tasks under read or write file rules.
 */
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/fs.h>
#include <linux/dcache.h>
#include <linux/binfmts.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/mount.h>
#include <uapi/linux/mount.h>
#include <linux/socket.h>
#include <linux/un.h>
#include <linux/objtool.h>
#include <linux/workqueue.h>
#include <linux/rcupdate_wait.h>
#include <net/genetlink.h>
#include <net/af_unix.h>

#include "sysfence_shim.h"
#include "sysfence_arch.h"

/* Object classes: shared-abi/src/proto.rs `class`. */
#define SF_CLASS_FILE 1
#define SF_CLASS_EXEC 2
#define SF_CLASS_SOCKET 3
#define SF_CLASS_CONNECT 4
#define SF_CLASS_BIND 5

/* File access bits: shared-abi/src/proto.rs `access`. */
#define SF_ACCESS_READ 1
#define SF_ACCESS_WRITE 2
#define SF_ACCESS_CREATE 4
/* A directory moved or renamed (or the whole namespace, "/"): refused when
 * a read or write file rule names a path inside it. */
#define SF_ACCESS_TREE 8

/* Two PATH_MAX buffers per CPU: a link or rename has two paths. */
static char __percpu *sf_pathbuf;

/* The hooked function's n-th argument, at its entry. */
static unsigned long sf_arg(struct pt_regs *regs, unsigned int n)
{
	return regs_get_kernel_argument(regs, n);
}

/* Rust's verdict for an object: 0, or the -errno the call returns. */
static int sf_apply(u32 class, u32 a, u32 b, u32 c, const void *data, u32 len)
{
	return sf_rust_obj_decide(class, a, b, c, data, len);
}

/*
 * The resolved path of `path` and its length: absolute, from the root of
 * the mount namespace, whatever the task's root (sysfence_path.c). A file
 * on a kernel-internal mount (pipes, sockets, memfds, overlayfs' backing
 * files) or a detached one has the name d_path gives it ("pipe:[N]",
 * "/memfd:NAME (deleted)"). NULL when the file cannot be named with
 * certainty (a clone of a tree, from open_tree() or fsmount(), not
 * attached; a dentry outside its mount; too long): the caller refuses.
 * `slot` (0 or 1) picks the per-CPU buffer.
 */
static const char *sf_path_in(const struct path *path, u32 *len, int slot)
{
	char *buf = this_cpu_ptr(sf_pathbuf) + slot * PATH_MAX;
	const char *p = sf_absolute_path(path, buf, PATH_MAX, len);

	if (IS_ERR(p))
		return NULL;
	if (p)
		return p;
	p = d_path(path, buf, PATH_MAX);
	if (IS_ERR(p))
		return NULL;
	*len = strlen(p);
	return p;
}

/* A call on a file that cannot be named is refused (to tasks under object
 * rules: the hooks decide for no one else). */
#define SF_UNNAMED (-EPERM)

static const char *sf_path(const struct path *path, u32 *len)
{
	return sf_path_in(path, len, 0);
}

/* Decides `path` as an object of `class` with `access`; a file that cannot
 * be named is refused. */
static int sf_apply_path(u32 class, u32 access, const struct path *path)
{
	u32 len = 0;
	const char *p = sf_path(path, &len);

	if (!p)
		return SF_UNNAMED;
	return sf_apply(class, access, 0, 0, p, len);
}

static int sf_file_open(struct pt_regs *regs)
{
	const struct file *file = (const struct file *)sf_arg(regs, 0);
	u32 access = 0;

	if (file->f_mode & FMODE_READ)
		access |= SF_ACCESS_READ;
	/* O_TRUNC empties the file even on a read-only open. */
	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC))
		access |= SF_ACCESS_WRITE;
	if (file->f_mode & FMODE_CREATED)
		access |= SF_ACCESS_CREATE;
	return sf_apply_path(SF_CLASS_FILE, access, &file->f_path);
}

static int sf_bprm_check(struct pt_regs *regs)
{
	const struct linux_binprm *bprm = (const struct linux_binprm *)sf_arg(regs, 0);

	if (bprm->file)
		return sf_apply_path(SF_CLASS_EXEC, 0, &bprm->file->f_path);
	return sf_apply(SF_CLASS_EXEC, 0, 0, 0, "", 0);
}

static int sf_socket_create(struct pt_regs *regs)
{
	/* Sockets the kernel makes for itself are not the task's doing. */
	if ((int)sf_arg(regs, 3))
		return 0;
	return sf_apply(SF_CLASS_SOCKET, (u32)sf_arg(regs, 0),
			(u32)sf_arg(regs, 1) & SOCK_TYPE_MASK, (u32)sf_arg(regs, 2), NULL, 0);
}

static int sf_socket_addr(struct pt_regs *regs, u32 class)
{
	const struct sockaddr *addr = (const struct sockaddr *)sf_arg(regs, 1);
	int addrlen = (int)sf_arg(regs, 2);

	/* The address is the kernel's copy (move_addr_to_kernel). */
	if (addrlen < 0 || addrlen > sizeof(struct sockaddr_storage))
		addrlen = 0;
	/* A Unix name is decided on the socket it reaches (sf_unix_*),
	 * whatever string named it; binding one creates a file (mknod). */
	if (class == SF_CLASS_CONNECT && addrlen >= sizeof(sa_family_t) &&
	    addr->sa_family == AF_UNIX)
		return 0;
	return sf_apply(class, 0, 0, 0, addr, addrlen);
}

static int sf_socket_connect(struct pt_regs *regs)
{
	return sf_socket_addr(regs, SF_CLASS_CONNECT);
}

static int sf_socket_bind(struct pt_regs *regs)
{
	return sf_socket_addr(regs, SF_CLASS_BIND);
}

/*
 * sendto/sendmsg with an address (UDP, TCP Fast Open's MSG_FASTOPEN, SCTP)
 * reach it as connect does, and are decided as a connect. The name is the
 * kernel's copy (sendmsg_copy_msghdr, __sys_sendto).
 */
static int sf_socket_sendmsg(struct pt_regs *regs)
{
	const struct msghdr *msg = (const struct msghdr *)sf_arg(regs, 1);
	int len = msg->msg_namelen;

	if (!msg->msg_name || len < (int)sizeof(sa_family_t) ||
	    len > sizeof(struct sockaddr_storage))
		return 0;
	if (((const struct sockaddr *)msg->msg_name)->sa_family == AF_UNIX)
		return 0;
	return sf_apply(SF_CLASS_CONNECT, 0, 0, 0, msg->msg_name, len);
}

/*
 * A Unix socket reached (stream or seqpacket connect, datagram connect or
 * send): decided as a connect to the name the peer is bound to, resolved
 * as file paths are (so `//`, `.`, `..`, symlinks, relative names and
 * renames all give the one name), or its abstract name as `\0name`.
 */
static int sf_unix_peer(const struct sock *other)
{
	const struct unix_sock *u = unix_sk(other);
	const struct unix_address *addr = smp_load_acquire(&u->addr);
	char *out = this_cpu_ptr(sf_pathbuf) + PATH_MAX;
	u32 len = 0;

	if (!addr || addr->len <= offsetof(struct sockaddr_un, sun_path))
		return 0; /* an unbound peer (socketpair): nothing named */
	if (u->path.dentry) {
		const char *p = sf_path_in(&u->path, &len, 0);

		if (!p)
			return SF_UNNAMED;
		len = min_t(u32, len, PATH_MAX - sizeof(sa_family_t) - 1);
		memcpy(out + sizeof(sa_family_t), p, len);
		out[sizeof(sa_family_t) + len] = 0;
		len += sizeof(sa_family_t) + 1;
	} else {
		len = min_t(u32, addr->len, sizeof(struct sockaddr_un));
		memcpy(out + sizeof(sa_family_t), addr->name->sun_path,
		       len - offsetof(struct sockaddr_un, sun_path));
	}
	*(sa_family_t *)out = AF_UNIX;
	return sf_apply(SF_CLASS_CONNECT, 0, 0, 0, out, len);
}

static int sf_unix_stream_connect(struct pt_regs *regs)
{
	return sf_unix_peer((const struct sock *)sf_arg(regs, 1));
}

static int sf_unix_may_send(struct pt_regs *regs)
{
	const struct socket *other = (const struct socket *)sf_arg(regs, 1);

	if (other && other->sk)
		return sf_unix_peer(other->sk);
	return 0;
}

/* How moving away `d` touches what a path rule protects: its contents,
 * and for a directory every path inside it. */
static u32 sf_moved(const struct dentry *d)
{
	return SF_ACCESS_READ | SF_ACCESS_WRITE | (d_is_dir(d) ? SF_ACCESS_TREE : 0);
}

/*
 * A new name for a file (link) or a move (rename) would let a path rule be
 * dodged: the old name is decided as a read and write of the file (of
 * every path inside it, for a directory), the new one as a creation, and
 * when the new name exists (replaced, or swapped by RENAME_EXCHANGE) as a
 * read and write of what it names; any refusal refuses the operation.
 */
static int sf_apply_two(const struct path *old, const struct path *new)
{
	u32 olen = 0, nlen = 0, nacc = SF_ACCESS_CREATE;
	const char *o, *n;
	int rc;

	if (d_really_is_positive(new->dentry))
		nacc |= sf_moved(new->dentry);
	o = sf_path_in(old, &olen, 0);
	n = sf_path_in(new, &nlen, 1);
	if (!o || !n)
		return SF_UNNAMED;
	rc = sf_apply(SF_CLASS_FILE, sf_moved(old->dentry), 0, 0, o, olen);
	if (!rc)
		rc = sf_apply(SF_CLASS_FILE, nacc, 0, 0, n, nlen);
	return rc;
}

static int sf_path_link(struct pt_regs *regs)
{
	const struct path *dir = (const struct path *)sf_arg(regs, 1);
	struct path old = { .mnt = dir->mnt, .dentry = (struct dentry *)sf_arg(regs, 0) };
	struct path new = { .mnt = dir->mnt, .dentry = (struct dentry *)sf_arg(regs, 2) };

	return sf_apply_two(&old, &new);
}

static int sf_path_rename(struct pt_regs *regs)
{
	const struct path *odir = (const struct path *)sf_arg(regs, 0);
	const struct path *ndir = (const struct path *)sf_arg(regs, 2);
	struct path old = { .mnt = odir->mnt, .dentry = (struct dentry *)sf_arg(regs, 1) };
	struct path new = { .mnt = ndir->mnt, .dentry = (struct dentry *)sf_arg(regs, 3) };

	return sf_apply_two(&old, &new);
}

/* truncate(2) (and ftruncate's path check): a write of the file. */
static int sf_path_truncate(struct pt_regs *regs)
{
	return sf_apply_path(SF_CLASS_FILE, SF_ACCESS_WRITE,
			     (const struct path *)sf_arg(regs, 0));
}

/* ftruncate(2), and the truncation of an O_TRUNC open: a write. */
static int sf_file_truncate(struct pt_regs *regs)
{
	const struct file *file = (const struct file *)sf_arg(regs, 0);

	return sf_apply_path(SF_CLASS_FILE, SF_ACCESS_WRITE, &file->f_path);
}

/* unlink and rmdir take a name away from what it names: decided as a
 * write of it (and, for a directory, of every path inside it). */
static int sf_path_remove(struct pt_regs *regs)
{
	const struct path *dir = (const struct path *)sf_arg(regs, 0);
	struct path victim = { .mnt = dir->mnt, .dentry = (struct dentry *)sf_arg(regs, 1) };
	u32 access = SF_ACCESS_WRITE | (d_is_dir(victim.dentry) ? SF_ACCESS_TREE : 0);

	return sf_apply_path(SF_CLASS_FILE, access, &victim);
}

/*
 * Mounts give a namespace's files other absolute names (bind and moved
 * mounts, pivot_root, a detached tree), or put other files under the names
 * rules know (a file system mounted over a path, overlayfs over a
 * directory). The resolved source of a bind or move mount(2) is not known
 * at its hook, so all are decided as a move of the whole namespace ("/"):
 * refused to a task under any read or write file rule. A remount and a
 * change of propagation type change no name, and are let through.
 */
static int sf_renames_tree(struct pt_regs *regs)
{
	return sf_apply(SF_CLASS_FILE, SF_ACCESS_READ | SF_ACCESS_WRITE | SF_ACCESS_TREE,
			0, 0, "/", 1);
}

static int sf_sb_mount(struct pt_regs *regs)
{
	unsigned long flags = sf_arg(regs, 3);

	/* In path_mount()'s order: remount, bind, propagation, move, new. */
	if (flags & MS_REMOUNT)
		return 0;
	if (!(flags & MS_BIND) &&
	    (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)))
		return 0;
	return sf_renames_tree(regs);
}

/* umount with MNT_DETACH leaves the tree reachable through open files and
 * directories, named from its own root. */
static int sf_sb_umount(struct pt_regs *regs)
{
	if (sf_arg(regs, 1) & MNT_DETACH)
		return sf_renames_tree(regs);
	return 0;
}

/* Creating a name (open with O_CREAT, mknod, mkdir, symlink) is decided
 * before it happens, as a creation of the new path. */
static int sf_path_create(struct pt_regs *regs)
{
	const struct path *dir = (const struct path *)sf_arg(regs, 0);
	struct path new = { .mnt = dir->mnt, .dentry = (struct dentry *)sf_arg(regs, 1) };

	return sf_apply_path(SF_CLASS_FILE, SF_ACCESS_CREATE, &new);
}

/* The hooked functions, the object class whose rules they decide, and
 * their deciders. A class no policy names has its hooks off. */
static const struct {
	const char *sym;
	u32 class;
	int (*decide)(struct pt_regs *regs);
} sf_hook_defs[] = {
	{ "security_file_open", SF_CLASS_FILE, sf_file_open },
	{ "security_bprm_check", SF_CLASS_EXEC, sf_bprm_check },
	{ "security_socket_create", SF_CLASS_SOCKET, sf_socket_create },
	{ "security_socket_connect", SF_CLASS_CONNECT, sf_socket_connect },
	{ "security_socket_bind", SF_CLASS_BIND, sf_socket_bind },
	{ "security_path_link", SF_CLASS_FILE, sf_path_link },
	{ "security_path_rename", SF_CLASS_FILE, sf_path_rename },
	{ "security_path_mknod", SF_CLASS_FILE, sf_path_create },
	{ "security_path_mkdir", SF_CLASS_FILE, sf_path_create },
	{ "security_path_symlink", SF_CLASS_FILE, sf_path_create },
	{ "security_path_truncate", SF_CLASS_FILE, sf_path_truncate },
	{ "security_file_truncate", SF_CLASS_FILE, sf_file_truncate },
	{ "security_path_unlink", SF_CLASS_FILE, sf_path_remove },
	{ "security_path_rmdir", SF_CLASS_FILE, sf_path_remove },
	{ "security_socket_sendmsg", SF_CLASS_CONNECT, sf_socket_sendmsg },
	{ "security_unix_stream_connect", SF_CLASS_CONNECT, sf_unix_stream_connect },
	{ "security_unix_may_send", SF_CLASS_CONNECT, sf_unix_may_send },
	{ "security_sb_mount", SF_CLASS_FILE, sf_sb_mount },
	{ "security_sb_umount", SF_CLASS_FILE, sf_sb_umount },
	{ "security_sb_pivotroot", SF_CLASS_FILE, sf_renames_tree },
	{ "security_move_mount", SF_CLASS_FILE, sf_renames_tree },
};

static struct kprobe sf_hooks[ARRAY_SIZE(sf_hook_defs)];
/* Which hooks are registered, and the classes whose hooks are (bit
 * class - 1). Changed by the serialized writers only. */
static bool sf_hook_on[ARRAY_SIZE(sf_hook_defs)];
static u32 sf_classes_on;
/* Some hook was registered since load: a refused call may still be on its
 * way to sf_just_return at exit (sf_hooks_exit). */
static bool sf_hooks_ever;
/* Hits skipped by kprobes, of hooks since unregistered. */
static unsigned long sf_missed_before;

static u32 sf_class_bit(int i)
{
	return 1u << (sf_hook_defs[i].class - 1);
}

/*
 * Every hooked function's entry (ftrace context: the task's own, preemption
 * disabled). Tasks under no rule of the hook's class run the function
 * untouched; for the others the object is decided here, and a refusal
 * returns -errno at once without running the function.
 */
static int sf_hook_entry(struct kprobe *p, struct pt_regs *regs)
{
	int i = p - sf_hooks;
	int rc;

	if (!sf_rust_obj_wanted(sf_hook_defs[i].class))
		return 0;
	rc = sf_hook_defs[i].decide(regs);
	if (!rc)
		return 0;
	sf_arch_refuse_at_entry(regs, rc);
	return 1;
}

/* A post-handler makes kprobes arm the probe with ftrace's IPMODIFY ops,
 * which the new instruction pointer of a refusal needs; it runs only when
 * the pre-handler returned 0, and has nothing to do. */
static void sf_post_nop(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

/* Whether every kprobe of `kps` went through ftrace: only there does the
 * handler run in the task's context, and a new instruction pointer take
 * effect. */
static bool sf_all_on_ftrace(struct kprobe **kps, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!kprobe_ftrace(kps[i]))
			return false;
	return true;
}

/* Registers the hooks of the classes in `classes` not on yet, all or none.
 * -EOPNOTSUPP where kprobes do not go through ftrace (no policy with rules
 * of these classes is published yet, so for that instant the handlers
 * decline every task). */
int sf_hooks_attach(u32 classes)
{
	struct kprobe *batch[ARRAY_SIZE(sf_hook_defs)];
	u32 want = classes & ~sf_classes_on;
	int i, n = 0, err;

	if (!want)
		return 0;
	if (!sf_pathbuf) {
		sf_pathbuf = __alloc_percpu(2 * PATH_MAX, sizeof(long));
		if (!sf_pathbuf)
			return -ENOMEM;
	}
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++) {
		struct kprobe *kp = &sf_hooks[i];

		if (sf_hook_on[i] || !(sf_class_bit(i) & want))
			continue;
		/* A kprobe is registered only from a zeroed state. */
		memset(kp, 0, sizeof(*kp));
		kp->symbol_name = sf_hook_defs[i].sym;
		kp->pre_handler = sf_hook_entry;
		kp->post_handler = sf_post_nop;
		batch[n++] = kp;
	}
	err = n ? register_kprobes(batch, n) : 0;
	if (!err && !sf_all_on_ftrace(batch, n)) {
		unregister_kprobes(batch, n);
		err = -EOPNOTSUPP;
	}
	if (err) {
		if (!sf_classes_on) {
			free_percpu(sf_pathbuf);
			sf_pathbuf = NULL;
		}
		return err;
	}
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++)
		if (sf_class_bit(i) & want)
			sf_hook_on[i] = true;
	sf_classes_on |= want;
	sf_hooks_ever = true;
	return 0;
}

/* Unregisters the hooks of every class not in `keep`; waits for their
 * running handlers (one grace period for all). */
void sf_hooks_detach(u32 keep)
{
	struct kprobe *batch[ARRAY_SIZE(sf_hook_defs)];
	int i, n = 0;

	if (!(sf_classes_on & ~keep))
		return;
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++)
		if (sf_hook_on[i] && !(sf_class_bit(i) & keep))
			batch[n++] = &sf_hooks[i];
	unregister_kprobes(batch, n);
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++) {
		if (sf_hook_on[i] && !(sf_class_bit(i) & keep)) {
			sf_missed_before += sf_hooks[i].nmissed;
			sf_hook_on[i] = false;
		}
	}
	sf_classes_on &= keep;
	if (!sf_classes_on) {
		free_percpu(sf_pathbuf);
		sf_pathbuf = NULL;
	}
}

/*
 * Hooks of classes no policy names any more are removed after
 * SF_SETTLE_DELAY without being named again, not at once: a container that
 * restarts, or a policy removed and set again, does not pay a removal and
 * a registration of its hooks (each an ftrace code update) every time. A
 * hook of a class no policy names decides nothing (sf_rust_obj_wanted()).
 */
#define SF_SETTLE_DELAY (2 * HZ)

static void sf_settle_fn(struct work_struct *work)
{
	/* Serialized with the request handlers, as they are with each other;
	 * nothing once the family is fenced (module exit). */
	genl_lock();
	if (!sf_nl_fenced())
		sf_rust_hooks_settle();
	genl_unlock();
}

static DECLARE_DELAYED_WORK(sf_settle_work, sf_settle_fn);

/* After a change of the table, by a writer: hooks of classes not in `want`
 * go after the delay. */
void sf_hooks_settle_later(u32 want)
{
	if (sf_classes_on & ~want)
		mod_delayed_work(system_wq, &sf_settle_work, SF_SETTLE_DELAY);
}

/*
 * Module exit, the family fenced: no settling pending, running or queued
 * any more; every hook removed, with their running handlers waited for;
 * then no task left on its way to sf_just_return. A refused call leaves
 * the handler and returns through the ftrace trampoline into
 * sf_just_return, which is module text: on a preemptible kernel a task can
 * be preempted in between, outside any RCU read-side section, so only a
 * tasks-RCU grace period (every task through a voluntary switch, user
 * mode or idle) shows none is (as ftrace's own trampolines are freed).
 * Without CONFIG_TASKS_RCU the kernel does not preempt kernel code there.
 */
void sf_hooks_exit(void)
{
	disable_delayed_work_sync(&sf_settle_work);
	if (!sf_hooks_ever)
		return;
	sf_hooks_detach(0);
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#endif
}

/* Hits of a hooked function that kprobes skipped, filtered task or not:
 * another kprobe's handler was running on that CPU. */
u64 sf_hooks_missed(void)
{
	unsigned long n = READ_ONCE(sf_missed_before);
	int i;

	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++)
		if (READ_ONCE(sf_hook_on[i]))
			n += READ_ONCE(sf_hooks[i].nmissed);
	return n;
}

/* The kill action of an object rule: the whole process, as kill-process,
 * unconditionally (sf_force_fatal). */
void sf_obj_kill(void)
{
	sf_force_fatal(SIGKILL);
	force_sig(SIGKILL);
}

/* The syscall the current task is in (for events), and its ABI. */
long sf_current_syscall(bool *compat)
{
	*compat = sf_arch_compat();
	return syscall_get_nr(current, task_pt_regs(current));
}
