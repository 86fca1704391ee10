// SPDX-License-Identifier: GPL-2.0
/*
 * Absolute paths for the object hooks: a file's path from the root of its
 * mount namespace, whatever root the task has chosen. d_path() names files
 * from the task's root, which chroot() moves (a container's root may call
 * it, and any user may in a user namespace of its own); d_absolute_path()
 * does what is needed here but is not exported in 6.12. This is its walk,
 * kept to what the hooks need: up the dentries of each mount, across
 * mountpoints through the mount tree (struct mount, from the kernel's own
 * fs/mount.h), to the namespace's root mount.
 *
 * Context: the hooks' handlers (ftrace, preemption disabled). No sleeping,
 * no reference taken: the walk runs under RCU (dentries, names and mounts
 * are freed after a grace period), names kept outside their dentry are
 * copied with copy_from_kernel_nofault(), and a rename meanwhile
 * (rename_lock's sequence) makes it start over, at most a few times
 * before it takes the lock's reader side. A mount moved meanwhile can give
 * a stale name once: moving mounts is refused to tasks under file rules
 * (sysfence_hooks.c).
 */
#include <linux/module.h>
#include <linux/dcache.h>
#include <linux/mount.h>
#include <linux/path.h>
#include <linux/rcupdate.h>
#include <linux/seqlock.h>
#include <linux/uaccess.h>
#include <../fs/mount.h>

#include "sysfence_shim.h"

struct sf_buf {
	char *start; /* the buffer */
	char *pos;   /* what is written so far starts here */
};

/*
 * `s` inside a dentry (`inner`) is copied plainly; see sf_prepend_name().
 */
static bool sf_prepend(struct sf_buf *b, const char *s, u32 len, bool inner)
{
	if (len > b->pos - b->start)
		return false;
	b->pos -= len;
	if (inner)
		memcpy(b->pos, s, len);
	else if (copy_from_kernel_nofault(b->pos, s, len))
		memset(b->pos, 'x', len); /* a racing rename: retried */
	return true;
}

/* A '/' of our own: no fault to guard against. */
static bool sf_prepend_slash(struct sf_buf *b)
{
	if (b->pos == b->start)
		return false;
	*--b->pos = '/';
	return true;
}

/*
 * A name stored in the dentry itself (d_iname, most names: shorter than
 * DNAME_INLINE_LEN) is copied plainly: its bytes are inside the dentry,
 * which RCU keeps, and a length below DNAME_INLINE_LEN keeps the copy
 * inside them, whatever a racing rename does to the two (the rename_lock
 * sequence then makes the walk start over). Only a separately allocated
 * name, whose length read here may be a longer name's, needs the
 * fault-tolerant copy. Measured: 2 x 61 instructions of an open's path
 * walk were copy_from_kernel_nofault() (bench/profile.sh).
 */
static bool sf_prepend_name(struct sf_buf *b, const struct dentry *d)
{
	const char *name = smp_load_acquire(&d->d_name.name);
	u32 len = READ_ONCE(d->d_name.len);
	bool inner = name == (const char *)d->d_iname && len < DNAME_INLINE_LEN;

	return sf_prepend(b, name, len, inner) && sf_prepend_slash(b);
}

/* Steps (names and mount crossings) before a walk gives up: more than any
 * path PATH_MAX long can take, so only a cycle (mounts moved during the
 * walk, which mount_lock would exclude) reaches it. */
#define SF_WALK_STEPS (PATH_MAX / 2 + 64)

/*
 * 0: reached the root of a mount namespace; 1: on a kernel-internal mount
 * or a detached one (the caller names the file as d_path does); -EPERM:
 * not nameable with certainty (an anonymous namespace's tree, cloned by
 * open_tree() or made by fsmount() and not attached; a dentry outside its
 * mount; a cycle); -ENAMETOOLONG.
 */
static int sf_walk(const struct path *path, struct sf_buf *b)
{
	const struct dentry *d = path->dentry;
	const struct mount *m = real_mount(path->mnt);
	int steps = SF_WALK_STEPS;

	while (steps--) {
		const struct dentry *parent = READ_ONCE(d->d_parent);

		if (d == m->mnt.mnt_root) {
			const struct mount *up = READ_ONCE(m->mnt_parent);
			struct mnt_namespace *ns;

			if (up != m) {
				d = READ_ONCE(m->mnt_mountpoint);
				m = up;
				continue;
			}
			ns = READ_ONCE(m->mnt_ns);
			if (IS_ERR_OR_NULL(ns))
				return 1;
			return is_anon_ns(ns) ? -EPERM : 0;
		}
		if (d == parent)
			return -EPERM; /* a dentry outside its mount's tree */
		if (!sf_prepend_name(b, d))
			return -ENAMETOOLONG;
		d = parent;
	}
	return -EPERM;
}

/*
 * Writes the absolute path of `path` at the end of `buf` (`len` bytes) and
 * returns where it starts, NUL-terminated, its length in `*plen`; NULL on
 * a kernel-internal or detached mount (the caller then names it as d_path
 * does); an ERR_PTR when it cannot be named with certainty or does not
 * fit.
 */
const char *sf_absolute_path(const struct path *path, char *buf, u32 len, u32 *plen)
{
	struct sf_buf b;
	unsigned int seq = 0;
	int tries = 0, rc;

	if (len < 2)
		return ERR_PTR(-ENAMETOOLONG);
	rcu_read_lock();
	do {
		b.start = buf;
		b.pos = buf + len - 1;
		*b.pos = 0;
		if (++tries > 3) {
			read_seqlock_excl(&rename_lock);
			rc = sf_walk(path, &b);
			read_sequnlock_excl(&rename_lock);
			break;
		}
		seq = read_seqbegin(&rename_lock);
		rc = sf_walk(path, &b);
	} while (read_seqretry(&rename_lock, seq));
	rcu_read_unlock();
	if (rc < 0)
		return ERR_PTR(rc);
	if (rc)
		return NULL;
	if (b.pos == buf + len - 1) /* the root itself */
		sf_prepend_slash(&b);
	*plen = buf + len - 1 - b.pos;
	return b.pos;
}
