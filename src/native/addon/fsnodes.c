/* fsnodes.node: the few filesystem calls image extraction needs and Node has no API for:
 * mknod(2) (FIFOs and the 0:0 character device overlayfs reads as a whiteout) and
 * lsetxattr/lgetxattr (security.capability, trusted.overlay.opaque). The `l` variants never
 * follow a symlink; openInRoot: openat2(RESOLVE_IN_ROOT), for `corral cp`, which resolves a path
 * inside a container's root as the container would, whatever symlinks it planted. N-API declared in napi.h, no Node headers. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "napi.h"

#define PATH_BYTES 4097

static const char *errno_code(int e) {
  switch (e) {
  case ENOENT: return "ENOENT";
  case EEXIST: return "EEXIST";
  case EPERM: return "EPERM";
  case EACCES: return "EACCES";
  case ENOTDIR: return "ENOTDIR";
  case ENOTSUP: return "ENOTSUP";
  case ENODATA: return "ENODATA";
  case ERANGE: return "ERANGE";
  case ENOSPC: return "ENOSPC";
  case EINVAL: return "EINVAL";
  case ELOOP: return "ELOOP";
  case EXDEV: return "EXDEV";
  case EAGAIN: return "EAGAIN";
  default: return "EIO";
  }
}

static napi_value fail(napi_env env, const char *op, const char *path, int e) {
  char msg[PATH_BYTES + 128];
  snprintf(msg, sizeof msg, "%s %s: %s", op, path, strerror(e));
  napi_throw_error(env, errno_code(e), msg);
  return NULL;
}

/* A string argument that fits PATH_BYTES - 1 bytes; a longer one is refused, never truncated. */
static int get_str(napi_env env, napi_value v, char *out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != 0 || len >= PATH_BYTES) return -1;
  return napi_get_value_string_utf8(env, v, out, PATH_BYTES, &len) == 0 ? 0 : -1;
}

/* mknod(path, mode, major, minor): mode carries the type bits (S_IFIFO or S_IFCHR). */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char path[PATH_BYTES];
  uint32_t mode = 0, major = 0, minor = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 4 || get_str(env, argv[0], path) != 0 ||
      napi_get_value_uint32(env, argv[1], &mode) != 0 || napi_get_value_uint32(env, argv[2], &major) != 0 ||
      napi_get_value_uint32(env, argv[3], &minor) != 0) {
    napi_throw_error(env, "EINVAL", "mknod: expected (path, mode, major, minor)");
    return NULL;
  }
  if (mknod(path, (mode_t)mode, makedev(major, minor)) < 0) return fail(env, "mknod", path, errno);
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* lsetxattr(path, name, buffer) */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char path[PATH_BYTES], name[PATH_BYTES];
  void *data = NULL;
  size_t size = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 3 || get_str(env, argv[0], path) != 0 ||
      get_str(env, argv[1], name) != 0 || napi_get_buffer_info(env, argv[2], &data, &size) != 0) {
    napi_throw_error(env, "EINVAL", "lsetxattr: expected (path, name, buffer)");
    return NULL;
  }
  if (lsetxattr(path, name, data, size, 0) < 0) return fail(env, "lsetxattr", path, errno);
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* lgetxattr(path, name) -> Buffer, or null when the attribute is absent */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char path[PATH_BYTES], name[PATH_BYTES];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 2 || get_str(env, argv[0], path) != 0 ||
      get_str(env, argv[1], name) != 0) {
    napi_throw_error(env, "EINVAL", "lgetxattr: expected (path, name)");
    return NULL;
  }
  char buf[65536];
  ssize_t n = lgetxattr(path, name, buf, sizeof buf);
  napi_value out;
  if (n < 0) {
    if (errno == ENODATA) {
      napi_get_null(env, &out);
      return out;
    }
    return fail(env, "lgetxattr", path, errno);
  }
  void *copy;
  napi_create_buffer_copy(env, (size_t)n, buf, &copy, &out);
  return out;
}

/* openInRoot(root, path, flags) -> fd: ROOT (a trusted host path) opened as a directory, then PATH
 * resolved below it with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `..` and absolute symlinks stop
 * at ROOT, /proc magic links are refused. FLAGS are open(2) flags (O_PATH, O_NOFOLLOW, ...); the fd
 * is O_CLOEXEC and the caller closes it. */
static napi_value js_open_in_root(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char root[PATH_BYTES], path[PATH_BYTES];
  uint32_t flags = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 3 || get_str(env, argv[0], root) != 0 ||
      get_str(env, argv[1], path) != 0 || napi_get_value_uint32(env, argv[2], &flags) != 0) {
    napi_throw_error(env, "EINVAL", "openInRoot: expected (root, path, flags)");
    return NULL;
  }
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return fail(env, "open", root, errno);
  struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  long fd;
  do fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN); /* a rename raced the lookup: the kernel asks to retry */
  int e = errno;
  close(rootfd);
  if (fd < 0) return fail(env, "open", path, e);
  napi_value out;
  napi_create_int32(env, (int32_t)fd, &out);
  return out;
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "mknod", (size_t)-1, js_mknod, NULL, &fn);
  napi_set_named_property(env, exports, "mknod", fn);
  napi_create_function(env, "lsetxattr", (size_t)-1, js_lsetxattr, NULL, &fn);
  napi_set_named_property(env, exports, "lsetxattr", fn);
  napi_create_function(env, "lgetxattr", (size_t)-1, js_lgetxattr, NULL, &fn);
  napi_set_named_property(env, exports, "lgetxattr", fn);
  napi_create_function(env, "openInRoot", (size_t)-1, js_open_in_root, NULL, &fn);
  napi_set_named_property(env, exports, "openInRoot", fn);
  return exports;
}
