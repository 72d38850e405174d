/*
 * fuzz_netlink.c - libFuzzer harness for the parsers of the kernel's netlink
 * replies in ipsecmgr: the fuzz bytes are one datagram as recv() returned it.
 *
 * Input: byte 0 picks the parser (low 3 bits) and is otherwise ignored; the
 * rest is copied to the heap (exactly its length, aligned as recv's buffers).
 *   0: nlm_parse_ack      (nlm_talk: ACK / extended ACK of request seq 1)
 *   1: nlm_parse_acks     (nlm_talk_batch: ACKs of requests 1..8)
 *   2: xfrm_parse_dump    (xfrm_dump of states, reconcile)
 *   3: xfrm_parse_dump    (xfrm_dump of policies, reconcile)
 *   4: xfrm_parse_get_sa  (xfrm_get_sa, the query of counters)
 *   5: nlm_parse_dump     with a callback that stops after the first answer
 * others: all of the above in turn. The checks: no out-of-bounds access
 * (ASan), error texts NUL-terminated within their buffer, errors <= 0.
 * Request sequence numbers are fixed at 1 (the seeds use seq 1).
 */
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nlmsg.h"
#include "xfrm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEQ 1u

typedef struct {
  size_t n;
  uint32_t sum;
} ent_acc_t;

/* Touch every field so ASan sees reads of whatever the parser filled in, and
 * check the decoded family lengths stay within the address arrays. */
static int ent_cb(const xfrm_dump_ent_t *e, void *arg)
{
  ent_acc_t *a = arg;
  a->n++;
  a->sum += e->reqid + e->sa.spi + e->pol.priority + e->pol.src_len + e->pol.dst_len;
  for (size_t i = 0; i < 16; i++) {
    a->sum += e->sa.src[i] + e->sa.dst[i] + e->pol.src[i] + e->pol.dst[i] +
              e->pol.outer_src[i] + e->pol.outer_dst[i];
  }
  return 0;
}

static int stop_cb(const struct nlmsghdr *h, void *arg)
{
  size_t *n = arg;
  (*n)++;
  return h->nlmsg_len > 0 ? 1 : 0;
}

static void check_txt(const char *txt, size_t cap)
{
  if (memchr(txt, '\0', cap) == NULL) {
    abort();
  }
}

static void run(unsigned mode, const uint8_t *buf, size_t len)
{
  char txt[128];
  int err = 0, rc = 0;
  bool stop = false;
  switch (mode) {
  case 0:
    txt[0] = '\0';
    if (nlm_parse_ack(buf, len, SEQ, txt, sizeof txt, &err) != 0 && err > 0) {
      abort();
    }
    check_txt(txt, sizeof txt);
    /* A 1-byte text buffer must stay a valid empty string. */
    txt[0] = '\0';
    nlm_parse_ack(buf, len, SEQ, txt, 1, &err);
    check_txt(txt, 1);
    nlm_parse_ack(buf, len, SEQ, NULL, 0, &err);
    break;
  case 1: {
    int errs[8] = {0};
    txt[0] = '\0';
    size_t got = nlm_parse_acks(buf, len, SEQ, 8, errs, txt, sizeof txt, &err);
    if (got > len / NLMSG_HDRLEN) {
      abort();
    }
    check_txt(txt, sizeof txt);
    break;
  }
  case 2:
  case 3: {
    ent_acc_t acc = {0, 0};
    xfrm_parse_dump(buf, len, SEQ, mode == 3, ent_cb, &acc, &stop, &rc);
    if (rc > 0 || acc.n > len / NLMSG_HDRLEN) {
      abort();
    }
    break;
  }
  case 4: {
    uint64_t p = 0, b = 0, o = 0, s = 0;
    if (xfrm_parse_get_sa(buf, len, SEQ, &p, &b, &o, &s, &rc) != 0 && rc > 0) {
      abort();
    }
    break;
  }
  case 5: {
    size_t n = 0;
    nlm_parse_dump(buf, len, SEQ, stop_cb, &n, &stop, &rc);
    if (n > 1 || rc > 0) {
      abort();
    }
    break;
  }
  default:
    break;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 65537) {
    return 0;
  }
  size_t len = size - 1;
  /* A heap copy of exactly len bytes (malloc aligns to 16, as recv's buffers
   * are aligned): ASan flags any read past the datagram. */
  uint8_t *p = malloc(len > 0 ? len : 1);
  if (p == NULL) {
    return 0;
  }
  memcpy(p, data + 1, len);
  unsigned mode = data[0] & 7u;
  if (mode < 6) {
    run(mode, p, len);
  } else {
    for (unsigned m = 0; m < 6; m++) {
      run(m, p, len);
    }
  }
  free(p);
  return 0;
}
