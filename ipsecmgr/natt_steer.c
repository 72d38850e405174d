/* natt_steer.c - reuseport split of the NAT-T port, see natt_steer.h. */
#include "natt_steer.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#ifndef SO_ATTACH_REUSEPORT_CBPF
#define SO_ATTACH_REUSEPORT_CBPF 51
#endif

void natt_steer_prog(struct sock_filter *prog, uint32_t ike_idx, uint32_t esp_idx)
{
  /* The kernel runs the program with the data pointer at the UDP payload
   * (reuseport_select_sock pulls the UDP header), so len and [0] are the
   * payload's. A load past the end would end the program with 0, hence the
   * length test first. */
  const struct sock_filter p[NATT_STEER_PROG_LEN] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),        /* A = payload length */
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 4, 0, 2),  /* < 4: keepalive/runt */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),         /* A = first 4 bytes */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),  /* 0: non-ESP marker */
      BPF_STMT(BPF_RET | BPF_K, ike_idx),
      BPF_STMT(BPF_RET | BPF_K, esp_idx),
  };
  memcpy(prog, p, sizeof(p));
}

bool natt_steer_is_esp(const uint8_t *payload, size_t len)
{
  return len >= 4 && (payload[0] | payload[1] | payload[2] | payload[3]) != 0;
}

int natt_steer_attach(int fd, uint32_t ike_idx, uint32_t esp_idx)
{
  struct sock_filter p[NATT_STEER_PROG_LEN];
  natt_steer_prog(p, ike_idx, esp_idx);
  struct sock_fprog fp = {.len = NATT_STEER_PROG_LEN, .filter = p};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp, sizeof(fp)) == 0 ? 0 : -errno;
}

static int steer_socket(const struct sockaddr *addr)
{
  int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) {
    return -errno;
  }
  int one = 1;
  if (addr->sa_family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  return fd;
}

int natt_steer_group_busy(const struct sockaddr *addr, socklen_t alen)
{
  int fd = steer_socket(addr);
  if (fd < 0) {
    return fd;
  }
  int r = bind(fd, addr, alen) == 0 ? 0 : errno == EADDRINUSE ? 1 : -errno;
  close(fd);
  return r;
}

int natt_steer_open(const struct sockaddr *addr, socklen_t alen, int rcvbuf)
{
  int fd = steer_socket(addr);
  if (fd < 0) {
    return fd;
  }
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) != 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  }
  if (bind(fd, addr, alen) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}
