/* peercred.node: SO_PEERCRED of a connected unix socket, for corrald to check who is calling.
 * Node has no API for it. Built as a tiny N-API addon (napi.h: no Node headers needed). */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "napi.h"

static napi_value set_u32(napi_env env, napi_value obj, const char *key, uint32_t v) {
  napi_value n;
  napi_create_uint32(env, v, &n);
  napi_set_named_property(env, obj, key, n);
  return obj;
}

/* peercred(fd) -> { pid, uid, gid } */
static napi_value peercred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != 0 || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != 0) {
    napi_throw_error(env, "EINVAL", "peercred: expected a file descriptor");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    napi_throw_error(env, "EPEERCRED", strerror(errno));
    return NULL;
  }
  napi_value out;
  napi_create_object(env, &out);
  set_u32(env, out, "pid", (uint32_t)cred.pid);
  set_u32(env, out, "uid", (uint32_t)cred.uid);
  return set_u32(env, out, "gid", (uint32_t)cred.gid);
}

napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "peercred", (size_t)-1, peercred, NULL, &fn);
  napi_set_named_property(env, exports, "peercred", fn);
  return exports;
}
