/* --init: a minimal tini. PID 1 forks the program, forwards the usual
 * signals to it, reaps every zombie and exits with the program's status. */
#ifndef CORRAL_REAPER_H
#define CORRAL_REAPER_H

#include "process.h"

__attribute__((noreturn)) void reaper_run(struct process *p);

#endif
