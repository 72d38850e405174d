/*
 * nlmsg.h - netlink request building and the request/ACK round trip, shared by
 * the TUN setup (rtnetlink) and the XFRM backend.
 *
 * A request lives in one stack struct: header, fixed body, then attributes. Every
 * append is bounds-checked; the first that does not fit sets a sticky error and
 * later appends are no-ops, so builders check once (nlm_err) before sending, as
 * iproute2's addattr_l / strongSwan's netlink_reserve do.
 */
#ifndef NLMSG_H
#define NLMSG_H

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NLM_MSG_MAX 4096

typedef struct nlm_msg {
  _Alignas(8) uint8_t buf[NLM_MSG_MAX];
  size_t cap;  /* usable bytes of buf (nlm_init sets sizeof(buf); may be lowered after) */
  int err;     /* 0, or -ENOSPC once something did not fit */
} nlm_msg_t;

/* Start a request of type with flags (NLM_F_REQUEST | NLM_F_ACK are added). */
struct nlmsghdr *nlm_init(nlm_msg_t *m, uint16_t type, uint16_t flags);
/* Append a zeroed fixed body of len bytes (aligned); NULL on overflow. */
void *nlm_body(nlm_msg_t *m, size_t len);
/* Append an attribute (struct rtattr / struct nlattr share the layout); returns a
 * pointer to its payload or NULL (sticky -ENOSPC). data may be NULL (zeroed). */
void *nlm_attr(nlm_msg_t *m, uint16_t type, const void *data, size_t len);
/* Open a nested attribute; close it with nlm_nest_end() to patch its length. */
struct rtattr *nlm_nest_begin(nlm_msg_t *m, uint16_t type);
void nlm_nest_end(nlm_msg_t *m, struct rtattr *nest);
/* The header of the request in m. */
struct nlmsghdr *nlm_hdr(nlm_msg_t *m);
/* 0 or the sticky error. */
int nlm_err(const nlm_msg_t *m);

/* A netlink socket of protocol proto (NETLINK_ROUTE, NETLINK_XFRM) with extended
 * ACKs requested. Returns fd or -errno. */
int nlm_open(int proto);
/* Send the request and wait for its ACK. Returns 0, the kernel's -errno, or the
 * error of a failed send/recv. When errtxt is not NULL it receives the kernel's
 * extended-ACK message if there was one, else strerror of the error ("" on 0). */
int nlm_talk(int fd, nlm_msg_t *m, char *errtxt, size_t errcap);

/* Send n built requests in as few sendmsg calls as fit (one iovec per request,
 * at most NLM_BATCH_BYTES per call, so a batch is split safely between whole
 * requests) and collect one ACK per request: errs[i] = 0 or the kernel's
 * -errno for request i (errs may be NULL). Returns 0 when all succeeded, else
 * the first error, with its text in errtxt as nlm_talk does. */
#define NLM_BATCH_BYTES 32768u
int nlm_talk_batch(int fd, nlm_msg_t *const *m, size_t n, int *errs, char *errtxt,
                   size_t errcap);

/* A dump: send req with NLM_F_DUMP (its ACK flag cleared) and call cb for each
 * answer message until NLMSG_DONE. cb returning non-zero stops early (the rest
 * of the dump is drained). Returns 0 or -errno. */
int nlm_dump(int fd, nlm_msg_t *req, int (*cb)(const struct nlmsghdr *h, void *arg),
             void *arg);

/* Reply parsers: the walks of one received datagram that nlm_talk,
 * nlm_talk_batch and nlm_dump do after each recv, on a buffer so they are
 * fuzzed without a socket (tests/fuzz/fuzz_netlink.c). buf must be aligned to
 * NLMSG_ALIGNTO (4); len is what recv returned. Every length comes from the
 * kernel and is bounds-checked before use (NLMSG_OK, RTA_OK).
 *
 * nlm_parse_ack: the ACK (NLMSG_ERROR) of request seq. Returns 1 when found,
 * with *err = 0 or the kernel's -errno (-EBADMSG when truncated) and, for an
 * error, errtxt (may be NULL) = the extended-ACK text or strerror; 0 when the
 * datagram does not hold it. */
int nlm_parse_ack(const void *buf, size_t len, uint32_t seq, char *errtxt, size_t errcap,
                  int *err);
/* nlm_parse_acks: the ACKs of requests first..first+n-1; errs[i] (may be
 * NULL) = the error of request i, *first_err = the first non-zero error seen
 * (with its text in errtxt as above) if it was 0. Returns how many ACKs the
 * datagram held. */
size_t nlm_parse_acks(const void *buf, size_t len, uint32_t first, size_t n, int *errs,
                      char *errtxt, size_t errcap, int *first_err);
/* nlm_parse_dump: one datagram of the dump of request seq; cb is called for each
 * answer until it returns non-zero (then *stop is set and the rest is only
 * drained). Returns 1 at the end of the dump (NLMSG_DONE: *rc = 0, or an error:
 * *rc = -errno), 0 when more datagrams follow. */
/* The remaining-bytes count of a NLMSG_OK / NLMSG_NEXT walk over len bytes:
 * a signed int (see nlmsg.c), len clamped to INT_MAX. */
int nlm_left(size_t len);
/* NLMSG_OK for that signed count (glibc's macro compares it with the unsigned
 * nlmsg_len). */
static inline bool nlm_ok(const struct nlmsghdr *h, int left)
{
  return left >= (int)sizeof(struct nlmsghdr) && h->nlmsg_len >= sizeof(struct nlmsghdr) &&
         h->nlmsg_len <= (unsigned int)left;
}
/* The error of an NLMSG_ERROR message h (whole, as NLMSG_OK checked): 0 or
 * -errno; -EBADMSG when too short or not an errno (positive). */
int nlm_reply_error(const struct nlmsghdr *h);
int nlm_parse_dump(const void *buf, size_t len, uint32_t seq,
                   int (*cb)(const struct nlmsghdr *h, void *arg), void *arg, bool *stop,
                   int *rc);

#endif /* NLMSG_H */
