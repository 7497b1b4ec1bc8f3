#define _GNU_SOURCE
#include "pathexec.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static const char *env_get(char **env, const char *key) {
  size_t n = strlen(key);
  for (; *env; env++)
    if (strncmp(*env, key, n) == 0 && (*env)[n] == '=') return *env + n + 1;
  return NULL;
}

/* Go-style lowercase errno text, as Docker prints it. */
static int exec_error(const char *file, int e) {
  if (e == ENOENT || e == ENOTDIR) {
    failx("exec \"%s\": no such file or directory", file);
    return 127;
  }
  if (e == EACCES) {
    failx("exec \"%s\": permission denied", file);
    return 126;
  }
  char msg[128];
  snprintf(msg, sizeof msg, "%s", strerror(e));
  msg[0] = (char)tolower((unsigned char)msg[0]);
  failx("exec \"%s\": %s", file, msg);
  return 126;
}

int exec_program(char **argv, char **env) {
  const char *file = argv[0];
  if (!file || !*file) {
    failx("exec \"\": executable file not found in $PATH");
    return 127;
  }
  if (strchr(file, '/')) {
    execve(file, argv, env);
    return exec_error(file, errno);
  }
  /* Like Go's exec.LookPath: the first regular file with an x bit wins, and
   * any error executing it is final (no ENOEXEC fallback to /bin/sh). */
  const char *path = env_get(env, "PATH");
  if (!path) path = DEFAULT_PATH;
  int denied = 0;
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    char cand[PATH_MAX];
    int dl = (int)(end - p);
    if (snprintf(cand, sizeof cand, "%.*s%s%s", dl, dl ? p : ".", "/", file) < (int)sizeof cand) {
      struct stat st;
      if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_mode & 0111) {
          execve(cand, argv, env);
          return exec_error(file, errno);
        }
        denied = 1;
      }
    }
    if (!*end) break;
    p = end;
  }
  if (denied) {
    failx("exec \"%s\": permission denied", file);
    return 126;
  }
  failx("exec \"%s\": executable file not found in $PATH", file);
  return 127;
}
