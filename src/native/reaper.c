#define _GNU_SOURCE
#include "reaper.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "pathexec.h"
#include "sync.h"
#include "util.h"

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* Staying PID 1, we keep our command line, which every process in the
 * container can read and which names host paths (--rootfs, --lower...).
 * Copy what the program needs, then blank it to "corral-init". */
static void hide_cmdline(struct process *p) {
  if (!p->cmdline) return;
  for (char **a = p->argv; *a; a++)
    if (!(*a = strdup(*a))) return;
  for (char **e = p->env; *e; e++)
    if (!(*e = strdup(*e))) return;
  memset(p->cmdline, 0, p->cmdline_len);
  str_copy(p->cmdline, p->cmdline_len, "corral-init");
  prctl(PR_SET_NAME, "corral-init", 0, 0, 0);
}

void reaper_run(struct process *p) {
  char **argv = p->argv, **env = p->env;
  int tty = p->tty;
  hide_cmdline(p);
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&set, forwarded[i]);
  /* Blocked signals reach PID 1 even without a handler (the kernel only
   * drops unhandled ones), and sigwaitinfo takes them in order. */
  sigprocmask(SIG_BLOCK, &set, &old);

  pid_t child = fork();
  if (child < 0) {
    fail("fork");
    sync_die(1);
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    /* Its own process group, in the foreground of the tty: a ^C reaches the
     * program once, not also PID 1 (which would forward a second one). */
    setpgid(0, 0);
    if (tty) {
      signal(SIGTTOU, SIG_IGN);
      tcsetpgrp(0, getpid());
      signal(SIGTTOU, SIG_DFL);
    }
    sync_die(exec_program(argv, env));
  }
  /* The child's exec (or its error line) now decides the sync fd's EOF. */
  sync_close();

  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&set, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status, code = -1;
    pid_t w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0) {
      if (w != child) continue;
      code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    }
    if (code >= 0) _exit(code);
  }
}
