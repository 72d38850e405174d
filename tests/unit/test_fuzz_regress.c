/*
 * test_fuzz_regress.c - deterministic regressions of what the fuzzers in
 * tests/fuzz found, one test per finding.
 *
 * fuzz_nlreply: the walk of a netlink reply datagram (nlm_parse_ack /
 * nlm_parse_acks / nlm_parse_dump in ipsecmgr/nlmsg.c, xfrm_parse_get_sa in
 * xfrm.c) read past the datagram when its last message's nlmsg_len was not a
 * multiple of 4 and ended exactly at the datagram's end: with an unsigned
 * counter, glibc's NLMSG_NEXT subtracts NLMSG_ALIGN(nlmsg_len) > what is left
 * and the count wraps to ~4 G, so NLMSG_OK accepts whatever lies behind the
 * buffer as the next message (netlink(7): the length walked must be signed).
 * Here the bytes behind the datagram are a valid-looking message, so a walk
 * that strays past len is seen in the results, not only by ASan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>

#include "nlmsg.h"
#include "xfrm.h"

#define SEQ 7u
#define ODD_LEN ((uint32_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) + 1u) /* 37: not aligned */

typedef struct {
  _Alignas(8) uint8_t b[256];
  size_t len;   /* the datagram as recv returned it */
} dgram_t;

static void put_hdr(uint8_t *at, uint32_t len, uint16_t type, uint16_t flags, uint32_t seq)
{
  struct nlmsghdr h = {.nlmsg_len = len, .nlmsg_type = type, .nlmsg_flags = flags,
                       .nlmsg_seq = seq};
  memcpy(at, &h, sizeof h);
}

static void put_error(uint8_t *at, uint32_t len, uint32_t seq, int error)
{
  put_hdr(at, len, NLMSG_ERROR, 0, seq);
  memcpy(at + NLMSG_HDRLEN, &error, sizeof error);
}

/* One message of type (sequence SEQ, body zero) whose nlmsg_len is ODD_LEN,
 * the datagram exactly that long; behind it (at the aligned offset the buggy
 * walk goes to) a message `behind` of sequence behind_seq. */
static void build(dgram_t *d, uint16_t first_type, uint16_t behind_type, uint32_t behind_seq,
                  int behind_error)
{
  memset(d, 0, sizeof *d);
  if (first_type == NLMSG_ERROR) {
    put_error(d->b, ODD_LEN, SEQ, 0);
  } else {
    put_hdr(d->b, ODD_LEN, first_type, NLM_F_MULTI, SEQ);
  }
  d->len = ODD_LEN;
  uint8_t *next = d->b + NLMSG_ALIGN(ODD_LEN);
  if (behind_type == NLMSG_ERROR) {
    put_error(next, (uint32_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)), behind_seq, behind_error);
  } else {
    put_hdr(next, (uint32_t)NLMSG_LENGTH(sizeof(int)), behind_type, NLM_F_MULTI, behind_seq);
  }
}

/* nlm_talk_batch: the ACK of request SEQ is in; the "error of request SEQ+1"
 * behind the datagram must not be taken. */
static void test_nlreply_acks_odd_len_last(void **state)
{
  (void)state;
  dgram_t d;
  build(&d, NLMSG_ERROR, NLMSG_ERROR, SEQ + 1, -EIO);
  int errs[8] = {0};
  int first_err = 0;
  char txt[64] = "";
  size_t got = nlm_parse_acks(d.b, d.len, SEQ, 8, errs, txt, sizeof txt, &first_err);
  assert_int_equal(got, 1);
  assert_int_equal(errs[0], 0);
  assert_int_equal(errs[1], 0);
  assert_int_equal(first_err, 0);
}

/* nlm_talk: the ACK of request SEQ+1 is not in this datagram. */
static void test_nlreply_ack_odd_len_last(void **state)
{
  (void)state;
  dgram_t d;
  build(&d, NLMSG_ERROR, NLMSG_ERROR, SEQ + 1, -EIO);
  int err = 0;
  char txt[64] = "";
  assert_int_equal(nlm_parse_ack(d.b, d.len, SEQ + 1, txt, sizeof txt, &err), 0);
  assert_int_equal(err, 0);
}

static int count_cb(const struct nlmsghdr *h, void *arg)
{
  (void)h;
  (*(size_t *)arg)++;
  return 0;
}

/* nlm_dump: one answer in this datagram, the dump goes on (no NLMSG_DONE). */
static void test_nlreply_dump_odd_len_last(void **state)
{
  (void)state;
  dgram_t d;
  build(&d, XFRM_MSG_NEWSA, NLMSG_DONE, SEQ, 0);
  size_t n = 0;
  bool stop = false;
  int rc = 1;
  assert_int_equal(nlm_parse_dump(d.b, d.len, SEQ, count_cb, &n, &stop, &rc), 0);
  assert_int_equal(n, 1);
  assert_false(stop);
}

/* xfrm_get_sa: the answer to GETSA request SEQ+2 is not in this datagram. */
static void test_nlreply_getsa_odd_len_last(void **state)
{
  (void)state;
  dgram_t d;
  build(&d, XFRM_MSG_NEWSA, NLMSG_ERROR, SEQ + 2, -EIO);
  uint64_t p = 0, b = 0, o = 0, s = 0;
  int rc = 0;
  assert_int_equal(xfrm_parse_get_sa(d.b, d.len, SEQ + 2, &p, &b, &o, &s, &rc), 0);
  assert_int_equal(rc, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nlreply_acks_odd_len_last),
      cmocka_unit_test(test_nlreply_ack_odd_len_last),
      cmocka_unit_test(test_nlreply_dump_odd_len_last),
      cmocka_unit_test(test_nlreply_getsa_odd_len_last),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
