/*
 * test_esp_tun.c - the TUN device of the userspace datapath (ipsecmgr/tun.c):
 * open, link up + MTU, address and routes over rtnetlink, batched reads and
 * writes. Runs in a fresh network namespace of its own (unshare(CLONE_NEWNET));
 * skipped, with the reason printed, when not root or /dev/net/tun is missing.
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
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun.h"

/* NULL when the test can run here, else why not. Enters a new netns. */
static const char *tun_skip_reason(void)
{
  static char why[128];
  if (geteuid() != 0) {
    return "not root (TUN and netns need CAP_NET_ADMIN)";
  }
  if (access("/dev/net/tun", R_OK | W_OK) != 0) {
    return "/dev/net/tun missing";
  }
  if (unshare(CLONE_NEWNET) != 0) {
    snprintf(why, sizeof(why), "unshare(CLONE_NEWNET): %s", strerror(errno));
    return why;
  }
  return NULL;
}

static const char *skip_reason;

static void wait_readable(int fd)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 2000), 1);
}

/* Count IPv4/UDP packets to 10.99.0.5 among those read. */
static int count_ours(const uint8_t *bufs, size_t stride, const size_t *lens, int n,
                      const char *payload)
{
  int found = 0;
  for (int i = 0; i < n; i++) {
    const uint8_t *p = bufs + (size_t)i * stride;
    if (lens[i] >= 28 && p[0] == 0x45 && p[9] == 17 && p[16] == 10 && p[17] == 99 &&
        p[18] == 0 && p[19] == 5 && lens[i] == 28 + strlen(payload) &&
        memcmp(p + 28, payload, strlen(payload)) == 0) {
      found++;
    }
  }
  return found;
}

static uint16_t ip_csum(const uint8_t *h, size_t n)
{
  uint32_t s = 0;
  for (size_t i = 0; i < n; i += 2) {
    s += (uint32_t)(h[i] << 8 | h[i + 1]);
  }
  while (s >> 16) {
    s = (s & 0xFFFF) + (s >> 16);
  }
  return (uint16_t)~s;
}

static void test_tun(void **state)
{
  (void)state;
  if (skip_reason != NULL) {
    print_message("SKIP reason: %s\n", skip_reason);
    skip();
  }
  char name[IFNAMSIZ];
  int ifindex = 0;
  int fd = tun_open("espt0", name, &ifindex);
  assert_true(fd >= 0);
  assert_string_equal(name, "espt0");
  assert_true(ifindex > 0);
  assert_int_equal(tun_open("a-name-much-too-long-for-ifnamsiz", NULL, NULL), -EINVAL);
  assert_int_equal(tun_set_up(ifindex, 1400), 0);
  assert_int_equal(if_nametoindex("espt0"), (unsigned)ifindex);
  uint8_t a4[4] = {10, 77, 0, 1}, p4[4] = {10, 99, 0, 0};
  assert_int_equal(tun_add_addr(ifindex, AF_INET, a4, 32), 0);
  assert_int_equal(tun_add_route(ifindex, AF_INET, p4, 24), 0);
  assert_int_equal(tun_add_route(ifindex, AF_INET, p4, 24), 0); /* replace: idempotent */
  assert_int_equal(tun_add_route(ifindex, AF_INET, p4, 33), -EINVAL);
  assert_int_equal(tun_add_route(ifindex + 1000, AF_INET, p4, 24), -ENODEV);

  /* host -> TUN: datagrams routed into the device come out of the fd, batched */
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  assert_true(s >= 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9999)};
  inet_pton(AF_INET, "10.99.0.5", &to.sin_addr);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(sendto(s, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to)), 5);
  }
  static uint8_t bufs[16][2048];
  size_t lens[16];
  int got = 0, ours = 0;
  for (int tries = 0; tries < 20 && ours < 5; tries++) {
    wait_readable(fd);
    got = tun_read_batch(fd, &bufs[0][0], sizeof(bufs[0]), lens, 16);
    assert_true(got >= 1);
    ours += count_ours(&bufs[0][0], sizeof(bufs[0]), lens, got, "hello");
  }
  assert_int_equal(ours, 5);
  assert_int_equal(tun_read_batch(fd, &bufs[0][0], sizeof(bufs[0]), lens, 16) >= 0, 1);

  /* TUN -> host: a packet written into the device reaches a local socket */
  int r = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(7000)};
  inet_pton(AF_INET, "10.77.0.1", &me.sin_addr);
  assert_int_equal(bind(r, (struct sockaddr *)&me, sizeof(me)), 0);
  uint8_t pkt[32] = {0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 99, 0, 5, 10, 77, 0, 1,
                     0x1e, 0x61, 0x1b, 0x58, 0, 12, 0, 0, 'p', 'o', 'n', 'g'};
  uint16_t c = ip_csum(pkt, 20);
  pkt[10] = (uint8_t)(c >> 8), pkt[11] = (uint8_t)c;
  assert_int_equal(tun_write(fd, pkt, sizeof(pkt)), 0);
  wait_readable(r);
  char rb[16];
  assert_int_equal(recv(r, rb, sizeof(rb), 0), 4);
  assert_memory_equal(rb, "pong", 4);

  /* routes go away; a second delete reports the kernel's error */
  assert_int_equal(tun_del_route(ifindex, AF_INET, p4, 24), 0);
  assert_int_equal(tun_del_route(ifindex, AF_INET, p4, 24), -ESRCH);
  assert_int_equal(sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), -1);
  /* IPv6 pool route */
  uint8_t p6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x99};
  int rc6 = tun_add_route(ifindex, AF_INET6, p6, 64);
  if (rc6 != -EAFNOSUPPORT) {
    assert_int_equal(rc6, 0);
  }
  close(r);
  close(s);
  close(fd);
}

int main(void)
{
  skip_reason = tun_skip_reason();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tun),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
