// SPDX-License-Identifier: GPL-2.0
/*
 * sf-call32 N FROM TO MODE LEN: sf-battery's AArch32 part. An AArch64
 * process cannot enter the compat ABI, so sf-battery on arm64 runs this
 * program for its `arm` calls, in a child it has not put under the filter
 * yet, with two descriptors:
 *
 *   3  the battery's shared file: N + 1 outcome slots of 8 bytes (slot 0
 *      counts the calls done, slot I + 1 holds call I's errno, 0 for
 *      success), then N calls of 7 32-bit words (number, six arguments)
 *   4  MODE s: the seccomp BPF program (LEN bytes); MODE c: the cgroup's
 *      cgroup.procs, open for writing; MODE n: none (no filter)
 *
 * It maps the shared file, enters the filter itself (seccomp, or writing
 * "0" to cgroup.procs), then makes calls FROM..TO with `svc #0` (number
 * in r7, arguments in r0-r5), storing each outcome with plain stores (no
 * other call in between, as sf-battery's own children do), and exits 0.
 * A call that kills it leaves the count at that call. Exit codes: 200
 * when the filter could not be entered, 210 when the file could not be
 * mapped, 250 on bad arguments. If exit_group and exit are both refused it
 * executes an undefined instruction (SIGILL) after the last call.
 *
 * Freestanding (no libc: nothing else runs, not even set_tls); built with
 * clang for armv7a by scripts/build-initramfs.sh --arch arm64 into the
 * arm64 guest's /bin, beside sf-battery.
 */

#define NR_exit 1
#define NR_write 4
#define NR_mmap2 192
#define NR_exit_group 248
#define NR_seccomp 383

typedef unsigned int u32;

static long call(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	register long r7 __asm__("r7") = nr;
	register long r0 __asm__("r0") = a0;
	register long r1 __asm__("r1") = a1;
	register long r2 __asm__("r2") = a2;
	register long r3 __asm__("r3") = a3;
	register long r4 __asm__("r4") = a4;
	register long r5 __asm__("r5") = a5;

	__asm__ volatile("svc #0"
			 : "+r"(r0)
			 : "r"(r7), "r"(r1), "r"(r2), "r"(r3), "r"(r4), "r"(r5)
			 : "memory");
	return r0;
}

static int failed(long r)
{
	return r < 0 && r >= -4095;
}

/* A decimal number. */
static u32 number(const char *s)
{
	u32 v = 0;

	for (; *s; s++)
		v = v * 10 + (u32)(*s - '0');
	return v;
}

static __attribute__((noreturn)) void leave(long code)
{
	call(NR_exit_group, code, 0, 0, 0, 0, 0);
	call(NR_exit, code, 0, 0, 0, 0, 0);
	for (;;)
		__asm__ volatile("udf #0");
}

struct sock_fprog {
	unsigned short len;
	void *filter;
};

__attribute__((noreturn, used)) void sf_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	u32 n, from, to, len, size, i;
	volatile u32 *slots;
	const u32 *calls;
	long r;

	if (argc != 6)
		leave(250);
	n = number(argv[1]);
	from = number(argv[2]);
	to = number(argv[3]);
	len = number(argv[5]);
	if (from > to || to > n)
		leave(250);
	size = 8 * (n + 1) + 28 * n;
	r = call(NR_mmap2, 0, size, 3 /* PROT_READ | PROT_WRITE */, 1 /* MAP_SHARED */, 3, 0);
	if (failed(r))
		leave(210);
	slots = (volatile u32 *)r;
	calls = (const u32 *)(r + 8 * (n + 1));

	switch (argv[4][0]) {
	case 's': {
		struct sock_fprog prog;

		r = call(NR_mmap2, 0, len, 1 /* PROT_READ */, 2 /* MAP_PRIVATE */, 4, 0);
		if (failed(r))
			leave(210);
		prog.len = (unsigned short)(len / 8);
		prog.filter = (void *)r;
		/* SECCOMP_SET_MODE_FILTER; we are root, as sf-battery is. */
		if (call(NR_seccomp, 1, 0, (long)&prog, 0, 0, 0) != 0)
			leave(200);
		break;
	}
	case 'c':
		if (call(NR_write, 4, (long)"0", 1, 0, 0, 0) != 1)
			leave(200);
		break;
	case 'n':
		break;
	default:
		leave(250);
	}

	for (i = from; i < to; i++) {
		const u32 *c = calls + 7 * i;
		long code;

		r = call(c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
		code = failed(r) ? -r : 0;
		/* Slot i + 1, little-endian: the low word, the high one 0. */
		slots[2 * (i + 1)] = (u32)code;
		slots[2 * (i + 1) + 1] = 0;
		__atomic_store_n(&slots[0], i + 1, __ATOMIC_SEQ_CST);
	}
	leave(0);
}

/* The kernel starts us with sp at argc, argv[], NULL, envp[]. */
__attribute__((naked, noreturn)) void _start(void)
{
	__asm__ volatile("mov r0, sp\n\tbl sf_main\n\tudf #0");
}
