/*
 * test_nlmsg_parse.c - the parsers of the kernel's netlink replies
 * (ipsecmgr/nlmsg.c nlm_parse_*, xfrm.c xfrm_parse_*) on hand-built datagrams:
 * ACKs with and without extended-ACK text, a state dump, the GETSA answer, and
 * malformed replies. A reply is untrusted bytes: an "error" the kernel never
 * sends (positive) must not be mistaken for an errno-style result (found by
 * tests/fuzz/fuzz_netlink.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <linux/xfrm.h>

#include "nlmsg.h"
#include "xfrm.h"

typedef struct {
  _Alignas(8) uint8_t b[2048];
  size_t len;
} dgram_t;

/* Append a message of type with body (len bytes) and sequence number seq. */
static void put_msg(dgram_t *d, uint16_t type, uint16_t flags, uint32_t seq, const void *body,
                    size_t len)
{
  struct nlmsghdr h = {.nlmsg_len = (uint32_t)NLMSG_LENGTH(len), .nlmsg_type = type,
                       .nlmsg_flags = flags, .nlmsg_seq = seq};
  assert_true(d->len + NLMSG_SPACE(len) <= sizeof d->b);
  memcpy(d->b + d->len, &h, sizeof h);
  memcpy(d->b + d->len + NLMSG_HDRLEN, body, len);
  d->len += NLMSG_SPACE(len);
}

static void put_err(dgram_t *d, uint32_t seq, int error)
{
  struct nlmsgerr e;
  memset(&e, 0, sizeof e);
  e.error = error;
  e.msg.nlmsg_len = NLMSG_HDRLEN;
  put_msg(d, NLMSG_ERROR, 0, seq, &e, sizeof e);
}

static void test_ack_ok_and_errno(void **state)
{
  (void)state;
  dgram_t d = {.len = 0};
  char txt[64] = "x";
  int err = 1;
  put_err(&d, 7, -EEXIST); /* another request's ACK: skipped */
  put_err(&d, 1, 0);
  assert_int_equal(nlm_parse_ack(d.b, d.len, 1, txt, sizeof txt, &err), 1);
  assert_int_equal(err, 0);
  assert_int_equal(nlm_parse_ack(d.b, d.len, 7, txt, sizeof txt, &err), 1);
  assert_int_equal(err, -EEXIST);
  assert_string_equal(txt, strerror(EEXIST));
  assert_int_equal(nlm_parse_ack(d.b, d.len, 9, txt, sizeof txt, &err), 0);
}

static void test_ack_extack_text(void **state)
{
  (void)state;
  struct {
    struct nlmsgerr e;
    struct rtattr a;
    char msg[12];
  } body;
  memset(&body, 0, sizeof body);
  body.e.error = -EINVAL;
  body.a.rta_type = NLMSGERR_ATTR_MSG;
  body.a.rta_len = RTA_LENGTH(sizeof body.msg);
  memcpy(body.msg, "bad algo", 9);
  dgram_t d = {.len = 0};
  put_msg(&d, NLMSG_ERROR, NLM_F_ACK_TLVS | NLM_F_CAPPED, 1, &body, sizeof body);
  char txt[64] = "";
  int err = 0;
  assert_int_equal(nlm_parse_ack(d.b, d.len, 1, txt, sizeof txt, &err), 1);
  assert_int_equal(err, -EINVAL);
  assert_string_equal(txt, "bad algo");
}

/* The kernel's errors are 0 or -errno; anything positive is a malformed
 * reply, never a result a caller could take for a count or for success. */
static void test_positive_error_is_malformed(void **state)
{
  (void)state;
  dgram_t d = {.len = 0};
  put_err(&d, 1, 5);
  char txt[64] = "";
  int err = 0, rc = 0, errs[2] = {0, 0}, first = 0;
  bool stop = false;
  assert_int_equal(nlm_parse_ack(d.b, d.len, 1, txt, sizeof txt, &err), 1);
  assert_int_equal(err, -EBADMSG);
  assert_int_equal(nlm_parse_acks(d.b, d.len, 1, 2, errs, txt, sizeof txt, &first), 1);
  assert_int_equal(errs[0], -EBADMSG);
  assert_int_equal(first, -EBADMSG);
  assert_int_equal(nlm_parse_dump(d.b, d.len, 1, NULL, NULL, &stop, &rc), 1);
  assert_int_equal(rc, -EBADMSG);
  uint64_t p, b, o, s;
  rc = 0;
  assert_int_equal(xfrm_parse_get_sa(d.b, d.len, 1, &p, &b, &o, &s, &rc), 1);
  assert_int_equal(rc, -EBADMSG);
  /* Below any errno: malformed too (and never negated: -INT_MIN, fuzz_nlreply). */
  d.len = 0;
  put_err(&d, 1, INT32_MIN);
  txt[0] = '\0';
  assert_int_equal(nlm_parse_ack(d.b, d.len, 1, txt, sizeof txt, &err), 1);
  assert_int_equal(err, -EBADMSG);
  assert_true(txt[0] != '\0');
}

static int count_ent(const xfrm_dump_ent_t *e, void *arg)
{
  xfrm_dump_ent_t *last = arg;
  *last = *e;
  return 0;
}

static void test_state_dump_and_truncation(void **state)
{
  (void)state;
  struct xfrm_usersa_info u;
  memset(&u, 0, sizeof u);
  u.family = AF_INET;
  u.id.spi = htonl(0x07000001u);
  u.id.proto = IPPROTO_ESP;
  u.reqid = 0x07000001u;
  dgram_t d = {.len = 0};
  put_msg(&d, XFRM_MSG_NEWSA, NLM_F_MULTI, 1, &u, sizeof u);
  put_msg(&d, NLMSG_DONE, NLM_F_MULTI, 1, "\0\0\0\0", 4);
  xfrm_dump_ent_t last;
  memset(&last, 0, sizeof last);
  bool stop = false;
  int rc = 1;
  assert_int_equal(xfrm_parse_dump(d.b, d.len, 1, false, count_ent, &last, &stop, &rc), 1);
  assert_int_equal(rc, 0);
  assert_int_equal(last.sa.spi, 0x07000001u);
  assert_int_equal(last.reqid, 0x07000001u);
  /* Cut inside the state: the walk stops at the datagram's end, no DONE. */
  memset(&last, 0, sizeof last);
  assert_int_equal(xfrm_parse_dump(d.b, 100, 1, false, count_ent, &last, &stop, &rc), 0);
  assert_int_equal(last.sa.spi, 0);
}

/* A last message whose length is not a multiple of 4 ends the datagram: the
 * walk must not step past it (an unsigned remaining count wrapped around and
 * read on beyond recv's bytes - found by tests/fuzz/fuzz_netlink.c). Behind
 * the datagram's end lies an ACK the parsers must not see. */
static void test_unaligned_last_message_ends_walk(void **state)
{
  (void)state;
  dgram_t d = {.len = 0};
  uint8_t one = 0;
  put_msg(&d, NLMSG_NOOP, 0, 1, &one, 1); /* nlmsg_len 17, padded to 20 */
  size_t cut = NLMSG_HDRLEN + 1;
  put_err(&d, 1, -EPERM);                 /* at offset 20: outside the datagram */
  char txt[64] = "";
  int err = 0, rc = 0, errs[1] = {0}, first = 0;
  bool stop = true; /* no callback: only the end of the dump counts */
  assert_int_equal(nlm_parse_ack(d.b, cut, 1, txt, sizeof txt, &err), 0);
  assert_int_equal(nlm_parse_acks(d.b, cut, 1, 1, errs, txt, sizeof txt, &first), 0);
  assert_int_equal(first, 0);
  assert_int_equal(nlm_parse_dump(d.b, cut, 1, NULL, NULL, &stop, &rc), 0);
  uint64_t p, b, o, s;
  assert_int_equal(xfrm_parse_get_sa(d.b, cut, 1, &p, &b, &o, &s, &rc), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ack_ok_and_errno),
      cmocka_unit_test(test_ack_extack_text),
      cmocka_unit_test(test_positive_error_is_malformed),
      cmocka_unit_test(test_state_dump_and_truncation),
      cmocka_unit_test(test_unaligned_last_message_ends_walk),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
