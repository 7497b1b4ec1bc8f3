/* The container's seccomp filter. corrald writes a flat profile at create
 * (src/security/seccomp-resolve.ts; format in docs/shim.md), which
 * `corral-shim seccomp-compile` checks strictly and compiles with libseccomp
 * into a BPF program next to it, once. The init and exec stages read that
 * program when their options are parsed (the host path is still reachable)
 * and load it right before exec, after capabilities are dropped and
 * no_new_privs is set, as runc does: compiling takes milliseconds, loading a
 * ready program microseconds. */
#ifndef CORRAL_SECCOMP_H
#define CORRAL_SECCOMP_H

/* `corral-shim seccomp-compile FLAT OUT`: exit 0, or 1 with the error on stderr. */
int seccomp_compile_main(int argc, char **argv);
/* Read the BPF program FILE; the error names the file. */
int seccomp_prepare(const char *file, void **filter);
/* Load a prepared program into this process (and so its children). */
int seccomp_install(void *filter);

#endif
