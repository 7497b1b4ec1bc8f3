/* corral-shim: the one native helper of Corral. Node never calls
 * unshare/setns itself; this program plays the three roles described in
 * docs/shim.md, chosen by its first argument. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "devices.h"
#include "exec.h"
#include "init.h"
#include "monitor.h"
#include "rebind.h"
#include "oci.h"
#include "util.h"

int netns_main(int argc, char **argv); /* netns.c */
int probe_main(int argc, char **argv); /* probe.c */
int hold_main(int argc, char **argv);  /* hold.c */

int main(int argc, char **argv) {
  ensure_stdio();
  if (argc >= 2 && strcmp(argv[1], "monitor") == 0) return monitor_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "init") == 0) return init_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "exec") == 0) return exec_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "devices") == 0) return devices_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "rebind") == 0) return rebind_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "netns") == 0) return netns_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "hold") == 0) return hold_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "oci-create") == 0) return oci_create_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "oci-exec") == 0) return oci_exec_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "probe") == 0) return probe_main(argc, argv);
  fprintf(stderr, "usage: corral-shim monitor|init|exec|netns|rebind|hold|oci-create|oci-exec|probe [options] -- ARGV...\n"
                  "       corral-shim devices CGROUP_DIR RULE...\n"
                  "       corral-shim probe idmap DIR | probe seccomp FILE\n"
                  "(see docs/shim.md)\n");
  return 2;
}
