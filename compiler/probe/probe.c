/*
 * hardspec probe: a tiny, libc-free, static program that the verifier
 * bind-mounts read-only into a container and runs with `docker exec`, so that
 * a hardening check is observed from the container's own point of view (its
 * user, capabilities, no-new-privileges flag and seccomp filter).
 *
 * Design rules, and why:
 *  - No libc.  A libc start-up issues syscalls of its own (brk, arch_prctl,
 *    set_tid_address, rseq, mprotect, ...).  Under a minimal seccomp
 *    allowlist those could be denied or kill the process before the probed
 *    operation even runs, so the probe would measure its own runtime instead
 *    of the container.  Here the only syscalls issued are `write` (the
 *    report), `exit_group` (or `exit` where it is denied), and the syscall(s)
 *    of the probed operation.
 *    File descriptors are deliberately never closed: exit closes them, and
 *    `close` would be one more syscall the allowlist must contain.
 *  - The exit status is the primary channel, because stdout may be
 *    unavailable (the allowlist may deny `write`):
 *        0       the operation succeeded
 *        1..133  the operation failed with this errno
 *        254     it failed with an errno outside 1..133 (see stdout)
 *        255     usage error
 *    Exit statuses 134..253 are never produced, so a runtime's 128+signal
 *    (e.g. 159 = SIGSYS from a seccomp kill) cannot be mistaken for an errno.
 *  - stdout gets one JSON line: fixed keys op, target, ok, errno, name, then
 *    operation-specific keys whose values are always JSON strings.
 *  - No heap, fixed buffers, every copy bounds-checked.
 *
 * Build (x86_64 or aarch64 host, or a cross gcc):
 *   gcc -Os -nostdlib -static -ffreestanding -fno-stack-protector -fno-builtin
 *       -fno-pie -no-pie -fno-tree-loop-distribute-patterns
 *       -fno-asynchronous-unwind-tables -s -o probe probe.c
 */

typedef unsigned long size_t;
typedef long ssize_t;

/* ---------------------------------------------------------------------------
 * Per-architecture syscall numbers and entry points.
 * aarch64 uses the asm-generic table; x86_64 has its own.  Errno values and
 * the open/clone/ptrace flag values used below are the same on both.
 */
#if defined(__x86_64__)
#define NR_read        0
#define NR_write       1
#define NR_socket      41
#define NR_connect     42
#define NR_ptrace      101
#define NR_getuid      102
#define NR_getgid      104
#define NR_geteuid     107
#define NR_getegid     108
#define NR_mount       165
#define NR_umount2     166
#define NR_exit        60
#define NR_exit_group  231
#define NR_keyctl      250
#define NR_openat      257
#define NR_unlinkat    263
#define NR_fchmodat    268
#define NR_faccessat   269
#define NR_unshare     272

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	/* The kernel ABI passes arg 4 in r10 (not rcx: `syscall` clobbers rcx
	 * and r11 with the return address and flags). */
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* At process entry %rsp points at argc, followed by argv[], NULL, envp[].
 * The ABI guarantees %rsp is 16-byte aligned here; `call` then leaves the
 * callee with the usual (16n + 8) alignment.  %rbp = 0 marks the outermost
 * frame for debuggers. */
__asm__(".text\n"
	".global _start\n"
	".type _start,@function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	mov %rsp, %rdi\n"
	"	and $-16, %rsp\n"
	"	call probe_main\n"
	"	hlt\n");

#elif defined(__aarch64__)
#define NR_unlinkat    35
#define NR_umount2     39
#define NR_mount       40
#define NR_faccessat   48
#define NR_fchmodat    53
#define NR_openat      56
#define NR_read        63
#define NR_write       64
#define NR_exit        93
#define NR_exit_group  94
#define NR_unshare     97
#define NR_ptrace      117
#define NR_getuid      174
#define NR_geteuid     175
#define NR_getgid      176
#define NR_getegid     177
#define NR_socket      198
#define NR_connect     203
#define NR_keyctl      219

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
	/* Number in x8, args in x0..x5, result in x0. */
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory", "cc");
	return x0;
}

/* At process entry sp points at argc (sp is 16-byte aligned), followed by
 * argv[], NULL, envp[].  x29/x30 = 0 terminate the frame chain. */
__asm__(".text\n"
	".global _start\n"
	".type _start,%function\n"
	"_start:\n"
	"	mov x29, #0\n"
	"	mov x30, #0\n"
	"	mov x0, sp\n"
	"	bl probe_main\n"
	"	brk #0\n");

#else
#error "hardspec probe: only x86_64 and aarch64 are supported"
#endif

#define sys0(n)             sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a)          sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b)       sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c)    sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) \
	sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* Values shared by x86_64 and aarch64 (asm-generic). */
#define AT_FDCWD        (-100)
#define O_RDONLY        00
#define O_WRONLY        01
#define O_CREAT         0100
#define O_EXCL          0200
#define O_NOCTTY        0400
#define O_NONBLOCK      04000
#define O_CLOEXEC       02000000
#define F_OK            0
#define AF_UNIX         1
#define SOCK_STREAM     1
#define SOCK_CLOEXEC    02000000
#define CLONE_NEWNS     0x00020000
#define CLONE_NEWUSER   0x10000000
#define PTRACE_SEIZE    0x4206
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define EEXIST          17
#define ERRNO_MAX       133 /* EHWPOISON, the highest errno Linux defines */

#define EXIT_ERRNO_OUT_OF_RANGE 254
#define EXIT_USAGE              255

/* A raw syscall returns -errno in [-4095, -1] on failure. */
static int is_err(long r) { return r < 0 && r >= -4095; }

/* ---------------------------------------------------------------------------
 * Errno names.  Only the common ones: the verifier has the full table; this
 * one just makes the JSON readable on its own.
 */
static const char *const errno_names[ERRNO_MAX + 1] = {
	[1] = "EPERM",        [2] = "ENOENT",        [3] = "ESRCH",
	[4] = "EINTR",        [5] = "EIO",           [6] = "ENXIO",
	[7] = "E2BIG",        [8] = "ENOEXEC",       [9] = "EBADF",
	[10] = "ECHILD",      [11] = "EAGAIN",       [12] = "ENOMEM",
	[13] = "EACCES",      [14] = "EFAULT",       [16] = "EBUSY",
	[17] = "EEXIST",      [18] = "EXDEV",        [19] = "ENODEV",
	[20] = "ENOTDIR",     [21] = "EISDIR",       [22] = "EINVAL",
	[23] = "ENFILE",      [24] = "EMFILE",       [25] = "ENOTTY",
	[26] = "ETXTBSY",     [27] = "EFBIG",        [28] = "ENOSPC",
	[29] = "ESPIPE",      [30] = "EROFS",        [31] = "EMLINK",
	[32] = "EPIPE",       [34] = "ERANGE",       [36] = "ENAMETOOLONG",
	[38] = "ENOSYS",      [39] = "ENOTEMPTY",    [40] = "ELOOP",
	[61] = "ENODATA",     [75] = "EOVERFLOW",    [88] = "ENOTSOCK",
	[91] = "EPROTOTYPE",  [95] = "EOPNOTSUPP",   [97] = "EAFNOSUPPORT",
	[98] = "EADDRINUSE",  [104] = "ECONNRESET",  [110] = "ETIMEDOUT",
	[111] = "ECONNREFUSED", [122] = "EDQUOT",    [126] = "ENOKEY",
	[127] = "EKEYEXPIRED", [128] = "EKEYREVOKED", [129] = "EKEYREJECTED",
};

/* ---------------------------------------------------------------------------
 * Output: one JSON line assembled in a fixed buffer and written once.
 * Every append is all-or-nothing, so the buffer never holds half an escape
 * sequence; inputs are length-capped so that a full report always fits.
 */
#define OUT_CAP    8192
#define STR_CAP    1024 /* max bytes of any one input string we echo */

static char out[OUT_CAP];
static size_t out_len;

static size_t str_len(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static void put(const char *s, size_t n)
{
	size_t i;
	if (n > OUT_CAP - out_len)
		return;
	for (i = 0; i < n; i++)
		out[out_len + i] = s[i];
	out_len += n;
}

static void puts_(const char *s) { put(s, str_len(s)); }

static void put_str(const char *s) /* a JSON string literal, escaped */
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	puts_("\"");
	for (i = 0; i < STR_CAP && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			put(e, 6);
		} else {
			/* Bytes >= 0x80 pass through: paths are bytes, and the
			 * verifier only ever passes the ASCII paths it chose. */
			put((const char *)&c, 1);
		}
	}
	puts_("\"");
}

static void put_dec(long v)
{
	char b[24];
	int i = sizeof b;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	do {
		b[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		b[--i] = '-';
	put(b + i, sizeof b - i);
}

/* Extra key with a string value: `,"key":"value"`. */
static void field(const char *key, const char *val)
{
	puts_(",");
	put_str(key);
	puts_(":");
	put_str(val);
}

static void field_dec(const char *key, long v)
{
	puts_(",");
	put_str(key);
	puts_(":\"");
	put_dec(v);
	puts_("\"");
}

/* Start the line: {"op":...,"target":...  (target may be 0). */
static void begin(const char *op, const char *target)
{
	out_len = 0;
	puts_("{\"op\":");
	put_str(op);
	if (target) {
		puts_(",\"target\":");
		put_str(target);
	}
}

/* exit_group, or exit when the filter denies exit_group (a service that ends with its last
 * thread needs only exit): the probe has one thread, so either ends it.  Looping on a denied
 * exit_group alone would leave the probe spinning until its check times out. */
static __attribute__((noreturn)) void exit_group(int status)
{
	for (;;) {
		sys1(NR_exit_group, status);
		sys1(NR_exit, status);
	}
}

/* Finish the line with ok/errno, write it, and exit with the status that
 * encodes the same result.  `r` is the raw syscall return of the operation
 * being reported.  Write errors are ignored: the exit status still carries
 * the result. */
static __attribute__((noreturn)) void finish(long r)
{
	int status = 0;
	size_t off = 0;
	if (is_err(r)) {
		long e = -r;
		puts_(",\"ok\":false,\"errno\":");
		put_dec(e);
		if (e <= ERRNO_MAX && errno_names[e]) {
			puts_(",\"name\":");
			put_str(errno_names[e]);
		}
		status = e <= ERRNO_MAX ? (int)e : EXIT_ERRNO_OUT_OF_RANGE;
	} else {
		puts_(",\"ok\":true");
	}
	/* The terminator is written unconditionally (not via put) so the line
	 * is always closed even if an earlier append was dropped. */
	if (out_len > OUT_CAP - 2)
		out_len = OUT_CAP - 2;
	out[out_len++] = '}';
	out[out_len++] = '\n';
	/* A pipe may accept a short write; retry a bounded number of times. */
	for (int tries = 0; off < out_len && tries < 16; tries++) {
		long w = sys3(NR_write, 1, out + off, out_len - off);
		if (is_err(w) && w != -4 /* EINTR */)
			break;
		if (w > 0)
			off += (size_t)w;
	}
	exit_group(status);
}

static __attribute__((noreturn)) void usage(const char *op, const char *why)
{
	begin(op ? op : "", 0);
	puts_(",\"ok\":false,\"error\":");
	put_str(why);
	puts_(",\"usage\":\"probe write|read|exists|connect-unix PATH | chmod PATH MODE"
	      " | mount [PATH] | unshare | ptrace [PID] | keyctl"
	      " | syscall NR [ARG...] | id | status\"}\n");
	sys3(NR_write, 1, out, out_len);
	exit_group(EXIT_USAGE);
}

/* ---------------------------------------------------------------------------
 * Argument parsing.
 */
static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* Signed integer: decimal, or hex with 0x.  Rejects junk and overflow past
 * 64 bits (wrapping is allowed so that e.g. 0xffffffffffffff9c works). */
static int parse_long(const char *s, long *out_v)
{
	unsigned long v = 0;
	int neg = 0, base = 10, digits = 0;
	if (*s == '-')
		neg = 1, s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	for (; *s; s++, digits++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return 0;
		if (v > (~0UL - d) / base)
			return 0;
		v = v * base + d;
	}
	if (!digits)
		return 0;
	*out_v = neg ? -(long)v : (long)v;
	return 1;
}

static int parse_mode(const char *s, long *mode)
{
	long v = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return 0;
		v = v * 8 + (*s - '0');
		if (v > 07777)
			return 0;
	}
	*mode = v;
	return 1;
}

/* ---------------------------------------------------------------------------
 * Operations.  Each ends in finish(), which reports and exits.
 */

/* Can this process create (or open for writing) PATH?  A fresh PATH is
 * created exclusively and immediately unlinked.  If PATH already exists the
 * question becomes "can it be opened for writing": O_WRONLY without O_TRUNC
 * changes nothing, and O_NONBLOCK|O_NOCTTY keep FIFOs and ttys from blocking
 * or being adopted.  (Do not point this at devices whose open has side
 * effects, such as /dev/watchdog.) */
static void op_write(const char *path)
{
	long fd = sys4(NR_openat, AT_FDCWD, path,
		       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	begin("write", path);
	if (fd == -EEXIST) {
		fd = sys4(NR_openat, AT_FDCWD, path,
			  O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
		field("mode", "existing");
	} else {
		field("mode", "create");
		if (!is_err(fd)) {
			long u = sys3(NR_unlinkat, AT_FDCWD, path, 0);
			field_dec("unlink", is_err(u) ? u : 0);
		}
	}
	finish(fd);
}

static void op_read(const char *path)
{
	char buf[16];
	long r = sys4(NR_openat, AT_FDCWD, path,
		      O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
	begin("read", path);
	if (is_err(r)) {
		field("step", "open");
		finish(r);
	}
	/* Opening is not enough: some files (procfs, sysfs, FUSE) deny or
	 * fail only at read time. */
	r = sys3(NR_read, r, buf, sizeof buf);
	field("step", "read");
	if (!is_err(r))
		field_dec("bytes", r);
	finish(r);
}

static void op_chmod(const char *path, long mode)
{
	/* This really changes the mode: callers pass the file's current mode
	 * when they only want to know whether chmod is permitted. */
	long r = sys4(NR_fchmodat, AT_FDCWD, path, mode, 0);
	begin("chmod", path);
	finish(r);
}

static void op_mount(const char *where)
{
	long r = sys5(NR_mount, "none", where, "tmpfs", 0, 0);
	begin("mount", where);
	if (!is_err(r)) {
		/* The container is already shown to be unhardened; do not also
		 * leave a tmpfs over its directory. */
		long u = sys2(NR_umount2, where, 0);
		field_dec("umount", is_err(u) ? u : 0);
	}
	finish(r);
}

static void op_unshare(void)
{
	/* Affects only this short-lived process. */
	long r = sys1(NR_unshare, CLONE_NEWUSER | CLONE_NEWNS);
	begin("unshare", "CLONE_NEWUSER|CLONE_NEWNS");
	finish(r);
}

static void op_ptrace(const char *pid_s)
{
	long pid;
	if (!parse_long(pid_s, &pid) || pid <= 0)
		usage("ptrace", "PID must be a positive integer");
	/* PTRACE_SEIZE runs exactly the same permission checks as
	 * PTRACE_ATTACH but does not SIGSTOP the target: attaching to the
	 * container's PID 1 must not freeze it.  Our exit detaches. */
	long r = sys4(NR_ptrace, PTRACE_SEIZE, pid, 0, 0);
	begin("ptrace", pid_s);
	finish(r);
}

static void op_keyctl(void)
{
	/* Joins a new anonymous session keyring for this process only; it is
	 * garbage-collected when the probe exits. */
	long r = sys2(NR_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0);
	begin("keyctl", "KEYCTL_JOIN_SESSION_KEYRING");
	if (!is_err(r))
		field_dec("ret", r);
	finish(r);
}

static void op_syscall(char **argv, int argc)
{
	long nr, a[6] = { 0, 0, 0, 0, 0, 0 };
	int i;
	if (!parse_long(argv[0], &nr) || nr < 0)
		usage("syscall", "NR must be a non-negative integer");
	if (argc > 7)
		usage("syscall", "at most 6 arguments");
	for (i = 1; i < argc; i++)
		if (!parse_long(argv[i], &a[i - 1]))
			usage("syscall", "arguments must be integers (decimal or 0x hex)");
	long r = sys6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	begin("syscall", argv[0]);
	if (!is_err(r))
		field_dec("ret", r);
	finish(r);
}

static void op_connect_unix(const char *path)
{
	/* struct sockaddr_un: sa_family_t (u16) then a 108-byte path. */
	struct {
		unsigned short family;
		char path[108];
	} sa;
	size_t n = str_len(path), i;
	if (n == 0 || n >= sizeof sa.path)
		usage("connect-unix", "PATH must be 1..107 bytes");
	sa.family = AF_UNIX;
	for (i = 0; i <= n; i++) /* includes the NUL */
		sa.path[i] = path[i];
	long fd = sys3(NR_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	begin("connect-unix", path);
	if (is_err(fd)) {
		field("step", "socket");
		finish(fd);
	}
	field("step", "connect");
	finish(sys3(NR_connect, fd, &sa, sizeof sa.family + n + 1));
}

static void op_exists(const char *path)
{
	/* F_OK needs no output buffer (unlike stat, whose struct layout
	 * differs per arch).  Note faccessat resolves the path with the real
	 * uid/gid, which in a container equal the effective ones. */
	long r = sys4(NR_faccessat, AT_FDCWD, path, F_OK, 0);
	begin("exists", path);
	finish(r);
}

static void op_id(void)
{
	static const char *const keys[] = { "uid", "gid", "euid", "egid" };
	const long nrs[] = { NR_getuid, NR_getgid, NR_geteuid, NR_getegid };
	int i;
	begin("id", 0);
	for (i = 0; i < 4; i++) {
		/* These "cannot fail", but a seccomp filter can still make them
		 * return -EPERM, which must not be printed as uid -1. */
		long r = sys0(nrs[i]);
		if (is_err(r)) {
			field("step", keys[i]);
			finish(r);
		}
		field_dec(keys[i], r);
	}
	finish(0);
}

/* Copy the value of a "Key:\tvalue" line from /proc/self/status, tabs turned
 * into spaces (Uid/Gid have four tab-separated ids). */
static void status_field(const char *buf, size_t len, const char *key)
{
	size_t klen = str_len(key), i = 0;
	while (i < len) {
		size_t j = 0, end = i;
		while (end < len && buf[end] != '\n')
			end++;
		while (j < klen && i + j < end && buf[i + j] == key[j])
			j++;
		if (j == klen && i + klen < end && buf[i + klen] == ':') {
			char val[128];
			size_t v = 0, p = i + klen + 1;
			while (p < end && (buf[p] == '\t' || buf[p] == ' '))
				p++;
			for (; p < end && v < sizeof val - 1; p++)
				val[v++] = buf[p] == '\t' ? ' ' : buf[p];
			val[v] = 0;
			field(key, val);
			return;
		}
		i = end + 1;
	}
}

static void op_status(void)
{
	static char buf[8192];
	static const char *const keys[] = {
		"Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
		"NoNewPrivs", "Seccomp", "Seccomp_filters",
	};
	size_t len = 0, k;
	long fd = sys4(NR_openat, AT_FDCWD, "/proc/self/status",
		       O_RDONLY | O_CLOEXEC, 0);
	begin("status", "/proc/self/status");
	if (is_err(fd)) {
		field("step", "open");
		finish(fd);
	}
	/* procfs may return the file in several chunks. */
	while (len < sizeof buf) {
		long r = sys3(NR_read, fd, buf + len, sizeof buf - len);
		if (is_err(r)) {
			field("step", "read");
			finish(r);
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
		status_field(buf, len, keys[k]);
	finish(0);
}

/* ---------------------------------------------------------------------------
 * Entry: `sp` is the initial stack pointer, laid out by the kernel as
 * argc, argv[0..argc-1], NULL, envp..., NULL, auxv.
 */
__attribute__((noreturn, used)) void probe_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	const char *op;

	if (argc < 2 || !argv[1])
		usage(0, "missing operation");
	op = argv[1];
	argc -= 2; /* now counts the operation's own arguments */
	argv += 2;

	if (str_eq(op, "write") && argc == 1)
		op_write(argv[0]);
	else if (str_eq(op, "read") && argc == 1)
		op_read(argv[0]);
	else if (str_eq(op, "chmod") && argc == 2) {
		long mode;
		if (!parse_mode(argv[1], &mode))
			usage(op, "MODE must be octal, at most 07777");
		op_chmod(argv[0], mode);
	} else if (str_eq(op, "mount") && argc <= 1)
		op_mount(argc ? argv[0] : "/mnt");
	else if (str_eq(op, "unshare") && argc == 0)
		op_unshare();
	else if (str_eq(op, "ptrace") && argc <= 1)
		op_ptrace(argc ? argv[0] : "1");
	else if (str_eq(op, "keyctl") && argc == 0)
		op_keyctl();
	else if (str_eq(op, "syscall") && argc >= 1)
		op_syscall(argv, (int)argc);
	else if (str_eq(op, "connect-unix") && argc == 1)
		op_connect_unix(argv[0]);
	else if (str_eq(op, "exists") && argc == 1)
		op_exists(argv[0]);
	else if (str_eq(op, "id") && argc == 0)
		op_id();
	else if (str_eq(op, "status") && argc == 0)
		op_status();
	usage(op, "unknown operation or wrong number of arguments");
}
