/*
 * peername: the peer address of an accepted TCP socket, even when the peer has already reset
 * the connection.
 *
 * Why this exists: nmap's connect scan (-sT) resets every connection right after the
 * handshake. libuv accepts without asking for the address, and Node reads it later with
 * getpeername(2), which fails with ENOTCONN once the socket is closed, so the probe's source
 * is lost. getsockopt(SO_PEERNAME) asks the kernel for the address the way accept(2) does
 * (inet_getname with peer=2), which works on a closed socket too.
 *
 * One function: peerName(fd) -> { address: string, port: number } | undefined.
 */
#include <node_api.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SO_PEERNAME
#define SO_PEERNAME 28
#endif

static napi_value undefined_value(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value PeerName(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "peerName(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof(struct sockaddr_in6);
  memset(&ss, 0, sizeof ss);
  /* The kernel refuses a buffer longer than the address: try IPv6's size, then IPv4's. */
  if (getsockopt(fd, SOL_SOCKET, SO_PEERNAME, &ss, &len) != 0) {
    len = sizeof(struct sockaddr_in);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERNAME, &ss, &len) != 0) return undefined_value(env);
  }
  char text[INET6_ADDRSTRLEN];
  int port;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    if (!inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text)) return undefined_value(env);
    port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (!inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text)) return undefined_value(env);
    port = ntohs(sin6->sin6_port);
  } else {
    return undefined_value(env);
  }
  napi_value result, address, port_value;
  napi_create_object(env, &result);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &address);
  napi_create_int32(env, port, &port_value);
  napi_set_named_property(env, result, "address", address);
  napi_set_named_property(env, result, "port", port_value);
  return result;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "peerName", NAPI_AUTO_LENGTH, PeerName, NULL, &fn);
  napi_set_named_property(env, exports, "peerName", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
