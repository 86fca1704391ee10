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
 */
#include <linux/module.h>
#include <linux/kprobes.h>
#include <linux/fs.h>
#include <linux/dcache.h>
#include <linux/binfmts.h>
#include <linux/net.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>

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

/* Return instances per hook: tasks of filtered cgroups inside one hooked
 * function at the same moment. Beyond this a call is not checked, and is
 * counted in sf_hooks_missed(). */
#define SF_MAXACTIVE 1024

struct sf_args {
	unsigned long a0, a1, a2, a3;
};

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
	return 0;
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

/* The resolved path of `path` (in the task's root) and its length; an
 * unnamed file (d_path fails) is "". `slot` (0 or 1) picks the per-CPU
 * buffer. */
static const char *sf_path_in(const struct path *path, u32 *len, int slot)
{
	char *buf = this_cpu_ptr(sf_pathbuf) + slot * PATH_MAX;
	char *p = d_path(path, buf, PATH_MAX);

	if (IS_ERR(p)) {
		*len = 0;
		return "";
	}
	*len = strlen(p);
	return p;
}

static const char *sf_path(const struct path *path, u32 *len)
{
	return sf_path_in(path, len, 0);
}

static int sf_ret_file_open(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	struct file *file = (struct file *)s->a0;
	u32 access = 0, len = 0;
	const char *p;

	if (file->f_mode & FMODE_READ)
		access |= SF_ACCESS_READ;
	if (file->f_mode & FMODE_WRITE)
		access |= SF_ACCESS_WRITE;
	if (file->f_mode & FMODE_CREATED)
		access |= SF_ACCESS_CREATE;
	p = sf_path(&file->f_path, &len);
	sf_apply(regs, SF_CLASS_FILE, access, 0, 0, p, len);
	return 0;
}

static int sf_ret_bprm_check(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	struct linux_binprm *bprm = (struct linux_binprm *)s->a0;
	u32 len = 0;
	const char *p = bprm->file ? sf_path(&bprm->file->f_path, &len) : "";

	sf_apply(regs, SF_CLASS_EXEC, 0, 0, 0, p, len);
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
	sf_apply(regs, class, 0, 0, 0, (const void *)s->a1, addrlen);
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

/*
 * A new name for a file (link) or a move (rename) would let a path rule be
 * dodged: the old name is decided as a read and write of the file, the new
 * one as a creation, and either refusal refuses the operation.
 */
static void sf_apply_two(struct pt_regs *regs, const struct path *old,
			 const struct path *new)
{
	u32 olen = 0, nlen = 0;
	const char *o, *n;
	int rc;

	if (regs_return_value(regs) != 0)
		return;
	o = sf_path_in(old, &olen, 0);
	n = sf_path_in(new, &nlen, 1);
	rc = sf_rust_obj_decide(SF_CLASS_FILE, SF_ACCESS_READ | SF_ACCESS_WRITE,
				0, 0, o, olen);
	if (!rc)
		rc = sf_rust_obj_decide(SF_CLASS_FILE, SF_ACCESS_CREATE, 0, 0, n, nlen);
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

/* Creating a name (open with O_CREAT, mknod, mkdir, symlink) is decided
 * before it happens, as a creation of the new path. */
static int sf_ret_path_create(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct sf_args *s = (struct sf_args *)ri->data;
	const struct path *dir = (const struct path *)s->a0;
	struct path new = { .mnt = dir->mnt, .dentry = (struct dentry *)s->a1 };
	u32 len = 0;
	const char *p = sf_path(&new, &len);

	sf_apply(regs, SF_CLASS_FILE, SF_ACCESS_CREATE, 0, 0, p, len);
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
};

static struct kretprobe sf_hooks[ARRAY_SIZE(sf_hook_defs)];
static struct kretprobe *sf_hook_ptrs[ARRAY_SIZE(sf_hooks)];
static bool sf_hooks_on;
static unsigned long sf_missed_before;

int sf_hooks_attach(void)
{
	int i, err;

	if (sf_hooks_on)
		return 0;
	sf_pathbuf = __alloc_percpu(2 * PATH_MAX, sizeof(long));
	if (!sf_pathbuf)
		return -ENOMEM;
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++) {
		struct kretprobe *rp = &sf_hooks[i];

		/* A kretprobe is registered only from a zeroed state. */
		memset(rp, 0, sizeof(*rp));
		rp->kp.symbol_name = sf_hook_defs[i].sym;
		rp->entry_handler = sf_entry;
		rp->handler = sf_hook_defs[i].handler;
		rp->data_size = sizeof(struct sf_args);
		rp->maxactive = SF_MAXACTIVE;
		sf_hook_ptrs[i] = rp;
	}
	err = register_kretprobes(sf_hook_ptrs, ARRAY_SIZE(sf_hooks));
	if (err) {
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
	unregister_kretprobes(sf_hook_ptrs, ARRAY_SIZE(sf_hooks));
	for (i = 0; i < ARRAY_SIZE(sf_hooks); i++)
		sf_missed_before += sf_hooks[i].nmissed;
	free_percpu(sf_pathbuf);
	sf_pathbuf = NULL;
	sf_hooks_on = false;
}

/* Calls not checked because every return instance of a hook was in use. */
u64 sf_hooks_missed(void)
{
	unsigned long n = sf_missed_before;
	int i;

	if (sf_hooks_on)
		for (i = 0; i < ARRAY_SIZE(sf_hooks); i++)
			n += READ_ONCE(sf_hooks[i].nmissed);
	return n;
}

/* The kill action of an object rule: the whole process, as kill-process. */
void sf_obj_kill(void)
{
	force_sig(SIGKILL);
}

/* The syscall the current task is in (for events), and its ABI. */
long sf_current_syscall(bool *ia32)
{
	*ia32 = in_ia32_syscall();
	return task_pt_regs(current)->orig_ax;
}
