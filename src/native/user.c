#define _GNU_SOURCE
#include "user.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define PASSWD "/etc/passwd"
#define GROUP "/etc/group"
#define ID_MAX 0xfffffffeUL /* (uid_t)-1 means "unchanged" to the kernel */

/* Split LINE at ':' into at most n fields; returns how many were found. */
static int split(char *line, char **f, int n) {
  int i = 0;
  line[strcspn(line, "\n")] = 0;
  f[i++] = line;
  for (char *p = line; *p && i < n; p++) {
    if (*p == ':') {
      *p = 0;
      f[i++] = p + 1;
    }
  }
  return i;
}

/* fgets into buf, skipping the rest of lines too long to hold (the file is
 * the container's: it may be hostile, so nothing grows with it). */
static int next_line(FILE *f, char *buf, int cap) {
  while (fgets(buf, cap, f)) {
    if (strchr(buf, '\n') || feof(f)) return 1;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {}
  }
  return 0;
}

static FILE *open_db(const char *path, int *err) {
  FILE *f = fopen(path, "re");
  *err = 0;
  if (!f && errno != ENOENT) *err = fail("open %s", path);
  return f; /* a missing file is an empty database */
}

/* Find the passwd entry by name (name != NULL) or by uid. */
static int find_passwd(const char *name, uid_t uid, struct user *u, char *uname, size_t cap) {
  int err;
  FILE *f = open_db(PASSWD, &err);
  if (!f) return err ? -1 : 0;
  char line[1024], *fl[7];
  int found = 0;
  while (!found && next_line(f, line, sizeof line)) {
    unsigned long id, gid;
    if (split(line, fl, 7) < 7) continue;
    if (parse_ulong(fl[2], ID_MAX, &id) < 0 || parse_ulong(fl[3], ID_MAX, &gid) < 0) continue;
    if (name ? strcmp(fl[0], name) != 0 : id != uid) continue;
    u->uid = (uid_t)id;
    u->gid = (gid_t)gid;
    snprintf(u->home, sizeof u->home, "%s", fl[5][0] ? fl[5] : "/");
    snprintf(uname, cap, "%s", fl[0]);
    found = 1;
  }
  fclose(f);
  return found;
}

static int has_member(char *list, const char *name) {
  for (char *m = strtok(list, ","); m; m = strtok(NULL, ","))
    if (strcmp(m, name) == 0) return 1;
  return 0;
}

/* Look up GROUP_NAME's gid (if given) and collect USER_NAME's supplementary
 * groups (if given) in one pass over /etc/group. */
static int scan_groups(const char *group_name, gid_t *gid, const char *user_name, struct user *u) {
  int err, found = 0;
  FILE *f = open_db(GROUP, &err);
  if (!f) return err ? -1 : 0;
  char line[4096], *fl[4];
  while (next_line(f, line, sizeof line)) {
    unsigned long id;
    if (split(line, fl, 4) < 4 || parse_ulong(fl[2], ID_MAX, &id) < 0) continue;
    if (group_name && !found && strcmp(fl[0], group_name) == 0) {
      *gid = (gid_t)id;
      found = 1;
    }
    if (user_name && u->ngroups < USER_MAX_GROUPS && has_member(fl[3], user_name))
      u->groups[u->ngroups++] = (gid_t)id;
  }
  fclose(f);
  return found;
}

int user_resolve(const char *spec, struct user *u) {
  char buf[256], uname[256] = "";
  snprintf(buf, sizeof buf, "%s", spec ? spec : "0");
  char *group = strchr(buf, ':');
  if (group) *group++ = 0;

  memset(u, 0, sizeof *u);
  snprintf(u->home, sizeof u->home, "/");
  unsigned long id;
  int r;
  if (parse_ulong(buf, ID_MAX, &id) == 0) {
    /* A numeric uid need not exist in passwd (gid 0, HOME / then). */
    u->uid = (uid_t)id;
    r = find_passwd(NULL, u->uid, u, uname, sizeof uname);
  } else {
    r = find_passwd(buf, 0, u, uname, sizeof uname);
    if (r == 0) return failx("look up user \"%s\" in " PASSWD ": no such user", buf);
  }
  if (r < 0) return -1;

  gid_t gid = u->gid;
  const char *group_name = NULL;
  if (group && parse_ulong(group, ID_MAX, &id) == 0) {
    gid = (gid_t)id;
  } else if (group) {
    if (!*group) return failx("parse user \"%s\": empty group", spec);
    group_name = group;
  }
  r = scan_groups(group_name, &gid, uname[0] ? uname : NULL, u);
  if (r < 0) return -1;
  if (group_name && r == 0)
    return failx("look up group \"%s\" in " GROUP ": no such group", group_name);
  u->gid = gid;
  /* The primary group is a supplementary one too (as containerd does since
   * CVE-2023-25173): a file's group permissions must not depend on it. */
  for (int i = 0; i < u->ngroups; i++)
    if (u->groups[i] == gid) return 0;
  if (u->ngroups == USER_MAX_GROUPS) u->ngroups--;
  memmove(u->groups + 1, u->groups, (size_t)u->ngroups * sizeof *u->groups);
  u->groups[0] = gid;
  u->ngroups++;
  return 0;
}
