/* The container's seccomp filter: a flat profile written by corrald
 * (src/security/seccomp-flat.ts, format in docs/shim.md) is read and compiled
 * with libseccomp when the options are parsed (the host path is still
 * reachable then), and loaded right before exec, after capabilities are
 * dropped and no_new_privs is set, as runc does. */
#ifndef CORRAL_SECCOMP_H
#define CORRAL_SECCOMP_H

/* Read and compile FILE; the error names the file and line. */
int seccomp_prepare(const char *file, void **filter);
/* Load a prepared filter into this process (and so its children). */
int seccomp_install(void *filter);

#endif
