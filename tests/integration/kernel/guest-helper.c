// SPDX-License-Identifier: MIT
//
// ninep-guest-helper: the few syscalls the kernel-client workloads need that
// Debian's busybox-static 1.35 cannot issue (it has no flock applet, no way to
// take fcntl byte-range locks, and no ftruncate/fstat on an already-open fd).
// Built statically by make-initramfs.sh and installed as /bin/ninep-helper in
// the guest. Exit status is the result: 0 success, 1 "refused as expected"
// (lock conflict), 2 any other error (message on stderr).
//
//   ninep-helper flock-hold FILE READYFILE      flock(LOCK_EX), touch READYFILE, sleep until killed
//   ninep-helper flock-try FILE                 flock(LOCK_EX|LOCK_NB): 0 got it, 1 EWOULDBLOCK
//   ninep-helper lock-hold FILE START LEN READYFILE   F_SETLK write lock on a byte range, then sleep
//   ninep-helper lock-try FILE START LEN        F_SETLK write lock: 0 got it, 1 EAGAIN/EACCES
//   ninep-helper lock-test FILE START LEN       F_GETLK: 0 range free, 1 conflicting lock reported
//   ninep-helper unlinked FILE                  create, write, unlink, then fstat/ftruncate/pwrite/pread/fchmod on the fd
//   ninep-helper fsync FILE                     open O_RDWR, fsync and fdatasync
//   ninep-helper xattr-set FILE NAME VALUE      setxattr (busybox has no setfattr)
//   ninep-helper xattr-get FILE NAME            getxattr, value on stdout: 0, or 1 ENODATA
//   ninep-helper xattr-remove FILE NAME         removexattr
//   (xattr-*: exit 3 when the filesystem has no user xattrs, EOPNOTSUPP)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

static int die(const char *what, const char *path)
{
	fprintf(stderr, "ninep-helper: %s %s: %s\n", what, path, strerror(errno));
	return 2;
}

static void touch_ready(const char *ready)
{
	int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static int set_range_lock(int fd, long start, long len)
{
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = start;
	fl.l_len = len;
	return fcntl(fd, F_SETLK, &fl);
}

// Each step is reported on its own line so a failure says exactly which
// operation on the unlinked file the server broke.
static int unlinked(const char *path)
{
	static const char first[] = "written-before-unlink\n";
	static const char more[] = "written-after-unlink\n";
	char buf[128];
	struct stat st;
	int bad = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return die("open", path);
	if (write(fd, first, sizeof first - 1) != (ssize_t)(sizeof first - 1))
		return die("write", path);
	if (unlink(path) != 0)
		return die("unlink", path);

#define STEP(name, cond)                                                              \
	do {                                                                          \
		errno = 0;                                                            \
		if (cond) {                                                           \
			printf("unlinked-step %s ok\n", name);                       \
		} else {                                                              \
			printf("unlinked-step %s FAILED (%s)\n", name, strerror(errno)); \
			bad = 1;                                                      \
		}                                                                     \
	} while (0)

	STEP("fstat", fstat(fd, &st) == 0 && st.st_size == (off_t)(sizeof first - 1));
	STEP("pwrite", pwrite(fd, more, sizeof more - 1, sizeof first - 1) ==
			       (ssize_t)(sizeof more - 1));
	memset(buf, 0, sizeof buf);
	STEP("pread", pread(fd, buf, sizeof buf - 1, 0) ==
			      (ssize_t)(sizeof first + sizeof more - 2) &&
			      strncmp(buf, first, sizeof first - 1) == 0 &&
			      strcmp(buf + sizeof first - 1, more) == 0);
	STEP("ftruncate", ftruncate(fd, 5) == 0);
	STEP("fstat-after-ftruncate", fstat(fd, &st) == 0 && st.st_size == 5);
	STEP("fchmod", fchmod(fd, 0600) == 0);
	STEP("close", close(fd) == 0);
#undef STEP
	fflush(stdout);
	return bad ? 2 : 0;
}

// removexattr through v9fs is a zero-size Txattrcreate with XATTR_REPLACE and a clunk: the
// server must remove the attribute then, not store an empty value (issue 11).
static int xattr_cmd(const char *cmd, const char *path, int argc, char **argv)
{
	char buf[256];
	ssize_t n;
	if (strcmp(cmd, "xattr-set") == 0 && argc == 5)
		n = setxattr(path, argv[3], argv[4], strlen(argv[4]), 0);
	else if (strcmp(cmd, "xattr-remove") == 0 && argc == 4)
		n = removexattr(path, argv[3]);
	else if (strcmp(cmd, "xattr-get") == 0 && argc == 4) {
		n = getxattr(path, argv[3], buf, sizeof buf - 1);
		if (n < 0 && errno == ENODATA)
			return 1;
		if (n >= 0) {
			buf[n] = 0;
			printf("%s\n", buf);
		}
	} else {
		fprintf(stderr, "ninep-helper: bad arguments for %s\n", cmd);
		return 2;
	}
	if (n < 0 && errno == EOPNOTSUPP)
		return 3;
	return n < 0 ? die(cmd, path) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ninep-helper CMD FILE [ARGS]\n");
		return 2;
	}
	const char *cmd = argv[1];
	const char *path = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (strcmp(cmd, "unlinked") == 0)
		return unlinked(path);
	if (strncmp(cmd, "xattr-", 6) == 0)
		return xattr_cmd(cmd, path, argc, argv);

	int fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		return die("open", path);

	if (strcmp(cmd, "flock-hold") == 0 && argc == 4) {
		if (flock(fd, LOCK_EX) != 0)
			return die("flock", path);
		touch_ready(argv[3]);
		sleep_forever();
	} else if (strcmp(cmd, "flock-try") == 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		return errno == EWOULDBLOCK ? 1 : die("flock", path);
	} else if (strcmp(cmd, "lock-hold") == 0 && argc == 6) {
		if (set_range_lock(fd, atol(argv[3]), atol(argv[4])) != 0)
			return die("fcntl(F_SETLK)", path);
		touch_ready(argv[5]);
		sleep_forever();
	} else if (strcmp(cmd, "lock-try") == 0 && argc == 5) {
		if (set_range_lock(fd, atol(argv[3]), atol(argv[4])) == 0)
			return 0;
		return (errno == EAGAIN || errno == EACCES) ? 1 : die("fcntl(F_SETLK)", path);
	} else if (strcmp(cmd, "lock-test") == 0 && argc == 5) {
		struct flock fl;
		memset(&fl, 0, sizeof fl);
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		fl.l_start = atol(argv[3]);
		fl.l_len = atol(argv[4]);
		if (fcntl(fd, F_GETLK, &fl) != 0)
			return die("fcntl(F_GETLK)", path);
		return fl.l_type == F_UNLCK ? 0 : 1;
	} else if (strcmp(cmd, "fsync") == 0) {
		if (fsync(fd) != 0)
			return die("fsync", path);
		if (fdatasync(fd) != 0)
			return die("fdatasync", path);
		return 0;
	}
	fprintf(stderr, "ninep-helper: bad command or arguments: %s\n", cmd);
	return 2;
}
