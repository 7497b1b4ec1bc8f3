/* scripts/bench-start's seccomp row: how long the init and exec stages take to read
 * the compiled filter (src/native/seccomp.c, as at option parsing) and to
 * load it (as right before exec), each run in a fresh child. Prints one
 * line per run: "PREPARE_MS LOAD_MS". Usage: bench-seccomp FILTER.bpf RUNS */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/native/seccomp.h"
#include "../src/native/util.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int runs = atoi(argv[2]);
  for (int i = 0; i < runs; i++) {
    int p[2];
    if (pipe(p) < 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      void *filter;
      double t0 = now_ms();
      if (seccomp_prepare(argv[1], &filter) < 0) {
        fprintf(stderr, "%s\n", errmsg());
        _exit(1);
      }
      double t1 = now_ms();
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(filter) < 0) _exit(1);
      double t2 = now_ms();
      dprintf(p[1], "%.4f %.4f\n", t1 - t0, t2 - t1);
      _exit(0);
    }
    close(p[1]);
    char buf[64];
    ssize_t n = read(p[0], buf, sizeof buf - 1);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
    buf[n] = 0;
    fputs(buf, stdout);
  }
  return 0;
}
