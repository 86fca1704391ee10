// SPDX-License-Identifier: GPL-2.0
/*
 * Policies follow their cgroup's life: when a cgroup v2 cgroup is removed
 * (rmdir, which the kernel allows only once no task and no child is left
 * in it), the kernel fires the cgroup_rmdir tracepoint. The probe hands
 * the id to Rust (release.rs), which queues it when a policy sits on that
 * cgroup; a work item then deletes the queued policies under the generic
 * netlink mutex, the lock every policy change takes.
 *
 * Removal, not release (the cgroup_release tracepoint, when the last
 * reference goes): a removed cgroup's memory controller can stay dying,
 * and keep the cgroup unreleased, for as long as page cache charged to it
 * lives, while no task can be in it or join it any more.
 *
 * Why no policy can be left behind: a request that sets a policy holds a
 * reference on the cgroup (sf_cgroup_pin) and, after publishing the new
 * table, checks that the cgroup is still online (sf_cgroup_online). rmdir
 * clears CSS_ONLINE before the probe reads the table, and a full barrier
 * on each side orders the two: either the probe sees the policy, or the
 * request sees the cgroup gone and deletes the policy itself. A full queue
 * makes the work sweep every policy instead (release.rs).
 *
 * The probe runs with interrupts off under the tracepoint's path lock
 * (TRACE_CGROUP_PATH), cgroup_mutex held: it only reads the id and queues
 * it.
 */
#include <linux/module.h>
#include <linux/tracepoint.h>
#include <linux/cgroup.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>

#include "sysfence_shim.h"

static struct tracepoint *sf_tp_release;

static void sf_find_release(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "cgroup_rmdir"))
		sf_tp_release = tp;
}

static void sf_release_fn(struct work_struct *w)
{
	genl_lock();
	sf_rust_release_pending();
	genl_unlock();
}

static DECLARE_WORK(sf_release_work, sf_release_fn);

static void sf_probe_release(void *data, struct cgroup *cgrp, const char *path)
{
	/* Only the v2 hierarchy: a v1 cgroup's id can equal a v2 one's. */
	if (cgrp->root != &cgrp_dfl_root)
		return;
	/* Orders rmdir's clearing of CSS_ONLINE before the table read, against
	 * sf_cgroup_online's side (see the top of this file). */
	smp_mb();
	if (sf_rust_cgroup_removed(cgroup_id(cgrp)))
		schedule_work(&sf_release_work);
}

/* Before the netlink family is open to requests (no policy exists yet). */
int sf_release_attach(void)
{
	for_each_kernel_tracepoint(sf_find_release, NULL);
	if (!sf_tp_release)
		return -ENOENT;
	return tracepoint_probe_register(sf_tp_release, (void *)sf_probe_release, NULL);
}

/* Module exit, before the family is fenced: no probe runs and no work is
 * queued or running when it returns. */
void sf_release_detach(void)
{
	tracepoint_probe_unregister(sf_tp_release, (void *)sf_probe_release, NULL);
	tracepoint_synchronize_unregister();
	cancel_work_sync(&sf_release_work);
}

/*
 * Takes a reference on the cgroup with this id and gives its level, or
 * returns NULL (no such cgroup, or removed).
 */
struct cgroup *sf_cgroup_pin(u64 id, int *level)
{
	struct cgroup *cgrp = cgroup_get_from_id(id);

	if (IS_ERR(cgrp))
		return NULL;
	*level = cgrp->level;
	return cgrp;
}

/* Whether a cgroup v2 cgroup with this id exists (not removed). */
bool sf_cgroup_exists(u64 id)
{
	struct cgroup *cgrp = cgroup_get_from_id(id);

	if (IS_ERR(cgrp))
		return false;
	cgroup_put(cgrp);
	return true;
}

/* Whether a pinned cgroup is still online (not removed); after a full
 * barrier, against the rmdir probe's (see the top of this file). */
bool sf_cgroup_online(struct cgroup *cgrp)
{
	smp_mb();
	return READ_ONCE(cgrp->self.flags) & CSS_ONLINE;
}

void sf_cgroup_unpin(struct cgroup *cgrp)
{
	cgroup_put(cgrp);
}
