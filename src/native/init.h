/* `corral-shim init`: the stage that runs after unshare and forks PID 1. */
#ifndef CORRAL_INIT_H
#define CORRAL_INIT_H

int init_main(int argc, char **argv);

#endif
