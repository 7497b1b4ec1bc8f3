/* Capabilities without libcap: names, the bounding/ambient sets (prctl) and
 * the effective/permitted/inheritable sets (capset). */
#ifndef CORRAL_CAPS_H
#define CORRAL_CAPS_H

#include <stdint.h>

/* "CAP_CHOWN" or "chown" into a bit of *mask. */
int cap_parse(const char *name, uint64_t *mask);
/* Before the uid changes (dropping needs CAP_SETPCAP): reduce the bounding
 * set to keep, clear the ambient set. */
int caps_bound(uint64_t keep);
/* After the uid change: effective = permitted = caps (as far as we still
 * hold them), inheritable empty. */
int caps_set(uint64_t caps);

#endif
