/* ike_addr.c - address text, bytes and PKTINFO helpers shared by the processes. */
#include <arpa/inet.h>
#include <string.h>

#include "ike_addr.h"

int ike_addr_parse(const char *text, uint32_t port, struct sockaddr_storage *ss)
{
  memset(ss, 0, sizeof *ss);
  if (text == NULL || port > 65535) {
    return -1;
  }
  struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    return 0;
  }
  if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    return 0;
  }
  memset(ss, 0, sizeof *ss);
  return -1;
}

uint16_t ike_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &s4->sin_addr, buf, (socklen_t)len);
    return ntohs(s4->sin_port);
  }
  if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
    return ntohs(s6->sin6_port);
  }
  if (len > 0) {
    buf[0] = '\0';
  }
  return 0;
}

const uint8_t *ike_addr_bytes(const struct sockaddr_storage *ss, size_t *len)
{
  if (ss->ss_family == AF_INET) {
    *len = 4;
    return (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr;
  }
  *len = 16;
  return (const uint8_t *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

void ike_addr_pktinfo(struct msghdr *mh, void *cbuf, const struct sockaddr_storage *src,
                      unsigned ifindex)
{
  memset(cbuf, 0, IKE_ADDR_CMSG_SPACE);
  mh->msg_control = cbuf;
  struct cmsghdr *cm;
  if (src->ss_family == AF_INET) {
    struct in_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.ipi_ifindex = (int)ifindex;
    pi.ipi_spec_dst = ((const struct sockaddr_in *)src)->sin_addr;
    mh->msg_controllen = CMSG_SPACE(sizeof pi);
    cm = CMSG_FIRSTHDR(mh);
    cm->cmsg_level = IPPROTO_IP;
    cm->cmsg_type = IP_PKTINFO;
    cm->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(cm), &pi, sizeof pi);
  } else {
    struct in6_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.ipi6_ifindex = ifindex;
    pi.ipi6_addr = ((const struct sockaddr_in6 *)src)->sin6_addr;
    mh->msg_controllen = CMSG_SPACE(sizeof pi);
    cm = CMSG_FIRSTHDR(mh);
    cm->cmsg_level = IPPROTO_IPV6;
    cm->cmsg_type = IPV6_PKTINFO;
    cm->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(cm), &pi, sizeof pi);
  }
}
