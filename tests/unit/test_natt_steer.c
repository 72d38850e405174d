/*
 * test_natt_steer.c - the reuseport split of the NAT-T port (ipsecmgr/natt_steer.c):
 * the classic BPF program loaded on a real reuseport group of UDP sockets on
 * 127.0.0.1, crafted datagrams sent over loopback, and which member received
 * each. Also pins down the kernel behaviour natt_steer.h relies on: members
 * are indexed in join order, the last one takes a leaving member's index, and
 * a lone member gets everything. RFC 3948 2.2 (non-ESP marker), 2.3 (keepalive).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "natt_steer.h"

static const uint8_t ike_pkt[] = {0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
static const uint8_t keepalive[] = {0xff};
static const uint8_t esp_pkt[] = {0x00, 0x00, 0x10, 0x01, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd};
static const uint8_t runt[] = {0x12, 0x34, 0x56};
static const uint8_t esp4[] = {0x80, 0, 0, 0}; /* exactly 4 bytes, non-zero */

static void test_is_esp(void **state)
{
  (void)state;
  assert_false(natt_steer_is_esp(ike_pkt, sizeof(ike_pkt)));
  assert_false(natt_steer_is_esp(keepalive, sizeof(keepalive)));
  assert_false(natt_steer_is_esp(runt, sizeof(runt)));
  assert_false(natt_steer_is_esp(esp_pkt, 0));
  assert_true(natt_steer_is_esp(esp_pkt, sizeof(esp_pkt)));
  assert_true(natt_steer_is_esp(esp4, sizeof(esp4)));
}

static struct sockaddr_in lo_addr(uint16_t port)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

/* Send pkt to port and return which of fds[0..n) received it (-1: none). */
static int who_gets(int tx, uint16_t port, const uint8_t *pkt, size_t len, const int *fds, int n)
{
  struct sockaddr_in to = lo_addr(port);
  assert_int_equal(sendto(tx, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)len);
  struct pollfd p[4];
  for (int i = 0; i < n; i++) {
    p[i].fd = fds[i];
    p[i].events = POLLIN;
  }
  if (poll(p, (nfds_t)n, 1000) <= 0) {
    return -1;
  }
  for (int i = 0; i < n; i++) {
    if (p[i].revents & POLLIN) {
      uint8_t buf[64];
      ssize_t r = recv(fds[i], buf, sizeof(buf), 0);
      assert_int_equal(r, (ssize_t)len);
      assert_memory_equal(buf, pkt, len);
      return i;
    }
  }
  return -1;
}

static void test_group(void **state)
{
  (void)state;
  struct sockaddr_in any = lo_addr(0);
  int d = natt_steer_open((struct sockaddr *)&any, sizeof(any), 0); /* "demux" */
  assert_true(d >= 0);
  socklen_t al = sizeof(any);
  assert_int_equal(getsockname(d, (struct sockaddr *)&any, &al), 0);
  uint16_t port = ntohs(any.sin_port);
  struct sockaddr_in a = lo_addr(port);
  assert_int_equal(natt_steer_group_busy((struct sockaddr *)&a, sizeof(a)), 1);

  int i = natt_steer_open((struct sockaddr *)&a, sizeof(a), 1 << 20); /* "ipsecmgr", index 1 */
  assert_true(i >= 0);
  assert_int_equal(natt_steer_attach(i, 0, 1), 0);
  int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_true(tx >= 0);
  int fds[2] = {d, i};
  for (int k = 0; k < 8; k++) { /* not the hash: every time the same member */
    assert_int_equal(who_gets(tx, port, ike_pkt, sizeof(ike_pkt), fds, 2), 0);
    assert_int_equal(who_gets(tx, port, keepalive, sizeof(keepalive), fds, 2), 0);
    assert_int_equal(who_gets(tx, port, runt, sizeof(runt), fds, 2), 0);
    assert_int_equal(who_gets(tx, port, esp_pkt, sizeof(esp_pkt), fds, 2), 1);
    assert_int_equal(who_gets(tx, port, esp4, sizeof(esp4), fds, 2), 1);
  }

  /* "demux" restarts: ipsecmgr moves to index 0 and is alone: gets all. */
  close(d);
  int solo[1] = {i};
  assert_int_equal(who_gets(tx, port, ike_pkt, sizeof(ike_pkt), solo, 1), 0);
  assert_int_equal(who_gets(tx, port, esp_pkt, sizeof(esp_pkt), solo, 1), 0);
  /* The new demux joins at index 1: the old program now steers wrongly... */
  d = natt_steer_open((struct sockaddr *)&a, sizeof(a), 0);
  assert_true(d >= 0);
  fds[0] = d;
  assert_int_equal(who_gets(tx, port, keepalive, sizeof(keepalive), fds, 2), 1);
  assert_int_equal(who_gets(tx, port, esp_pkt, sizeof(esp_pkt), fds, 2), 0);
  /* ...until ipsecmgr swaps the indexes on that evidence. */
  assert_int_equal(natt_steer_attach(i, 1, 0), 0);
  assert_int_equal(who_gets(tx, port, ike_pkt, sizeof(ike_pkt), fds, 2), 0);
  assert_int_equal(who_gets(tx, port, keepalive, sizeof(keepalive), fds, 2), 0);
  assert_int_equal(who_gets(tx, port, esp_pkt, sizeof(esp_pkt), fds, 2), 1);

  /* ipsecmgr leaves: demux (index 1 -> 0) alone gets ESP too (fallback path). */
  close(i);
  assert_int_equal(who_gets(tx, port, esp_pkt, sizeof(esp_pkt), fds, 1), 0);
  assert_int_equal(who_gets(tx, port, ike_pkt, sizeof(ike_pkt), fds, 1), 0);
  close(d);
  close(tx);
  assert_int_equal(natt_steer_group_busy((struct sockaddr *)&a, sizeof(a)), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_is_esp),
      cmocka_unit_test(test_group),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
