/* The process spec shared by the init and exec stages (steps 8-13 of
 * docs/shim.md): session and tty, user, capabilities, no_new_privs, cwd,
 * seccomp, environment, exec (or the --init reaper). */
#ifndef CORRAL_PROCESS_H
#define CORRAL_PROCESS_H

#include <stddef.h>
#include <stdint.h>

struct process {
  const char *user; /* NULL: root */
  uint64_t caps;    /* no --cap at all: no capabilities */
  const char *cwd;  /* NULL: "/" */
  char **env;       /* NULL-terminated, exactly the --env values */
  size_t nenv;
  char **argv;
  const char *oom_score_adj; /* NULL: inherit */
  void *seccomp; /* a compiled filter (--seccomp FILE); NULL: none */
  int tty;
  int init; /* only the init stage accepts --init */
  /* Our own argv strings (contiguous), which --init blanks: see reaper.c. */
  char *cmdline;
  size_t cmdline_len;
};

/* argv storage must outlive the process struct; env is sized for argc. */
int process_alloc(struct process *p, int argc);
/* Consume the process option at argv[*i] (advancing *i over its value):
 * 1 if it was one, 0 if not ours, -1 on a bad value. */
int process_option(struct process *p, int argc, char **argv, int *i, int allow_init);
/* Apply steps 8-12 and exec; exits through sync_die on failure. */
__attribute__((noreturn)) void process_run(struct process *p);

#endif
