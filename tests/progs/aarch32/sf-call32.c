// SPDX-License-Identifier: GPL-2.0
/*
 * sf-call32 NR A0 A1 A2 A3 A4 A5: one raw AArch32 (`arm` ABI) system call,
 * `svc #0` with NR in r7 and the arguments in r0-r5 (each a number, 0x
 * for hex), as the first and only call this program makes; then it exits
 * with the call's errno (0 on success, 199 at most: sf-battery's
 * convention) through exit_group, or exit if that was refused. If both are
 * refused it executes an undefined instruction (SIGILL), so that the
 * caller never takes a refused exit for an outcome.
 *
 * An AArch64 process cannot enter the compat ABI, so sf-battery on arm64
 * makes its `arm` calls by running this program in a child that is
 * already under the filter. Freestanding (no libc: nothing runs before the
 * call, not even set_tls); built with clang for armv7a by
 * scripts/build-initramfs.sh --arch arm64 into the arm64 guest's /bin.
 */

#define NR_exit 1
#define NR_exit_group 248

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

/* A decimal or 0x-prefixed hexadecimal number, modulo 2^32; -1 allowed. */
static unsigned long number(const char *s)
{
	unsigned long v = 0;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (s += 2; *s; s++) {
			char c = *s;
			v = v * 16 + (c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
		}
	} else {
		for (; *s; s++)
			v = v * 10 + (*s - '0');
	}
	return neg ? -v : v;
}

__attribute__((noreturn, used)) void sf_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	unsigned long a[7] = { 0 };
	long r, code = 250; /* usage: not NR and six arguments */

	if (argc == 8) {
		for (int i = 0; i < 7; i++)
			a[i] = number(argv[i + 1]);
		r = call(a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
		code = (r < 0 && r >= -4095) ? (-r > 199 ? 199 : -r) : 0;
	}
	call(NR_exit_group, code, 0, 0, 0, 0, 0);
	call(NR_exit, code, 0, 0, 0, 0, 0);
	for (;;)
		__asm__ volatile("udf #0");
}

/* The kernel starts us with sp at argc, argv[], NULL, envp[]. */
__attribute__((naked, noreturn)) void _start(void)
{
	__asm__ volatile("mov r0, sp\n\tbl sf_main\n\tudf #0");
}
