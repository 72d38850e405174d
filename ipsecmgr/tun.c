/* tun.c - TUN device and its rtnetlink configuration, see tun.h. */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nlmsg.h"

int tun_open(const char *name, char *ifname, int *ifindex)
{
  return tun_open_vnet(name, ifname, ifindex, false);
}

int tun_open_vnet(const char *name, char *ifname, int *ifindex, bool vnet_hdr)
{
  if (name != NULL && strlen(name) >= IFNAMSIZ) {
    return -EINVAL;
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return -errno;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
  if (name != NULL) {
    memcpy(ifr.ifr_name, name, strlen(name));
  }
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  if (ifname != NULL) {
    memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
    ifname[IFNAMSIZ - 1] = '\0';
  }
  if (ifindex != NULL) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0 || ioctl(s, SIOCGIFINDEX, &ifr) != 0) {
      int e = errno;
      if (s >= 0) {
        close(s);
      }
      close(fd);
      return -e;
    }
    close(s);
    *ifindex = ifr.ifr_ifindex;
  }
  return fd;
}

/* One rtnetlink request on a short-lived socket (configuration, not hot path). */
static int tun_rtnl(nlm_msg_t *m)
{
  int fd = nlm_open(NETLINK_ROUTE);
  if (fd < 0) {
    return fd;
  }
  int rc = nlm_talk(fd, m, NULL, 0);
  close(fd);
  return rc;
}

int tun_set_up(int ifindex, unsigned mtu)
{
  nlm_msg_t m;
  nlm_init(&m, RTM_NEWLINK, 0);
  struct ifinfomsg *ifi = nlm_body(&m, sizeof(*ifi));
  if (ifi == NULL) {
    return -ENOSPC;
  }
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  if (mtu != 0) {
    uint32_t v = mtu;
    nlm_attr(&m, IFLA_MTU, &v, sizeof(v));
  }
  return tun_rtnl(&m);
}

static int tun_addr_len(int family)
{
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1;
}

int tun_add_addr(int ifindex, int family, const void *addr, unsigned prefix_len)
{
  int alen = tun_addr_len(family);
  if (alen < 0 || prefix_len > (unsigned)alen * 8u) {
    return -EINVAL;
  }
  nlm_msg_t m;
  nlm_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
  struct ifaddrmsg *ifa = nlm_body(&m, sizeof(*ifa));
  if (ifa == NULL) {
    return -ENOSPC;
  }
  ifa->ifa_family = (uint8_t)family;
  ifa->ifa_prefixlen = (uint8_t)prefix_len;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (uint32_t)ifindex;
  nlm_attr(&m, IFA_LOCAL, addr, (size_t)alen);
  nlm_attr(&m, IFA_ADDRESS, addr, (size_t)alen);
  return tun_rtnl(&m);
}

static int tun_route(uint16_t type, uint16_t flags, int ifindex, int family,
                     const void *prefix, unsigned prefix_len)
{
  int alen = tun_addr_len(family);
  if (alen < 0 || prefix_len > (unsigned)alen * 8u) {
    return -EINVAL;
  }
  nlm_msg_t m;
  nlm_init(&m, type, flags);
  struct rtmsg *rt = nlm_body(&m, sizeof(*rt));
  if (rt == NULL) {
    return -ENOSPC;
  }
  rt->rtm_family = (uint8_t)family;
  rt->rtm_dst_len = (uint8_t)prefix_len;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_STATIC;
  rt->rtm_scope = RT_SCOPE_LINK;
  rt->rtm_type = RTN_UNICAST;
  nlm_attr(&m, RTA_DST, prefix, (size_t)alen);
  uint32_t oif = (uint32_t)ifindex;
  nlm_attr(&m, RTA_OIF, &oif, sizeof(oif));
  return tun_rtnl(&m);
}

int tun_add_route(int ifindex, int family, const void *prefix, unsigned prefix_len)
{
  return tun_route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifindex, family, prefix,
                   prefix_len);
}

int tun_del_route(int ifindex, int family, const void *prefix, unsigned prefix_len)
{
  return tun_route(RTM_DELROUTE, 0, ifindex, family, prefix, prefix_len);
}

int tun_read_batch(int fd, uint8_t *bufs, size_t stride, size_t *lens, unsigned max)
{
  unsigned n = 0;
  while (n < max) {
    ssize_t r = read(fd, bufs + (size_t)n * stride, stride);
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || n > 0) {
        break;
      }
      return -errno;
    }
    lens[n++] = (size_t)r;
  }
  return (int)n;
}

int tun_write(int fd, const uint8_t *pkt, size_t len)
{
  for (;;) {
    ssize_t w = write(fd, pkt, len);
    if (w >= 0) {
      return (size_t)w == len ? 0 : -EIO;
    }
    if (errno != EINTR) {
      return -errno;
    }
  }
}

int tun_writev(int fd, const struct iovec *iov, int iovcnt)
{
  size_t want = 0;
  for (int i = 0; i < iovcnt; i++) {
    want += iov[i].iov_len;
  }
  for (;;) {
    ssize_t w = writev(fd, iov, iovcnt);
    if (w >= 0) {
      return (size_t)w == want ? 0 : -EIO;
    }
    if (errno != EINTR) {
      return -errno;
    }
  }
}
