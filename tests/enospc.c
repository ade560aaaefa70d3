/* enospc.c - an LD_PRELOAD shim for the tests: writes to files whose path contains
 * $WSI_FULL_PATH fail with ENOSPC once $WSI_FULL_AFTER bytes have been written, as on a
 * full disk. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long written;

static int full(int fd, size_t n)
{
	const char *want = getenv("WSI_FULL_PATH"), *after = getenv("WSI_FULL_AFTER");
	char link[64], path[4096];
	if (!want || !after)
		return 0;
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t l = readlink(link, path, sizeof path - 1);
	if (l < 0)
		return 0;
	path[l] = 0;
	if (!strstr(path, want))
		return 0;
	if (written + (long)n > atol(after)) {
		errno = ENOSPC;
		return 1;
	}
	written += (long)n;
	return 0;
}

#define WRAP(name, ...)                                                                 \
	static ssize_t (*real)(__VA_ARGS__);                                            \
	if (!real)                                                                       \
		real = (ssize_t(*)(__VA_ARGS__))dlsym(RTLD_NEXT, name);

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	WRAP("pwrite64", int, const void *, size_t, off_t)
	return full(fd, n) ? -1 : real(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	WRAP("pwrite", int, const void *, size_t, off_t)
	return full(fd, n) ? -1 : real(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	WRAP("write", int, const void *, size_t)
	return full(fd, n) ? -1 : real(fd, buf, n);
}
