#define _GNU_SOURCE
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

int seccomp_prepare(const char *file, void **filter) {
  int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail("open seccomp filter %s", file);
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return fail("stat seccomp filter %s", file);
  }
  size_t insn = sizeof(struct sock_filter);
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size % insn || (size_t)st.st_size / insn > BPF_MAXINSNS) {
    close(fd);
    return failx("seccomp filter %s: not a BPF program of 1 to %d instructions", file, BPF_MAXINSNS);
  }
  struct sock_fprog *prog = calloc(1, sizeof *prog);
  void *insns = malloc((size_t)st.st_size);
  ssize_t n = insns ? read(fd, insns, (size_t)st.st_size) : -1;
  int e = errno;
  close(fd);
  if (!prog || !insns || n != st.st_size) {
    free(prog);
    free(insns);
    errno = n < 0 ? e : EIO;
    return fail("read seccomp filter %s", file);
  }
  prog->len = (unsigned short)((size_t)st.st_size / insn);
  prog->filter = insns;
  *filter = prog;
  return 0;
}

int seccomp_install(void *filter) {
  /* The kernel checks the program; no_new_privs is already set. */
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, filter) < 0) return fail("load the seccomp filter");
  return 0;
}
