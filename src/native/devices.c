/* corral-shim devices CGROUP RULE...: the cgroup v2 devices allow-list.
 *
 * cgroup v2 has no devices.allow: access to device nodes is decided by
 * BPF_PROG_TYPE_CGROUP_DEVICE programs attached to the cgroup and its
 * ancestors. corrald calls this once per container, on the cgroup that holds
 * its limits, before any process is in it. The program is built here from
 * rules in devices.allow spelling ("c 1:3 rwm", "c 136:* rwm"), as crun
 * does, loaded with the raw bpf(2) call and attached with BPF_F_ALLOW_MULTI:
 * a runtime nested below may attach more programs, and every program must
 * allow an access, so they can only deny more. The attachment lives as long
 * as the cgroup; this process exits. Everything not listed is denied,
 * mknod included. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "devices.h"
#include "util.h"

#define MAX_RULES 64
/* Per rule at most 7 instructions, plus 6 to load the context and 2 to deny. */
#define MAX_INSNS (MAX_RULES * 7 + 8)

struct rule {
  int type;      /* BPF_DEVCG_DEV_*, 0 for any */
  long major;    /* -1 for * */
  long minor;    /* -1 for * */
  unsigned acc;  /* BPF_DEVCG_ACC_* bits */
};

static int parse_num(const char *s, long *out) {
  if (strcmp(s, "*") == 0) {
    *out = -1;
    return 0;
  }
  unsigned long v;
  if (parse_ulong(s, 0xffffffffUL, &v) < 0) return -1;
  *out = (long)v;
  return 0;
}

/* "c 1:3 rwm" */
static int parse_rule(const char *text, struct rule *r) {
  char type, nums[64], acc[8];
  if (sscanf(text, "%c %63s %7s", &type, nums, acc) != 3) return failx("parse device rule `%s`: want TYPE MAJOR:MINOR ACCESS", text);
  r->type = type == 'c' ? BPF_DEVCG_DEV_CHAR : type == 'b' ? BPF_DEVCG_DEV_BLOCK : type == 'a' ? 0 : -1;
  if (r->type < 0) return failx("parse device rule `%s`: type must be c, b or a", text);
  char *colon = strchr(nums, ':');
  if (!colon) return failx("parse device rule `%s`: want MAJOR:MINOR", text);
  *colon = 0;
  if (parse_num(nums, &r->major) < 0 || parse_num(colon + 1, &r->minor) < 0)
    return failx("parse device rule `%s`: MAJOR and MINOR are numbers or *", text);
  r->acc = 0;
  for (const char *p = acc; *p; p++) {
    if (*p == 'r') r->acc |= BPF_DEVCG_ACC_READ;
    else if (*p == 'w') r->acc |= BPF_DEVCG_ACC_WRITE;
    else if (*p == 'm') r->acc |= BPF_DEVCG_ACC_MKNOD;
    else return failx("parse device rule `%s`: ACCESS is made of r, w and m", text);
  }
  return 0;
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

/* r2 = device type, r3 = access bits, r4 = major, r5 = minor; then one
 * block per rule whose every mismatch jumps past the block, and whose end
 * returns 1 (allow); after the last block, return 0 (deny). */
static size_t build(const struct rule *rules, size_t n, struct bpf_insn *p) {
  size_t k = 0;
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
  p[k++] = INSN(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
  p[k++] = INSN(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
  p[k++] = INSN(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
  const unsigned all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  for (size_t i = 0; i < n; i++) {
    const struct rule *r = &rules[i];
    struct bpf_insn block[7];
    size_t b = 0;
    /* Jumps get their offset once the block's length is known: -1 marks them. */
    if (r->type) block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, -1, r->type);
    if ((r->acc & all) != all) {
      /* Some access asked for is not allowed: the rule does not apply. */
      block[b++] = INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0);
      block[b++] = INSN(BPF_ALU | BPF_AND | BPF_K, 6, 0, 0, (int)(~r->acc & all));
      block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 6, 0, -1, 0);
    }
    if (r->major >= 0) block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 4, 0, -1, (int)r->major);
    if (r->minor >= 0) block[b++] = INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, -1, (int)r->minor);
    block[b++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
    block[b++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    for (size_t j = 0; j < b; j++) {
      if (block[j].off == -1 && BPF_CLASS(block[j].code) == BPF_JMP && BPF_OP(block[j].code) == BPF_JNE)
        block[j].off = (short)(b - j - 1);
      p[k++] = block[j];
    }
  }
  p[k++] = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
  p[k++] = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return k;
}

static int load(const struct bpf_insn *insns, size_t n) {
  static char log[4096];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (unsigned long)insns;
  attr.insn_cnt = (unsigned)n;
  attr.license = (unsigned long)"GPL";
  int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd >= 0 || errno != EINVAL) return fd < 0 ? fail("load the BPF_PROG_TYPE_CGROUP_DEVICE program") : fd;
  /* Rejected by the verifier: load again with its log, for the message. */
  attr.log_level = 1;
  attr.log_buf = (unsigned long)log;
  attr.log_size = sizeof log;
  fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd >= 0) return fd;
  return failx("load the BPF_PROG_TYPE_CGROUP_DEVICE program: %s; verifier: %.300s", strerror(errno), log);
}

int devices_main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: corral-shim devices CGROUP_DIR [RULE...] (RULE as in devices.allow: \"c 1:3 rwm\")\n");
    return 2;
  }
  const char *dir = argv[2];
  size_t n = (size_t)(argc - 3);
  if (n > MAX_RULES) {
    fprintf(stderr, "corral-shim: attach a device program to `%s`: %zu rules, at most %d\n", dir, n, MAX_RULES);
    return 1;
  }
  struct rule rules[MAX_RULES];
  for (size_t i = 0; i < n; i++) {
    if (parse_rule(argv[3 + i], &rules[i]) < 0) {
      fprintf(stderr, "corral-shim: %s\n", errmsg());
      return 1;
    }
  }
  struct bpf_insn insns[MAX_INSNS];
  size_t count = build(rules, n, insns);
  int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cg < 0) {
    fail("open `%s`", dir);
    fprintf(stderr, "corral-shim: %s\n", errmsg());
    return 1;
  }
  int prog = load(insns, count);
  if (prog < 0) {
    fprintf(stderr, "corral-shim: attach a device program to `%s`: %s\n", dir, errmsg());
    return 1;
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (unsigned)cg;
  attr.attach_bpf_fd = (unsigned)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) < 0) {
    fail("attach the device program to `%s` (BPF_PROG_ATTACH)", dir);
    fprintf(stderr, "corral-shim: %s\n", errmsg());
    return 1;
  }
  return 0;
}
