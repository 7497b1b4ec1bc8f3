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

int main(int argc, char **argv) {
  ensure_stdio();
  if (argc >= 2 && strcmp(argv[1], "monitor") == 0) return monitor_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "init") == 0) return init_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "exec") == 0) return exec_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "devices") == 0) return devices_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "rebind") == 0) return rebind_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "netns") == 0) return netns_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "oci-create") == 0) return oci_create_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "oci-exec") == 0) return oci_exec_main(argc, argv);
  fprintf(stderr, "usage: corral-shim monitor|init|exec|netns|rebind|oci-create|oci-exec [options] -- ARGV...\n"
                  "       corral-shim devices CGROUP_DIR RULE...\n"
                  "(see docs/shim.md)\n");
  return 2;
}
