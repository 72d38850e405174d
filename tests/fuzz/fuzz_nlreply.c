/*
 * fuzz_nlreply.c - libFuzzer harness: one kernel netlink reply datagram
 * handed to EVERY reply parser of ipsecmgr in turn, then the XFRM backend's
 * reconcile decision on what the dump parsers decoded.
 *
 *   nlmsg.c:  nlm_parse_ack   (nlm_talk: the ACK of XFRM and rtnetlink
 *                              requests, tun.c's RTM_NEWLINK/NEWADDR/NEWROUTE)
 *             nlm_parse_acks  (nlm_talk_batch: policy batches, MIGRATE)
 *             nlm_parse_dump  (nlm_dump)
 *   xfrm.c:   xfrm_parse_dump (states and policies: reconcile)
 *             xfrm_parse_get_sa (xfrm_get_sa: the query of counters)
 *   be_xfrm.c: ipm_be_xfrm_collect + ipm_be_xfrm_sweep (what reconcile
 *              deletes), with the states and policies decoded above.
 *
 * Unlike fuzz_netlink.c (one parser per input, sequence number fixed at 1)
 * there is no selector byte: the whole input is the datagram, and the request
 * sequence number each parser waits for is the one of the first message in
 * it (so matching and non-matching messages both occur), the reconcile slot
 * its low byte. The datagram is a heap copy of exactly its length (ASan sees
 * any read past it). Checks (abort): error texts stay NUL-terminated in their
 * buffer, errors are <= 0, counts are bounded by the datagram, every entry
 * reconcile deletes is of the slot, unclaimed and (a state) owned.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "nlmsg.h"
#include "xfrm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_txt(const char *txt, size_t cap)
{
  if (memchr(txt, '\0', cap) == NULL) {
    abort();
  }
}

/* Read every byte of a message the walk hands out: ASan flags a header whose
 * length runs past the datagram. */
static volatile uint32_t sink;

static int touch_cb(const struct nlmsghdr *h, void *arg)
{
  size_t *n = arg;
  const uint8_t *p = (const uint8_t *)h;
  uint32_t s = 0;
  for (size_t i = 0; i < h->nlmsg_len; i++) {
    s += p[i];
  }
  sink += s;
  (*n)++;
  return 0;
}

static void touch_ent(const xfrm_dump_ent_t *e)
{
  uint32_t s = e->reqid + e->sa.spi + e->pol.priority + e->pol.src_len + e->pol.dst_len +
               e->sa.family + e->pol.family + e->pol.outer_family + e->proto;
  for (size_t i = 0; i < 16; i++) {
    s += (uint32_t)(e->sa.src[i] + e->sa.dst[i] + e->pol.src[i] + e->pol.dst[i] +
                    e->pol.outer_src[i] + e->pol.outer_dst[i]);
  }
  sink += s;
}

/* Reconcile's view of "held by ipsecmgr": a reqid claimed when its low bit is
 * set, so both branches run on fuzzed reqids. */
static bool claimed(void *arg, uint32_t reqid)
{
  (void)arg;
  return (reqid & 1u) != 0;
}

typedef struct {
  uint8_t tag;
  size_t n;
} sweep_ctx_t;

static int del_cb(void *darg, const xfrm_dump_ent_t *e)
{
  sweep_ctx_t *s = darg;
  touch_ent(e);
  if ((e->reqid >> 24) != s->tag || claimed(NULL, e->reqid)) {
    abort(); /* reconcile would delete something not in its remit */
  }
  if (!e->policy && (e->proto != IPPROTO_ESP || e->reqid == 0)) {
    abort();
  }
  if (e->policy && e->pol.priority != XFRM_OWN_PRIORITY) {
    abort(); /* never someone else's policy */
  }
  s->n++;
  return (e->reqid & 2u) ? -ENOENT : 0; /* a failed delete is not counted */
}

static void run(const uint8_t *buf, size_t len, uint32_t seq)
{
  char txt[128];
  int err = 0, rc = 0;
  bool stop = false;

  /* nlm_talk's ACK, with a full, a 1-byte and no text buffer. */
  txt[0] = '\0';
  if (nlm_parse_ack(buf, len, seq, txt, sizeof txt, &err) != 0 && err > 0) {
    abort();
  }
  check_txt(txt, sizeof txt);
  txt[0] = '\0';
  nlm_parse_ack(buf, len, seq, txt, 1, &err);
  check_txt(txt, 1);
  nlm_parse_ack(buf, len, seq, NULL, 0, &err);

  /* nlm_talk_batch's ACKs of requests seq..seq+7. */
  int errs[8] = {0};
  int first_err = 0;
  txt[0] = '\0';
  size_t got = nlm_parse_acks(buf, len, seq, 8, errs, txt, sizeof txt, &first_err);
  if (got > len / NLMSG_HDRLEN || first_err > 0) {
    abort();
  }
  for (size_t i = 0; i < 8; i++) {
    if (errs[i] > 0) {
      abort();
    }
  }
  check_txt(txt, sizeof txt);
  nlm_parse_acks(buf, len, seq, 8, NULL, NULL, 0, &first_err);

  /* nlm_dump's walk: every message handed out lies inside the datagram. */
  size_t n = 0;
  nlm_parse_dump(buf, len, seq, touch_cb, &n, &stop, &rc);
  if (n > len / NLMSG_HDRLEN || rc > 0) {
    abort();
  }

  /* Reconcile: the same datagram as the policy dump and as the state dump. */
  ipm_be_xfrm_list_t pol = {0}, st = {0};
  stop = false;
  rc = 0;
  xfrm_parse_dump(buf, len, seq, true, ipm_be_xfrm_collect, &pol, &stop, &rc);
  if (rc > 0) {
    abort();
  }
  stop = false;
  rc = 0;
  xfrm_parse_dump(buf, len, seq, false, ipm_be_xfrm_collect, &st, &stop, &rc);
  if (rc > 0 || pol.n + st.n > 2 * (len / NLMSG_HDRLEN)) {
    abort();
  }
  for (size_t i = 0; i < pol.n; i++) {
    touch_ent(&pol.e[i]);
  }
  sweep_ctx_t sw = {(uint8_t)seq, 0};
  unsigned removed =
      ipm_be_xfrm_sweep(&pol, &st, (uint16_t)seq, claimed, NULL, del_cb, &sw);
  if (removed > sw.n || sw.n > pol.n + st.n) {
    abort();
  }
  free(pol.e);
  free(st.e);

  /* xfrm_get_sa's answer. */
  uint64_t p = 0, b = 0, o = 0, s = 0;
  rc = 0;
  if (xfrm_parse_get_sa(buf, len, seq, &p, &b, &o, &s, &rc) != 0 && rc > 0) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 65536) {
    return 0;
  }
  /* A heap copy of exactly size bytes (malloc aligns as recv's buffers are). */
  uint8_t *buf = malloc(size > 0 ? size : 1);
  if (buf == NULL) {
    return 0;
  }
  if (size > 0) {
    memcpy(buf, data, size);
  }
  uint32_t seq = 1;
  if (size >= NLMSG_HDRLEN) {
    memcpy(&seq, buf + offsetof(struct nlmsghdr, nlmsg_seq), sizeof seq);
  }
  run(buf, size, seq);
  free(buf);
  return 0;
}
