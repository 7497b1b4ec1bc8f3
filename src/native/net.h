#ifndef CORRAL_NET_H
#define CORRAL_NET_H

/* Bring the loopback interface of the current network namespace up. */
int loopback_up(void);

#endif
