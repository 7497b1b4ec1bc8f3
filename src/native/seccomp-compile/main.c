/* corral-seccomp FLAT OUT: a container's seccomp filter, compiled once, at
 * create. Reads the flat profile corrald resolved from a Docker-format one
 * (src/security/seccomp-resolve.ts; format in docs/shim.md), checks it
 * strictly, builds the filter with libseccomp and writes its BPF program to
 * OUT, which the shim's init and exec stages load right before exec. A
 * program of its own, static like the shim, so libseccomp adds nothing to
 * the monitor that every running container keeps (about 130 KiB of RSS). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

/* A resolved profile is a few hundred short lines; anything far larger is not ours. */
#define FLAT_MAX (256 * 1024)
#define TOKENS_MAX 16

struct parser {
  const char *file;
  int line;
};

static int bad(struct parser *ps, const char *what, const char *tok) {
  return failx("seccomp profile %s:%d: %s \"%s\"", ps->file, ps->line, what, tok);
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out) {
  if (*s < '0' || *s > '9' || (s[0] == '0' && s[1])) return -1;
  uint64_t v = 0;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (max - d) / 10) return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

/* allow | errno:N | trace:N | kill_thread | kill_process | trap | log */
static int parse_action(struct parser *ps, const char *s, uint32_t *out) {
  uint64_t n;
  if (strcmp(s, "allow") == 0) *out = SCMP_ACT_ALLOW;
  else if (strcmp(s, "kill_thread") == 0) *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp(s, "kill_process") == 0) *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp(s, "trap") == 0) *out = SCMP_ACT_TRAP;
  else if (strcmp(s, "log") == 0) *out = SCMP_ACT_LOG;
  else if (strncmp(s, "errno:", 6) == 0 && parse_u64(s + 6, 4095, &n) == 0) *out = SCMP_ACT_ERRNO((uint32_t)n);
  else if (strncmp(s, "trace:", 6) == 0 && parse_u64(s + 6, 65535, &n) == 0) *out = SCMP_ACT_TRACE((uint32_t)n);
  else return bad(ps, "unknown action", s);
  return 0;
}

static const struct {
  const char *name;
  enum scmp_compare op;
} ops[] = {
    {"ne", SCMP_CMP_NE}, {"lt", SCMP_CMP_LT}, {"le", SCMP_CMP_LE},
    {"eq", SCMP_CMP_EQ}, {"ge", SCMP_CMP_GE}, {"gt", SCMP_CMP_GT},
    {"masked_eq", SCMP_CMP_MASKED_EQ},
};

/* aINDEX:OP:VALUE, or aINDEX:masked_eq:MASK:VALUE */
static int parse_arg(struct parser *ps, char *tok, struct scmp_arg_cmp *out) {
  char copy[128];
  str_copy(copy, sizeof copy, tok);
  char *p = tok, *index = strsep(&p, ":"), *op = strsep(&p, ":"), *v1 = strsep(&p, ":"), *v2 = strsep(&p, ":");
  if (!index || index[0] != 'a' || index[1] < '0' || index[1] > '5' || index[2] || !op || !v1 || p)
    return bad(ps, "bad argument condition", copy);
  memset(out, 0, sizeof *out);
  out->arg = (unsigned)(index[1] - '0');
  size_t i;
  for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(op, ops[i].name) == 0) break;
  if (i == sizeof ops / sizeof ops[0]) return bad(ps, "unknown comparison in", copy);
  out->op = ops[i].op;
  if ((out->op == SCMP_CMP_MASKED_EQ) != (v2 != NULL)) return bad(ps, "masked_eq takes MASK:VALUE, the others one value, in", copy);
  uint64_t a, b = 0;
  if (parse_u64(v1, UINT64_MAX, &a) < 0 || (v2 && parse_u64(v2, UINT64_MAX, &b) < 0)) return bad(ps, "bad number in", copy);
  out->datum_a = a;
  out->datum_b = b;
  return 0;
}

static int split(char *line, char **tok, int max) {
  int n = 0;
  for (char *p = line, *t; (t = strsep(&p, " ")) != NULL;) {
    if (*t == 0 || n == max) return -1; /* one space between tokens, no more than max */
    tok[n++] = t;
  }
  return n;
}

static int read_flat(const char *file, char **out) {
  int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail("open seccomp profile %s", file);
  struct stat st;
  if (fstat(fd, &st) < 0) {
    close(fd);
    return fail("stat seccomp profile %s", file);
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > FLAT_MAX) {
    close(fd);
    return failx("seccomp profile %s: not a regular file of 1 to %d bytes", file, FLAT_MAX);
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    close(fd);
    return failx("out of memory");
  }
  ssize_t n = read(fd, buf, (size_t)st.st_size);
  int e = errno;
  close(fd);
  if (n != st.st_size) {
    free(buf);
    errno = n < 0 ? e : EIO;
    return fail("read seccomp profile %s", file);
  }
  buf[n] = 0;
  if (strlen(buf) != (size_t)n || buf[n - 1] != '\n') {
    free(buf);
    return failx("seccomp profile %s: not text ending in a newline", file);
  }
  buf[n - 1] = 0;
  *out = buf;
  return 0;
}

static int add_rule(struct parser *ps, scmp_filter_ctx ctx, uint32_t def, char **tok, int n) {
  uint32_t action;
  struct scmp_arg_cmp args[6];
  if (n < 3 || n > 3 + 6) return bad(ps, "expected: rule ACTION NAME [aN:OP:VALUE]..., not", tok[0]);
  if (parse_action(ps, tok[1], &action) < 0) return -1;
  for (int i = 3; i < n; i++)
    if (parse_arg(ps, tok[i], &args[i - 3]) < 0) return -1;
  /* libseccomp refuses a rule that says what the default says; it changes nothing. */
  if (action == def) return 0;
  /* Names this libseccomp does not know on any architecture are skipped, as runc does:
   * a profile names syscalls of newer kernels and other architectures. */
  int nr = seccomp_syscall_resolve_name(tok[2]);
  if (nr == __NR_SCMP_ERROR) return 0;
  int rc = seccomp_rule_add_array(ctx, action, nr, (unsigned)(n - 3), args);
  if (rc < 0) {
    errno = -rc;
    return fail("seccomp profile %s:%d: add rule for %s", ps->file, ps->line, tok[2]);
  }
  return 0;
}

static int compile_flat(const char *file, scmp_filter_ctx *filter) {
  struct parser ps = {file, 0};
  char *buf = NULL, *tok[TOKENS_MAX];
  scmp_filter_ctx ctx = NULL;
  uint32_t def = 0;
  if (read_flat(file, &buf) < 0) return -1;
  char *p = buf, *line;
  int rc = 0;
  while (rc == 0 && (line = strsep(&p, "\n")) != NULL) {
    ps.line++;
    int n = split(line, tok, TOKENS_MAX);
    if (n <= 0) {
      rc = bad(&ps, "malformed line", line);
    } else if (ps.line == 1) {
      if (n != 2 || strcmp(tok[0], "corral-seccomp") || strcmp(tok[1], "1")) rc = bad(&ps, "expected \"corral-seccomp 1\", not", tok[0]);
    } else if (ps.line == 2) {
      if (n != 2 || strcmp(tok[0], "default")) rc = bad(&ps, "expected: default ACTION, not", tok[0]);
      else if ((rc = parse_action(&ps, tok[1], &def)) == 0 && !(ctx = seccomp_init(def))) rc = failx("seccomp_init: out of memory");
    } else if (strcmp(tok[0], "arch") == 0) {
      uint32_t arch = n == 2 ? seccomp_arch_resolve_name(tok[1]) : 0;
      if (arch == 0) rc = bad(&ps, "unknown architecture", n == 2 ? tok[1] : "");
      else if ((rc = seccomp_arch_add(ctx, arch)) == -EEXIST) rc = 0; /* the native one is always there */
      else if (rc < 0) {
        errno = -rc;
        rc = fail("seccomp profile %s:%d: add architecture %s", file, ps.line, tok[1]);
      }
    } else if (strcmp(tok[0], "rule") == 0) {
      rc = add_rule(&ps, ctx, def, tok, n);
    } else {
      rc = bad(&ps, "unknown keyword", tok[0]);
    }
  }
  free(buf);
  if (rc == 0 && !ctx) rc = failx("seccomp profile %s: no default action", file);
  if (rc < 0) {
    if (ctx) seccomp_release(ctx);
    return -1;
  }
  *filter = ctx;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: corral-seccomp FLAT-PROFILE OUT.bpf\n");
    return 2;
  }
  const char *out = argv[2];
  scmp_filter_ctx ctx;
  char tmp[4096];
  int rc = -1, fd = -1;
  if (compile_flat(argv[1], &ctx) < 0) goto done;
  if (snprintf(tmp, sizeof tmp, "%s.tmp", out) >= (int)sizeof tmp) {
    failx("%s: path too long", out);
    goto release;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    fail("open %s", tmp);
    goto release;
  }
  int e = seccomp_export_bpf(ctx, fd);
  if (e < 0) {
    errno = -e;
    fail("export the filter of %s to %s", argv[1], tmp);
  } else if (fsync(fd) < 0) {
    fail("fsync %s", tmp);
  } else if (rename(tmp, out) < 0) {
    fail("rename %s to %s", tmp, out);
  } else {
    rc = 0;
  }
  close(fd);
  if (rc < 0) unlink(tmp);
release:
  seccomp_release(ctx);
done:
  if (rc < 0) fprintf(stderr, "corral-seccomp: %s\n", errmsg());
  return rc < 0 ? 1 : 0;
}
