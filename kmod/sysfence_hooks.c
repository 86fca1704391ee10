// SPDX-License-Identifier: GPL-2.0
/*
 * Object hooks: kretprobes on the security_* functions where the kernel has
 * resolved what a syscall acts on (the file opened, the program executed,
 * the socket created, the address connected or bound to). An out-of-tree
 * module cannot register as an LSM, so it overrides these functions' return
 * value instead.
 *
 * Mechanism, and why:
 * - The entry handler runs in the kprobe's int3 context (NMI-like): it only
 *   asks Rust whether the task is under a policy with object rules (an RCU
 *   read of the table and of the task's cgroup ids, no lock) and saves the
 *   arguments. For every other task it returns non-zero, so no return
 *   instance is used and the function runs untouched.
 * - The return handler runs in the task's context with preemption disabled
 *   (the rethook trampoline), after the function's own checks: there it
 *   resolves the object (d_path into a per-CPU buffer; the socket address is
 *   the kernel's copy), lets Rust decide, and on a refusal replaces a 0
 *   return value with -errno. A refusal by another security module is
 *   never turned into success.
 * - Nothing here returns into module text after unregistration:
 *   unregister_kretprobes() waits for running handlers, and pending return
 *   instances of tasks still inside a hooked function find the handler
 *   gone (rethook_free) and return straight to their caller.
 * - Hooks are registered while some policy has object rules and removed
 *   when none has, so hosts without object rules pay nothing.
 * - No call runs unchecked for want of a return instance: beside each
 *   kretprobe sits a plain kprobe on the same function (its guard),
 *   registered first so that it runs after the kretprobe's own
 *   pre-handler. When the task holds no return instance for this call and
 *   is under object rules, the guard refuses the call (-EPERM, counted in
 *   sf_hooks_missed()) by returning from the function at once, as
 *   kernel/fail_function.c does (sf_register_early_return()).
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
#include <net/af_unix.h>
#include <asm/text-patching.h>
#include <linux/rethook.h>

#include "sysfence_shim.h"

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

/* Return instances per hook: tasks of filtered cgroups inside one hooked
 * function at the same moment. Beyond this a call is refused, and counted
 * in sf_hooks_missed(). A module parameter so that a test can make the
 * pool small enough to run dry. */
static unsigned int sf_hook_instances = 1024;
module_param_named(hook_instances, sf_hook_instances, uint, 0444);
MODULE_PARM_DESC(hook_instances,
		 "object-hook calls of filtered tasks in flight at once, per hooked function, 1-65536 (default 1024); beyond, calls are refused");

struct sf_args {
	unsigned long a0, a1, a2, a3, a4;
};

/* Calls refused because no return instance was free. */
static atomic64_t sf_refused_no_instance;

/* Two PATH_MAX buffers per CPU: a link or rename has two paths. */
static char __percpu *sf_pathbuf;

static int sf_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;

	if (!sf_rust_obj_wanted())
		return 1;
	s->a0 = regs->di;
	s->a1 = regs->si;
	s->a2 = regs->dx;
	s->a3 = regs->cx;
	s->a4 = regs->r8;
	return 0;
}

/* A post-handler keeps a kprobe from being optimized into a jump, which
 * would ignore the new instruction pointer (as kernel/fail_function.c). */
static void sf_post_nop(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

/* Rust's verdict for an object, applied to the function's return value. */
static void sf_apply(struct pt_regs *regs, u32 class, u32 a, u32 b, u32 c,
		     const void *data, u32 len)
{
	int rc;

	if (regs_return_value(regs) != 0)
		return;
	rc = sf_rust_obj_decide(class, a, b, c, data, len);
	if (rc)
		regs_set_return_value(regs, rc);
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
	const char *p = sf_absolute_path(path, buf, PATH_MAX);

	if (IS_ERR(p))
		return NULL;
	if (!p)
		p = d_path(path, buf, PATH_MAX);
	if (IS_ERR(p))
		return NULL;
	*len = strlen(p);
	return p;
}

/* A call on a file that cannot be named is refused (to tasks under object
 * rules: the hooks run for no one else). */
static void sf_unnamed(struct pt_regs *regs)
{
	if (regs_return_value(regs) == 0)
		regs_set_return_value(regs, -EPERM);
}

static const char *sf_path(const struct path *path, u32 *len)
{
	return sf_path_in(path, len, 0);
}

/* Decides `path` as an object of `class` with `access`; a file that cannot
 * be named is refused. */
static void sf_apply_path(struct pt_regs *regs, u32 class, u32 access,
			  const struct path *path)
{
	u32 len = 0;
	const char *p = sf_path(path, &len);

	if (!p)
		sf_unnamed(regs);
	else
		sf_apply(regs, class, access, 0, 0, p, len);
}

static int sf_ret_file_open(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	struct file *file = (struct file *)s->a0;
	u32 access = 0;

	if (file->f_mode & FMODE_READ)
		access |= SF_ACCESS_READ;
	/* O_TRUNC empties the file even on a read-only open. */
	if ((file->f_mode & FMODE_WRITE) || (file->f_flags & O_TRUNC))
		access |= SF_ACCESS_WRITE;
	if (file->f_mode & FMODE_CREATED)
		access |= SF_ACCESS_CREATE;
	sf_apply_path(regs, SF_CLASS_FILE, access, &file->f_path);
	return 0;
}

static int sf_ret_bprm_check(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	struct linux_binprm *bprm = (struct linux_binprm *)s->a0;
	if (bprm->file)
		sf_apply_path(regs, SF_CLASS_EXEC, 0, &bprm->file->f_path);
	else
		sf_apply(regs, SF_CLASS_EXEC, 0, 0, 0, "", 0);
	return 0;
}

static int sf_ret_socket_create(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;

	/* Sockets the kernel makes for itself are not the task's doing. */
	if ((int)s->a3)
		return 0;
	sf_apply(regs, SF_CLASS_SOCKET, (u32)s->a0, (u32)s->a1 & SOCK_TYPE_MASK,
		 (u32)s->a2, NULL, 0);
	return 0;
}

static int sf_ret_socket_addr(struct kretprobe_instance *ri, struct pt_regs *regs,
			      u32 class)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	int addrlen = (int)s->a2;

	/* The address is the kernel's copy (move_addr_to_kernel). */
	if (addrlen < 0 || addrlen > sizeof(struct sockaddr_storage))
		addrlen = 0;
	/* A Unix name is decided on the socket it reaches (sf_ret_unix_*),
	 * whatever string named it; binding one creates a file (mknod). */
	if (class == SF_CLASS_CONNECT && addrlen >= sizeof(sa_family_t) &&
	    ((const struct sockaddr *)s->a1)->sa_family == AF_UNIX)
		return 0;
	sf_apply(regs, class, 0, 0, 0, (const void *)s->a1, addrlen);
	return 0;
}

/*
 * sendto/sendmsg with an address (UDP, TCP Fast Open's MSG_FASTOPEN, SCTP)
 * reach it as connect does, and are decided as a connect. The name is the
 * kernel's copy (sendmsg_copy_msghdr, __sys_sendto).
 */
static int sf_ret_socket_sendmsg(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	const struct msghdr *msg = (const struct msghdr *)s->a1;
	int len = msg->msg_namelen;

	if (!msg->msg_name || len < (int)sizeof(sa_family_t) ||
	    len > sizeof(struct sockaddr_storage))
		return 0;
	if (((const struct sockaddr *)msg->msg_name)->sa_family == AF_UNIX)
		return 0;
	sf_apply(regs, SF_CLASS_CONNECT, 0, 0, 0, msg->msg_name, len);
	return 0;
}

/*
 * A Unix socket reached (stream or seqpacket connect, datagram connect or
 * send): decided as a connect to the name the peer is bound to, resolved
 * as file paths are (so `//`, `.`, `..`, symlinks, relative names and
 * renames all give the one name), or its abstract name as `\0name`.
 */
static void sf_unix_peer(struct pt_regs *regs, const struct sock *other)
{
	const struct unix_sock *u = unix_sk(other);
	const struct unix_address *addr = smp_load_acquire(&u->addr);
	char *out = this_cpu_ptr(sf_pathbuf) + PATH_MAX;
	u32 len = 0;

	if (!addr || addr->len <= offsetof(struct sockaddr_un, sun_path))
		return; /* an unbound peer (socketpair): nothing named */
	if (u->path.dentry) {
		const char *p = sf_path_in(&u->path, &len, 0);

		if (!p) {
			sf_unnamed(regs);
			return;
		}
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
	sf_apply(regs, SF_CLASS_CONNECT, 0, 0, 0, out, len);
}

static int sf_ret_unix_stream_connect(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;

	sf_unix_peer(regs, (const struct sock *)s->a1);
	return 0;
}

static int sf_ret_unix_may_send(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	const struct socket *other = (const struct socket *)s->a1;

	if (other && other->sk)
		sf_unix_peer(regs, other->sk);
	return 0;
}

static int sf_ret_socket_connect(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return sf_ret_socket_addr(ri, regs, SF_CLASS_CONNECT);
}

static int sf_ret_socket_bind(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return sf_ret_socket_addr(ri, regs, SF_CLASS_BIND);
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
static void sf_apply_two(struct pt_regs *regs, const struct path *old,
			 const struct path *new)
{
	u32 olen = 0, nlen = 0, nacc = SF_ACCESS_CREATE;
	const char *o, *n;
	int rc;

	if (regs_return_value(regs) != 0)
		return;
	if (d_really_is_positive(new->dentry))
		nacc |= sf_moved(new->dentry);
	o = sf_path_in(old, &olen, 0);
	n = sf_path_in(new, &nlen, 1);
	if (!o || !n) {
		sf_unnamed(regs);
		return;
	}
	rc = sf_rust_obj_decide(SF_CLASS_FILE, sf_moved(old->dentry), 0, 0, o, olen);
	if (!rc)
		rc = sf_rust_obj_decide(SF_CLASS_FILE, nacc, 0, 0, n, nlen);
	if (rc)
		regs_set_return_value(regs, rc);
}

static int sf_ret_path_link(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	const struct path *dir = (const struct path *)s->a1;
	struct path old = { .mnt = dir->mnt, .dentry = (struct dentry *)s->a0 };
	struct path new = { .mnt = dir->mnt, .dentry = (struct dentry *)s->a2 };

	sf_apply_two(regs, &old, &new);
	return 0;
}

static int sf_ret_path_rename(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	const struct path *odir = (const struct path *)s->a0;
	const struct path *ndir = (const struct path *)s->a2;
	struct path old = { .mnt = odir->mnt, .dentry = (struct dentry *)s->a1 };
	struct path new = { .mnt = ndir->mnt, .dentry = (struct dentry *)s->a3 };

	sf_apply_two(regs, &old, &new);
	return 0;
}

/* truncate(2) (and ftruncate's path check): a write of the file. */
static int sf_ret_path_truncate(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	sf_apply_path(regs, SF_CLASS_FILE, SF_ACCESS_WRITE, (const struct path *)s->a0);
	return 0;
}

/* ftruncate(2), and the truncation of an O_TRUNC open: a write. */
static int sf_ret_file_truncate(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	sf_apply_path(regs, SF_CLASS_FILE, SF_ACCESS_WRITE, &((struct file *)s->a0)->f_path);
	return 0;
}

/* unlink and rmdir take a name away from what it names: decided as a
 * write of it (and, for a directory, of every path inside it). */
static int sf_ret_path_remove(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	const struct path *dir = (const struct path *)s->a0;
	struct path victim = { .mnt = dir->mnt, .dentry = (struct dentry *)s->a1 };
	u32 access = SF_ACCESS_WRITE | (d_is_dir(victim.dentry) ? SF_ACCESS_TREE : 0);

	sf_apply_path(regs, SF_CLASS_FILE, access, &victim);
	return 0;
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
static int sf_ret_renames_tree(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	sf_apply(regs, SF_CLASS_FILE, SF_ACCESS_READ | SF_ACCESS_WRITE | SF_ACCESS_TREE,
		 0, 0, "/", 1);
	return 0;
}

static int sf_ret_sb_mount(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	unsigned long flags = s->a3;

	/* In path_mount()'s order: remount, bind, propagation, move, new. */
	if (flags & MS_REMOUNT)
		return 0;
	if (!(flags & MS_BIND) &&
	    (flags & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)))
		return 0;
	return sf_ret_renames_tree(ri, regs);
}

/* umount with MNT_DETACH leaves the tree reachable through open files and
 * directories, named from its own root. */
static int sf_ret_sb_umount(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;

	if (s->a1 & MNT_DETACH)
		return sf_ret_renames_tree(ri, regs);
	return 0;
}

/* Creating a name (open with O_CREAT, mknod, mkdir, symlink) is decided
 * before it happens, as a creation of the new path. */
static int sf_ret_path_create(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	const struct path *dir = (const struct path *)s->a0;
	struct path new = { .mnt = dir->mnt, .dentry = (struct dentry *)s->a1 };
	sf_apply_path(regs, SF_CLASS_FILE, SF_ACCESS_CREATE, &new);
	return 0;
}

/* The hooked functions and their return handlers. */
static const struct {
	const char *sym;
	kretprobe_handler_t handler;
} sf_hook_defs[] = {
	{ "security_file_open", sf_ret_file_open },
	{ "security_bprm_check", sf_ret_bprm_check },
	{ "security_socket_create", sf_ret_socket_create },
	{ "security_socket_connect", sf_ret_socket_connect },
	{ "security_socket_bind", sf_ret_socket_bind },
	{ "security_path_link", sf_ret_path_link },
	{ "security_path_rename", sf_ret_path_rename },
	{ "security_path_mknod", sf_ret_path_create },
	{ "security_path_mkdir", sf_ret_path_create },
	{ "security_path_symlink", sf_ret_path_create },
	{ "security_path_truncate", sf_ret_path_truncate },
	{ "security_file_truncate", sf_ret_file_truncate },
	{ "security_path_unlink", sf_ret_path_remove },
	{ "security_path_rmdir", sf_ret_path_remove },
	{ "security_socket_sendmsg", sf_ret_socket_sendmsg },
	{ "security_unix_stream_connect", sf_ret_unix_stream_connect },
	{ "security_unix_may_send", sf_ret_unix_may_send },
	{ "security_sb_mount", sf_ret_sb_mount },
	{ "security_sb_umount", sf_ret_sb_umount },
	{ "security_sb_pivotroot", sf_ret_renames_tree },
	{ "security_move_mount", sf_ret_renames_tree },
};

static struct kretprobe sf_hooks[ARRAY_SIZE(sf_hook_defs)];
static struct kretprobe *sf_hook_ptrs[ARRAY_SIZE(sf_hooks)];
static struct kprobe sf_guards[ARRAY_SIZE(sf_hook_defs)];
static struct kprobe *sf_guard_ptrs[ARRAY_SIZE(sf_hook_defs)];

/*
 * Whether the kretprobe of this guard holds a return instance for this
 * very call: rethook_hook() pushed its node on the task's list, with the
 * stack pointer at the function's entry as its frame (the kretprobe's
 * pre-handler runs before the guard's, at the same entry or, on an
 * ftrace-based kretprobe, just before it).
 */
static bool sf_has_instance(const struct kprobe *guard, const struct pt_regs *regs)
{
	const struct kretprobe *rp = &sf_hooks[guard - sf_guards];
	const struct llist_node *n = READ_ONCE(current->rethooks.first);
	const struct rethook_node *rhn;

	if (!n)
		return false;
	rhn = container_of(n, struct rethook_node, llist);
	return rhn->rethook == rp->rh && rhn->frame == regs->sp;
}

/*
 * The plain kprobe beside each kretprobe (its guard). If the kretprobe
 * found no free instance, nothing would check this call: a task under
 * object rules then gets -EPERM, the function returning at once (int3
 * context: lock-free checks only).
 */
static int sf_fail_closed(struct kprobe *p, struct pt_regs *regs)
{
	if (sf_has_instance(p, regs) || !sf_rust_obj_wanted())
		return 0;
	atomic64_inc(&sf_refused_no_instance);
	regs->ax = -EPERM;
	int3_emulate_ret(regs);
	return 1;
}

static bool sf_hooks_on;
static unsigned long sf_missed_before;

int sf_hooks_attach(void)
{
	int i, err;

	if (sf_hooks_on)
		return 0;
	if (sf_hook_instances < 1 || sf_hook_instances > 65536)
		return -EINVAL;
	sf_pathbuf = __alloc_percpu(2 * PATH_MAX, sizeof(long));
	if (!sf_pathbuf)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++) {
		struct kretprobe *rp = &sf_hooks[i];
		struct kprobe *g = &sf_guards[i];

		memset(g, 0, sizeof(*g));
		g->symbol_name = sf_hook_defs[i].sym;
		g->pre_handler = sf_fail_closed;
		g->post_handler = sf_post_nop;
		sf_guard_ptrs[i] = g;

		/* A kretprobe is registered only from a zeroed state. */
		memset(rp, 0, sizeof(*rp));
		rp->kp.symbol_name = sf_hook_defs[i].sym;
		rp->entry_handler = sf_entry;
		rp->handler = sf_hook_defs[i].handler;
		rp->data_size = sizeof(struct sf_args);
		rp->maxactive = sf_hook_instances;
		sf_hook_ptrs[i] = rp;
	}
	/* The guards first: a kprobe's handlers run newest first. */
	for (i = 0; i < ARRAY_SIZE(sf_guards); i++) {
		err = sf_register_early_return(&sf_guards[i]);
		if (err) {
			while (i--)
				unregister_kprobe(&sf_guards[i]);
			free_percpu(sf_pathbuf);
			sf_pathbuf = NULL;
			return err;
		}
	}
	err = register_kretprobes(sf_hook_ptrs, ARRAY_SIZE(sf_hooks));
	if (err) {
		unregister_kprobes(sf_guard_ptrs, ARRAY_SIZE(sf_guards));
		free_percpu(sf_pathbuf);
		sf_pathbuf = NULL;
		return err;
	}
	sf_hooks_on = true;
	return 0;
}

void sf_hooks_detach(void)
{
	int i;

	if (!sf_hooks_on)
		return;
	/* Waits for running handlers; pending instances skip the handler. */
	/* The guards first: alone, they would take every hit for one that
	 * found no instance. */
	/* One grace period for all (unregister_kprobes), not one each. */
	unregister_kprobes(sf_guard_ptrs, ARRAY_SIZE(sf_guards));
	unregister_kretprobes(sf_hook_ptrs, ARRAY_SIZE(sf_hooks));
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++)
		sf_missed_before += sf_hooks[i].nmissed;
	free_percpu(sf_pathbuf);
	sf_pathbuf = NULL;
	sf_hooks_on = false;
}

/* Calls refused because every return instance of a hook was in use (the
 * kretprobes' own count includes tasks under no policy, which run on). */
u64 sf_hooks_missed(void)
{
	return atomic64_read(&sf_refused_no_instance);
}

/* Hits of a hooked function that found no free return instance, filtered
 * task or not. */
u64 sf_hooks_no_instance(void)
{
	unsigned long n = sf_missed_before;
	int i;

	if (sf_hooks_on)
		for (i = 0; i < ARRAY_SIZE(sf_hooks); i++)
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
long sf_current_syscall(bool *ia32)
{
	*ia32 = in_ia32_syscall();
	return task_pt_regs(current)->orig_ax;
}
