/* The container's seccomp filter, as the init and exec stages load it: a
 * BPF program that corral-seccomp (src/native/seccomp-compile/) compiled once
 * at create, read when the options are parsed (the host path is still
 * reachable) and loaded right before exec, after capabilities are dropped and
 * no_new_privs is set, as runc does. Compiling takes milliseconds of
 * libseccomp work; loading a ready program, microseconds. */
#ifndef CORRAL_SECCOMP_H
#define CORRAL_SECCOMP_H

/* Read the BPF program FILE; the error names the file. */
int seccomp_prepare(const char *file, void **filter);
/* Load a prepared program into this process (and so its children). */
int seccomp_install(void *filter);

#endif
