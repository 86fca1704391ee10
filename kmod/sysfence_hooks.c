// SPDX-License-Identifier: GPL-2.0
/*
 * Object hooks: ftrace at the entry of the security_* functions, where the
 * kernel has resolved what a syscall acts on (the file opened, the program
 * executed, the socket created, the address connected or bound to). An
 * out-of-tree module cannot register as an LSM, so it decides at these
 * functions' entry and, on a refusal, returns from them at once with
 * -errno instead of running them.
 *
 * Mechanism, and why:
 * - One ftrace_ops of the module's own (FTRACE_OPS_FL_IPMODIFY, as
 *   livepatch's), whose filter holds the hooked functions: the handler
 *   runs from the function's ftrace call site (x86_64's __fentry__,
 *   arm64's patchable entry) in the task's own context, not in a
 *   breakpoint trap (NMI-like, where the path walk's locks and the event
 *   queue are not allowed, and what arm64's kprobes are). It needs
 *   CONFIG_DYNAMIC_FTRACE_WITH_ARGS (both architectures have it in 6.12):
 *   the function's arguments come from ftrace_regs, and the return
 *   address it holds is honoured. sf_hooks_attach() refuses a kernel
 *   without it (-EOPNOTSUPP).
 * - The handler first asks Rust whether the task is under a policy with
 *   object rules of the hook's class (an RCU read of the table and of the
 *   task's cgroup ids, no lock); every other task runs the function
 *   untouched. For a task under rules it resolves the object (the path
 *   from the root of the task's mount namespace into a per-CPU buffer,
 *   sysfence_path.c; the socket address is the kernel's copy), lets Rust
 *   decide, and on a refusal sets the return value and the address the
 *   call site returns to (sf_refuse_at_entry: a bare return,
 *   sf_just_return, as kernel/fail_function.c does, one per
 *   architecture), so the function's body never runs.
 *   An allowed call runs the function, whose other security modules may
 *   still refuse it.
 * - There is no return handler, so no per-call instance to run out of.
 *   Unregistering the ops waits for running handlers and for tasks on the
 *   trampoline (sf_hooks_exit()).
 * - The handler skips a hit when it is already running in the same
 *   context on that CPU (ftrace's recursion guard, which lets one nested
 *   call through while the context's bit may be in transition), or in
 *   interrupt context (counted, reported by sf_hooks_missed()); no task
 *   can cause either: the handler's own work calls none of the hooked
 *   functions, nor does the gate's (a hook on a function either reaches,
 *   security_task_kill say, would break the gate cache's sharing:
 *   gate.rs, for_each_active_here). Once the kernel has disabled ftrace
 *   after an internal failure (ftrace_kill()) the call sites keep calling the handler, but sf_ops can
 *   no longer be removed: the module then pins itself (sf_hooks_stuck()). ftrace allows one IPMODIFY ops per function: a livepatch of a
 *   hooked function, or a kprobe with a post-handler on it, makes the
 *   attach fail (-EBUSY), and the policy is refused.
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
#include <linux/ftrace.h>
#include <linux/kprobes.h>
#include <linux/trace_recursion.h>
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
static unsigned long sf_arg(struct ftrace_regs *regs, unsigned int n)
{
	return ftrace_regs_get_argument(regs, n);
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

static int sf_file_open(struct ftrace_regs *regs)
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

static int sf_bprm_check(struct ftrace_regs *regs)
{
	const struct linux_binprm *bprm = (const struct linux_binprm *)sf_arg(regs, 0);

	if (bprm->file)
		return sf_apply_path(SF_CLASS_EXEC, 0, &bprm->file->f_path);
	return sf_apply(SF_CLASS_EXEC, 0, 0, 0, "", 0);
}

static int sf_socket_create(struct ftrace_regs *regs)
{
	/* Sockets the kernel makes for itself are not the task's doing. */
	if ((int)sf_arg(regs, 3))
		return 0;
	return sf_apply(SF_CLASS_SOCKET, (u32)sf_arg(regs, 0),
			(u32)sf_arg(regs, 1) & SOCK_TYPE_MASK, (u32)sf_arg(regs, 2), NULL, 0);
}

static int sf_socket_addr(struct ftrace_regs *regs, u32 class)
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

static int sf_socket_connect(struct ftrace_regs *regs)
{
	return sf_socket_addr(regs, SF_CLASS_CONNECT);
}

static int sf_socket_bind(struct ftrace_regs *regs)
{
	return sf_socket_addr(regs, SF_CLASS_BIND);
}

/*
 * sendto/sendmsg with an address (UDP, TCP Fast Open's MSG_FASTOPEN, SCTP)
 * reach it as connect does, and are decided as a connect. The name is the
 * kernel's copy (sendmsg_copy_msghdr, __sys_sendto).
 */
static int sf_socket_sendmsg(struct ftrace_regs *regs)
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

static int sf_unix_stream_connect(struct ftrace_regs *regs)
{
	return sf_unix_peer((const struct sock *)sf_arg(regs, 1));
}

static int sf_unix_may_send(struct ftrace_regs *regs)
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

static int sf_path_link(struct ftrace_regs *regs)
{
	const struct path *dir = (const struct path *)sf_arg(regs, 1);
	struct path old = { .mnt = dir->mnt, .dentry = (struct dentry *)sf_arg(regs, 0) };
	struct path new = { .mnt = dir->mnt, .dentry = (struct dentry *)sf_arg(regs, 2) };

	return sf_apply_two(&old, &new);
}

static int sf_path_rename(struct ftrace_regs *regs)
{
	const struct path *odir = (const struct path *)sf_arg(regs, 0);
	const struct path *ndir = (const struct path *)sf_arg(regs, 2);
	struct path old = { .mnt = odir->mnt, .dentry = (struct dentry *)sf_arg(regs, 1) };
	struct path new = { .mnt = ndir->mnt, .dentry = (struct dentry *)sf_arg(regs, 3) };

	return sf_apply_two(&old, &new);
}

/* truncate(2) (and ftruncate's path check): a write of the file. */
static int sf_path_truncate(struct ftrace_regs *regs)
{
	return sf_apply_path(SF_CLASS_FILE, SF_ACCESS_WRITE,
			     (const struct path *)sf_arg(regs, 0));
}

/* ftruncate(2), and the truncation of an O_TRUNC open: a write. */
static int sf_file_truncate(struct ftrace_regs *regs)
{
	const struct file *file = (const struct file *)sf_arg(regs, 0);

	return sf_apply_path(SF_CLASS_FILE, SF_ACCESS_WRITE, &file->f_path);
}

/* unlink and rmdir take a name away from what it names: decided as a
 * write of it (and, for a directory, of every path inside it). */
static int sf_path_remove(struct ftrace_regs *regs)
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
static int sf_renames_tree(struct ftrace_regs *regs)
{
	return sf_apply(SF_CLASS_FILE, SF_ACCESS_READ | SF_ACCESS_WRITE | SF_ACCESS_TREE,
			0, 0, "/", 1);
}

static int sf_sb_mount(struct ftrace_regs *regs)
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
static int sf_sb_umount(struct ftrace_regs *regs)
{
	if (sf_arg(regs, 1) & MNT_DETACH)
		return sf_renames_tree(regs);
	return 0;
}

/* Creating a name (open with O_CREAT, mknod, mkdir, symlink) is decided
 * before it happens, as a creation of the new path. */
static int sf_path_create(struct ftrace_regs *regs)
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
	int (*decide)(struct ftrace_regs *regs);
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

#define SF_NHOOKS ARRAY_SIZE(sf_hook_defs)

/*
 * One ftrace_ops for every hook: its filter holds the functions of the
 * classes that are on, and the handler tells them apart by the address of
 * the call site it is called from (sf_hook_index). IPMODIFY: a refusal
 * changes where the function returns to (ftrace allows one such ops per
 * function). PERMANENT, as livepatch's: ftrace cannot be switched off
 * (sysctl kernel.ftrace_enabled) while the hooks are on, nor the hooks put
 * on while it is off (-EBUSY). No FTRACE_OPS_FL_RECURSION: the handler guards against
 * recursion itself, and counts what it skips.
 */
static void sf_hook_entry(unsigned long ip, unsigned long parent_ip,
			  struct ftrace_ops *op, struct ftrace_regs *regs);

static struct ftrace_ops sf_ops = {
	.func = sf_hook_entry,
	.flags = FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_PERMANENT,
};

/* The hooked functions' addresses (sf_hooks_resolve), once known. */
static unsigned long sf_hook_addr[SF_NHOOKS];
static bool sf_hook_addr_known;
/* Which hooks are in sf_ops' filter, the classes whose hooks are (bit
 * class - 1), whether sf_ops is registered. Changed by the serialized
 * writers only. */
static bool sf_hook_on[SF_NHOOKS];
static u32 sf_classes_on;
static bool sf_ops_on;
/* Some hook was registered since load: a refused call may still be on its
 * way to the arch's return stub at exit (sf_hooks_exit). */
static bool sf_hooks_ever;
/* Hits the handler skipped: it was already running in that context. */
static atomic_long_t sf_missed;

static u32 sf_class_bit(int i)
{
	return 1u << (sf_hook_defs[i].class - 1);
}

/*
 * The call site ftrace reports is the function's patched instruction:
 * its address (arm64), or a few bytes in, after an ENDBR (x86_64) or a
 * BTI (arm64). Every hooked function is far longer than that.
 */
#define SF_SITE_SLACK 16

static int sf_hook_index(unsigned long ip)
{
	int i;

	for (i = 0; i < SF_NHOOKS; i++)
		if (ip - sf_hook_addr[i] < SF_SITE_SLACK)
			return i;
	return -1;
}

/*
 * Every hooked function's entry (ftrace context: the task's own). Tasks
 * under no rule of the hook's class run the function untouched; for the
 * others the object is decided here (preemption disabled by the recursion
 * guard), and a refusal returns -errno at once without running the
 * function.
 */
/* The hooked function returns `ret` to its caller without running its
 * body: the return value, and the address ftrace's trampoline returns to. */
static __always_inline void sf_refuse_at_entry(struct ftrace_regs *fregs, long ret)
{
	ftrace_regs_set_return_value(fregs, ret);
	ftrace_regs_set_instruction_pointer(fregs, (unsigned long)sf_just_return);
}

static void notrace sf_hook_entry(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *op, struct ftrace_regs *regs)
{
	int bit = ftrace_test_recursion_trylock(ip, parent_ip);
	int i, rc;

	/* No hooked function runs in interrupt context on a task's behalf;
	 * if one did, it would share the per-CPU path buffer with the task's
	 * decision it interrupted: skipped, and counted. */
	if (bit < 0 || !in_task()) {
		if (bit >= 0)
			ftrace_test_recursion_unlock(bit);
		atomic_long_inc(&sf_missed);
		return;
	}
	i = sf_hook_index(ip);
	if (i >= 0 && sf_rust_obj_wanted(sf_hook_defs[i].class)) {
		rc = sf_hook_defs[i].decide(regs);
		if (rc)
			sf_refuse_at_entry(regs, rc);
	}
	ftrace_test_recursion_unlock(bit);
}

/*
 * The hooked functions' addresses. kallsyms_lookup_name() is not
 * exported to modules; registering a kprobe resolves its symbol_name the
 * same way, and a disabled one is never armed (no code is patched). One
 * RCU grace period for the batch's removal.
 */
static int sf_hooks_resolve(void)
{
	struct kprobe *kps, *batch[SF_NHOOKS];
	int i, err;

	kps = kcalloc(SF_NHOOKS, sizeof(*kps), GFP_KERNEL);
	if (!kps)
		return -ENOMEM;
	for (i = 0; i < SF_NHOOKS; i++) {
		kps[i].symbol_name = sf_hook_defs[i].sym;
		kps[i].flags = KPROBE_FLAG_DISABLED;
		batch[i] = &kps[i];
	}
	err = register_kprobes(batch, SF_NHOOKS);
	if (!err) {
		for (i = 0; i < SF_NHOOKS; i++)
			sf_hook_addr[i] = (unsigned long)kps[i].addr;
		unregister_kprobes(batch, SF_NHOOKS);
		sf_hook_addr_known = true;
	}
	kfree(kps);
	return err;
}

/* The addresses of the hooks of `classes` whose on-state is `on`, into
 * `ips`; how many. */
static int sf_hook_ips(u32 classes, bool on, unsigned long *ips)
{
	int i, n = 0;

	for (i = 0; i < SF_NHOOKS; i++)
		if ((sf_class_bit(i) & classes) && sf_hook_on[i] == on)
			ips[n++] = sf_hook_addr[i];
	return n;
}

static void sf_hooks_mark(u32 classes, bool on)
{
	int i;

	for (i = 0; i < SF_NHOOKS; i++)
		if (sf_class_bit(i) & classes)
			sf_hook_on[i] = on;
}

/* Adds the functions `ips` to sf_ops' filter, registering it if it is
 * not: all or none (one code update either way). An unregistered sf_ops'
 * filter still holds the functions it had: replaced, not added to. */
static int sf_ops_add(unsigned long *ips, int n)
{
	int err = ftrace_set_filter_ips(&sf_ops, ips, n, 0, !sf_ops_on);

	if (err || sf_ops_on)
		return err;
	err = register_ftrace_function(&sf_ops);
	if (!err)
		sf_ops_on = true;
	return err;
}

/* Registers the hooks of the classes in `classes` not on yet, all or none.
 * -EOPNOTSUPP where ftrace cannot give the handler the function's
 * arguments (no policy with rules of these classes is published yet, so
 * for that instant the handler declines every task). */
int sf_hooks_attach(u32 classes)
{
	unsigned long ips[SF_NHOOKS];
	u32 want = classes & ~sf_classes_on;
	int err;

	if (!want)
		return 0;
	if (!IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_ARGS))
		return -EOPNOTSUPP;
	if (!sf_hook_addr_known) {
		err = sf_hooks_resolve();
		if (err)
			return err;
	}
	if (!sf_pathbuf) {
		sf_pathbuf = __alloc_percpu(2 * PATH_MAX, sizeof(long));
		if (!sf_pathbuf)
			return -ENOMEM;
	}
	err = sf_ops_add(ips, sf_hook_ips(want, false, ips));
	if (err) {
		if (!sf_classes_on) {
			/* A failed registration unlinks sf_ops without waiting:
			 * a handler may still run on another CPU (preemption
			 * disabled, declining: no policy names these classes). */
			synchronize_rcu();
			free_percpu(sf_pathbuf);
			sf_pathbuf = NULL;
		}
		return err;
	}
	sf_hooks_mark(want, true);
	sf_classes_on |= want;
	sf_hooks_ever = true;
	return 0;
}

/*
 * ftrace would not unregister sf_ops (it refuses every change once it has
 * disabled itself after an internal failure, ftrace_kill(), and the call
 * sites still reach the handler): the module must never go, or they would
 * call freed text. Pinned while it is live; at exit it is too late, and
 * the kernel log says so.
 */
static void sf_hooks_stuck(int err)
{
	if (module_is_live(THIS_MODULE)) {
		__module_get(THIS_MODULE);
		pr_err("sysfence: ftrace refused to remove the object hooks (%d): the module stays loaded\n", err);
	} else {
		pr_crit("sysfence: ftrace refused to remove the object hooks (%d) while the module goes\n", err);
	}
}

/* Removes the hooks of every class not in `keep`; once none is left,
 * unregisters sf_ops, which waits for running handlers. A removal ftrace
 * refuses leaves the hooks on (they decide nothing for classes no policy
 * names) for the next settle to try again. */
void sf_hooks_detach(u32 keep)
{
	unsigned long ips[SF_NHOOKS];
	u32 drop = sf_classes_on & ~keep;
	int err;

	if (!drop)
		return;
	if (sf_classes_on & keep) {
		if (ftrace_set_filter_ips(&sf_ops, ips, sf_hook_ips(drop, true, ips), 1, 0))
			return;
	} else {
		err = unregister_ftrace_function(&sf_ops);
		if (err) {
			sf_hooks_stuck(err);
			return;
		}
		sf_ops_on = false;
	}
	sf_hooks_mark(drop, false);
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
 * any more; every hook removed. Unregistering sf_ops waits, as for every
 * ftrace_ops of a module (ftrace_shutdown()), for running handlers (a
 * sched-RCU grace period on every CPU) and then for a tasks-RCU grace
 * period (every task through a voluntary switch, user mode or idle): a
 * refused call that left the handler and is on its way through the
 * trampoline to the arch's return stub (module text on x86_64) is past it
 * by then. Hooks removed earlier were waited for in the same way.
 */
void sf_hooks_exit(void)
{
	disable_delayed_work_sync(&sf_settle_work);
	if (sf_hooks_ever)
		sf_hooks_detach(0);
	/* The filter's memory; sf_ops is never used again. */
	if (IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_ARGS))
		ftrace_free_filter(&sf_ops);
}

/* Hits of a hooked function the handler skipped, filtered task or not:
 * it was already running in the same context on that CPU (ftrace's
 * recursion guard, past the one nested call it lets through; the hooked
 * functions do not call each other), or an interrupt was running. */
u64 sf_hooks_missed(void)
{
	return atomic_long_read(&sf_missed);
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
