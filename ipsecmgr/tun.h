/*
 * tun.h - the inner side of the userspace datapath: a TUN device (IFF_TUN |
 * IFF_NO_PI, so every read/write is one bare IP packet) configured over rtnetlink
 * (link up + MTU, addresses, routes for the virtual-IP pools), never by running
 * `ip`. All functions return 0 (or a count / fd) or -errno.
 */
#ifndef TUN_H
#define TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open (or create) TUN device `name` ("" or NULL: kernel picks tunN), non-blocking
 * and close-on-exec. ifname (IFNAMSIZ bytes, may be NULL) receives the actual
 * name, *ifindex (may be NULL) its index. Returns the fd or -errno. */
int tun_open(const char *name, char *ifname, int *ifindex);
/* The same, and with vnet_hdr IFF_VNET_HDR: every read and write starts with a
 * struct virtio_net_hdr (10 bytes), which lets writes carry GSO packets
 * (tun_gro.h). No offloads are enabled for reads (TUNSETOFFLOAD is not
 * called), so the kernel still hands over complete, checksummed packets. */
int tun_open_vnet(const char *name, char *ifname, int *ifindex, bool vnet_hdr);

/* Set the link up with the given MTU (0 = leave it) via RTM_NEWLINK. */
int tun_set_up(int ifindex, unsigned mtu);

/* Add an address (family AF_INET/AF_INET6, addr in network order) via RTM_NEWADDR. */
int tun_add_addr(int ifindex, int family, const void *addr, unsigned prefix_len);

/* Add (replace) / delete a route for prefix/prefix_len through the device
 * (RTM_NEWROUTE / RTM_DELROUTE, main table, scope link). */
int tun_add_route(int ifindex, int family, const void *prefix, unsigned prefix_len);
int tun_del_route(int ifindex, int family, const void *prefix, unsigned prefix_len);

/* Read up to max packets: packet i lands at bufs + i * stride (at most stride
 * bytes) with its length in lens[i]. Stops at the first EAGAIN. Returns the
 * number read (0 when none was waiting) or -errno if the first read failed. */
int tun_read_batch(int fd, uint8_t *bufs, size_t stride, size_t *lens, unsigned max);

/* Write one IP packet into the device (towards the host's stack). */
int tun_write(int fd, const uint8_t *pkt, size_t len);

/* Write one packet given as iov[0..iovcnt) (with IFF_VNET_HDR: header first). */
struct iovec;
int tun_writev(int fd, const struct iovec *iov, int iovcnt);

#endif /* TUN_H */
