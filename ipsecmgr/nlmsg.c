/* nlmsg.c - netlink request building and round trip, see nlmsg.h. */
#include "nlmsg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

struct nlmsghdr *nlm_hdr(nlm_msg_t *m)
{
  return (struct nlmsghdr *)m->buf;
}

struct nlmsghdr *nlm_init(nlm_msg_t *m, uint16_t type, uint16_t flags)
{
  memset(m->buf, 0, NLMSG_HDRLEN);
  m->cap = sizeof(m->buf);
  m->err = 0;
  struct nlmsghdr *h = nlm_hdr(m);
  h->nlmsg_len = NLMSG_HDRLEN;
  h->nlmsg_type = type;
  h->nlmsg_flags = (uint16_t)(flags | NLM_F_REQUEST | NLM_F_ACK);
  return h;
}

/* Reserve len bytes (padded to NLMSG_ALIGNTO) at the end of the message. */
static void *nlm_reserve(nlm_msg_t *m, size_t len)
{
  struct nlmsghdr *h = nlm_hdr(m);
  size_t at = NLMSG_ALIGN(h->nlmsg_len);
  size_t need = NLMSG_ALIGN(len);
  if (m->err != 0 || at > m->cap || need > m->cap - at) {
    m->err = -ENOSPC;
    return NULL;
  }
  memset(m->buf + at, 0, need);
  h->nlmsg_len = (uint32_t)(at + need);
  return m->buf + at;
}

void *nlm_body(nlm_msg_t *m, size_t len)
{
  return nlm_reserve(m, len);
}

void *nlm_attr(nlm_msg_t *m, uint16_t type, const void *data, size_t len)
{
  if (len > 0xFFFFu - RTA_LENGTH(0)) {
    m->err = -ENOSPC;
    return NULL;
  }
  struct rtattr *a = nlm_reserve(m, RTA_LENGTH(len));
  if (a == NULL) {
    return NULL;
  }
  a->rta_type = type;
  a->rta_len = (unsigned short)RTA_LENGTH(len);
  if (data != NULL && len > 0) {
    memcpy(RTA_DATA(a), data, len);
  }
  return RTA_DATA(a);
}

struct rtattr *nlm_nest_begin(nlm_msg_t *m, uint16_t type)
{
  void *p = nlm_attr(m, type, NULL, 0);
  return p == NULL ? NULL : (struct rtattr *)((uint8_t *)p - RTA_LENGTH(0));
}

void nlm_nest_end(nlm_msg_t *m, struct rtattr *nest)
{
  if (nest == NULL || m->err != 0) {
    return;
  }
  size_t len = (size_t)(m->buf + nlm_hdr(m)->nlmsg_len - (uint8_t *)nest);
  if (len > 0xFFFFu) {
    m->err = -ENOSPC;
    return;
  }
  nest->rta_len = (unsigned short)len;
}

int nlm_err(const nlm_msg_t *m)
{
  return m->err;
}

int nlm_open(int proto)
{
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (fd < 0) {
    return -errno;
  }
  int one = 1;
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/* Pull the extended-ACK message (NLMSGERR_ATTR_MSG) out of an error reply. */
static void nlm_ext_msg(const struct nlmsghdr *h, const struct nlmsgerr *e, char *txt,
                        size_t cap)
{
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) {
    return;
  }
  size_t off = sizeof(*e);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
    off += e->msg.nlmsg_len - NLMSG_HDRLEN; /* the echoed request */
  }
  if (NLMSG_HDRLEN + off > h->nlmsg_len) {
    return;
  }
  const struct rtattr *a = (const struct rtattr *)((const uint8_t *)e + NLMSG_ALIGN(off));
  int left = (int)(h->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(off));
  for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    if (a->rta_type == NLMSGERR_ATTR_MSG && RTA_PAYLOAD(a) > 0) {
      snprintf(txt, cap, "%.*s", (int)RTA_PAYLOAD(a), (const char *)RTA_DATA(a));
      return;
    }
  }
}

int nlm_reply_error(const struct nlmsghdr *h)
{
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
    return -EBADMSG;
  }
  const struct nlmsgerr *e = NLMSG_DATA(h);
  /* netlink(7): an ACK carries 0, an error a negative errno (-4095..-1); any
   * other value is no kernel answer and must not pass for a result (nor be
   * negated later: -INT_MIN). */
  return e->error > 0 || e->error < -4095 ? -EBADMSG : e->error;
}

int nlm_left(size_t len)
{
  /* Signed on purpose: NLMSG_NEXT subtracts the ALIGNED length of the message,
   * up to 3 bytes more than the datagram holds when the last message's length
   * is not a multiple of 4; an unsigned count wraps around there and the walk
   * reads on past the datagram, a signed one goes negative and NLMSG_OK stops. */
  return len > 0x7fffffffu ? 0x7fffffff : (int)len;
}

int nlm_parse_ack(const void *buf, size_t len, uint32_t seq, char *errtxt, size_t errcap,
                  int *err)
{
  int left = nlm_left(len);
  for (const struct nlmsghdr *h = buf; nlm_ok(h, left); h = NLMSG_NEXT(h, left)) {
    if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR) {
      continue;
    }
    *err = nlm_reply_error(h);
    if (*err != 0 && errtxt != NULL && errcap > 0) {
      errtxt[0] = '\0';
      if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
        nlm_ext_msg(h, NLMSG_DATA(h), errtxt, errcap);
      }
      if (errtxt[0] == '\0') {
        snprintf(errtxt, errcap, "%s", strerror(-*err));
      }
    }
    return 1;
  }
  return 0;
}

size_t nlm_parse_acks(const void *buf, size_t len, uint32_t first, size_t n, int *errs,
                      char *errtxt, size_t errcap, int *first_err)
{
  size_t got = 0;
  int left = nlm_left(len);
  for (const struct nlmsghdr *h = buf; nlm_ok(h, left); h = NLMSG_NEXT(h, left)) {
    uint32_t i = h->nlmsg_seq - first;
    if (h->nlmsg_type != NLMSG_ERROR || i >= n ||
        h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
      continue;
    }
    int error = nlm_reply_error(h);
    if (errs != NULL) {
      errs[i] = error;
    }
    if (error != 0 && *first_err == 0) {
      *first_err = error;
      if (errtxt != NULL && errcap > 0) {
        errtxt[0] = '\0';
        nlm_ext_msg(h, NLMSG_DATA(h), errtxt, errcap);
        if (errtxt[0] == '\0') {
          snprintf(errtxt, errcap, "%s", strerror(-error));
        }
      }
    }
    got++;
  }
  return got;
}

int nlm_parse_dump(const void *buf, size_t len, uint32_t seq,
                   int (*cb)(const struct nlmsghdr *h, void *arg), void *arg, bool *stop,
                   int *rc)
{
  int left = nlm_left(len);
  for (const struct nlmsghdr *h = buf; nlm_ok(h, left); h = NLMSG_NEXT(h, left)) {
    if (h->nlmsg_seq != seq) {
      continue;
    }
    if (h->nlmsg_type == NLMSG_DONE) {
      *rc = 0;
      return 1;
    }
    if (h->nlmsg_type == NLMSG_ERROR) {
      *rc = nlm_reply_error(h);
      return 1;
    }
    if (!*stop && cb(h, arg) != 0) {
      *stop = true;
    }
  }
  return 0;
}

static uint32_t nlm_seq;

int nlm_talk(int fd, nlm_msg_t *m, char *errtxt, size_t errcap)
{
  if (errtxt != NULL && errcap > 0) {
    errtxt[0] = '\0';
  }
  if (m->err != 0) {
    if (errtxt != NULL) {
      snprintf(errtxt, errcap, "request does not fit in %zu bytes", m->cap);
    }
    return m->err;
  }
  struct nlmsghdr *req = nlm_hdr(m);
  req->nlmsg_seq = ++nlm_seq;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
    int e = errno;
    if (errtxt != NULL) {
      snprintf(errtxt, errcap, "netlink send: %s", strerror(e));
    }
    return -e;
  }
  _Alignas(8) uint8_t rb[8192];
  for (;;) {
    ssize_t n = recv(fd, rb, sizeof(rb), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int e = errno;
      if (errtxt != NULL) {
        snprintf(errtxt, errcap, "netlink recv: %s", strerror(e));
      }
      return -e;
    }
    int err = 0;
    if (nlm_parse_ack(rb, (size_t)n, req->nlmsg_seq, errtxt, errcap, &err) != 0) {
      return err;
    }
  }
}

/* Wait for the ACKs of requests with sequence numbers first..first+n-1. */
static int nlm_acks(int fd, uint32_t first, size_t n, int *errs, char *errtxt, size_t errcap,
                    int *first_err)
{
  _Alignas(8) uint8_t rb[16384];
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd, rb, sizeof(rb), 0);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -errno;
    }
    got += nlm_parse_acks(rb, (size_t)r, first, n, errs, errtxt, errcap, first_err);
  }
  return 0;
}

int nlm_talk_batch(int fd, nlm_msg_t *const *m, size_t n, int *errs, char *errtxt,
                   size_t errcap)
{
  int first_err = 0;
  if (errtxt != NULL && errcap > 0) {
    errtxt[0] = '\0';
  }
  size_t i = 0;
  while (i < n) {
    struct iovec iov[64];
    size_t k = 0, bytes = 0;
    uint32_t first = nlm_seq + 1u;
    /* Whole requests only, up to NLM_BATCH_BYTES (at least one per call). */
    while (i + k < n && k < 64) {
      struct nlmsghdr *h = nlm_hdr(m[i + k]);
      if (m[i + k]->err != 0) {
        return m[i + k]->err;
      }
      if (k > 0 && bytes + h->nlmsg_len > NLM_BATCH_BYTES) {
        break;
      }
      h->nlmsg_seq = ++nlm_seq;
      iov[k].iov_base = h;
      iov[k].iov_len = NLMSG_ALIGN(h->nlmsg_len);
      bytes += iov[k].iov_len;
      k++;
    }
    struct sockaddr_nl to = {.nl_family = AF_NETLINK};
    struct msghdr mh = {.msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = iov,
                        .msg_iovlen = k};
    if (sendmsg(fd, &mh, 0) < 0) {
      int e = errno;
      if (errtxt != NULL) {
        snprintf(errtxt, errcap, "netlink send: %s", strerror(e));
      }
      return -e;
    }
    int r = nlm_acks(fd, first, k, errs != NULL ? errs + i : NULL, errtxt, errcap, &first_err);
    if (r != 0) {
      if (errtxt != NULL) {
        snprintf(errtxt, errcap, "netlink recv: %s", strerror(-r));
      }
      return r;
    }
    i += k;
  }
  return first_err;
}

int nlm_dump(int fd, nlm_msg_t *req, int (*cb)(const struct nlmsghdr *h, void *arg), void *arg)
{
  if (req->err != 0) {
    return req->err;
  }
  struct nlmsghdr *h0 = nlm_hdr(req);
  h0->nlmsg_flags = (uint16_t)((h0->nlmsg_flags & ~NLM_F_ACK) | NLM_F_DUMP);
  h0->nlmsg_seq = ++nlm_seq;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  if (sendto(fd, h0, h0->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
    return -errno;
  }
  _Alignas(8) static uint8_t rb[65536];
  bool stop = false;
  for (;;) {
    ssize_t r = recv(fd, rb, sizeof(rb), 0);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      return -errno;
    }
    int rc = 0;
    if (nlm_parse_dump(rb, (size_t)r, h0->nlmsg_seq, cb, arg, &stop, &rc) != 0) {
      return rc;
    }
  }
}
