/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command numbers of the sysfence generic netlink family, for the C glue.
 * They must equal shared-abi/src/proto.rs `Cmd` (the Rust side is the
 * source of truth; the guest tests exercise every command).
 */
#ifndef SYSFENCE_SHIM_H
#define SYSFENCE_SHIM_H

/* Family version: proto.rs FAMILY_VERSION (the module refuses to load if
 * they differ). */
#define SF_FAMILY_VERSION 4

#define SF_CMD_GET_INFO 1
#define SF_CMD_POLICY_SET 2
#define SF_CMD_POLICY_DELETE 3
#define SF_CMD_POLICY_GET 4
#define SF_CMD_POLICY_DUMP 5
#define SF_CMD_STATS_GET 6
#define SF_CMD_EVENT 7
#define SF_CMD_POLICY_PROMOTE 8
#define SF_CMD_SHADOW_DISCARD 9
#define SF_CMD_SHADOW_GET 10
#define SF_CMD_POLICY_SET_BATCH 11

struct pt_regs;
struct cgroup;
struct genl_info;

/* Rust entry points (gate.rs, netlink.rs). */
void sf_rust_sys_enter(struct pt_regs *regs, long id, u64 cgid, void *cache, bool compat);
int sf_rust_doit(u8 cmd, const void *payload, u32 len, struct genl_info *info);
int sf_rust_dump_one(u64 index, void *buf, u32 cap, u32 *len);
void sf_rust_emit_event(const void *rec, u32 size);
bool sf_rust_obj_wanted(u32 class);
u64 sf_rust_levels(void);
bool sf_rust_ids_filtered(const u64 *ids, int n);
void sf_rust_exec_done(u64 cgroup_id);
int sf_rust_obj_decide(u32 class, u32 a, u32 b, u32 c, const void *data, u32 len);
bool sf_rust_cgroup_removed(u64 cgroup_id);
void sf_rust_release_pending(void);

/* C glue called from Rust (ffi.rs declares the same). */
int sf_gate_attach(void);
void sf_gate_detach(void);
struct rcu_head;
void sf_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *));
void sf_rcu_barrier(void);
int sf_current_path_ids(u64 levels, u64 *out, int cap, u64 *own);
void *sf_gate_cache_this_cpu(void);
void *sf_gate_cache_for_current(u64 *cgid);
struct cgroup *sf_cgroup_pin(u64 id, int *level);
void sf_cgroup_unpin(struct cgroup *cgrp);
bool sf_cgroup_online(struct cgroup *cgrp);
bool sf_cgroup_exists(u64 id);
int sf_release_attach(void);
void sf_release_detach(void);
void sf_rcu_read_lock(void);
void sf_rcu_read_unlock(void);
u64 sf_instruction_pointer(struct pt_regs *regs);
void sf_skip_syscall(struct pt_regs *regs, long ret);
void sf_trap(struct pt_regs *regs, int nr, bool compat, int data);
void sf_kill_process(struct pt_regs *regs, int nr, bool compat);
void sf_kill_thread(struct pt_regs *regs, int nr, bool compat);
int sf_nl_register(void);
void sf_nl_unregister(void);
int sf_nl_reply(struct genl_info *info, u8 cmd, const void *buf, u32 len);
int sf_nl_event(const void *buf, u32 len);
bool sf_ev_has_listeners(void);
int sf_ev_push(const void *rec, u32 size);
void sf_ev_drain(void);
void sf_ev_start(void);
void sf_current_task_info(u32 *pid, u32 *tid, u8 *comm, u32 comm_size);
u64 sf_ktime_ns(void);
void sf_nl_set_err(struct genl_info *info, const char *msg, u32 offset);
int sf_hooks_attach(u32 classes);
void sf_hooks_detach(u32 keep);
void sf_hooks_settle_later(u32 want);
void sf_hooks_exit(void);
bool sf_nl_fenced(void);
void sf_rust_hooks_settle(void);
u64 sf_hooks_missed(void);
void sf_obj_kill(void);
void sf_force_fatal(int sig);
long sf_current_syscall(bool *compat);
int sf_tasks_start(void);
void sf_tasks_stop(void);
void sf_flag_subtree(u64 id);
bool sf_rust_move_refused(const struct cgroup *mover, const struct cgroup *moved,
			  const struct cgroup *dst);
int sf_contain_attach(void);
void sf_contain_detach(void);
int sf_cgroup_level(const struct cgroup *cgrp);
u64 sf_cgroup_ancestor_id(const struct cgroup *cgrp, int level);
void sf_nl_open(void);
void sf_nl_fence(void);
struct kprobe;
int sf_register_early_return(struct kprobe *kp);
struct path;
const char *sf_absolute_path(const struct path *path, char *buf, u32 len, u32 *plen);

#endif
