/*
 * ike_addr.h - addresses as they cross process boundaries (text, DESIGN.md:
 * endpoints as strings) and as sockets want them, plus the IP_PKTINFO /
 * IPV6_PKTINFO control message that makes a datagram leave from a chosen
 * local address.
 */
#ifndef IKE_ADDR_H
#define IKE_ADDR_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for one PKTINFO control message of either family. */
#define IKE_ADDR_CMSG_SPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

/* Parse an IPv4 or IPv6 address text and a port (0..65535) into *ss.
 * Returns 0, or -1 (and *ss zeroed) for anything else. */
int ike_addr_parse(const char *text, uint32_t port, struct sockaddr_storage *ss);

/* Write the address of *ss as text into buf (>= INET6_ADDRSTRLEN bytes) and
 * return its port (host order). */
uint16_t ike_addr_str(const struct sockaddr_storage *ss, char *buf, size_t len);

/* The address bytes of *ss (4 or 16) and their length. */
const uint8_t *ike_addr_bytes(const struct sockaddr_storage *ss, size_t *len);

/* Point mh's control buffer at cbuf (IKE_ADDR_CMSG_SPACE bytes) holding a
 * PKTINFO message so the datagram leaves from src's address (ifindex 0 =
 * routing decides). */
void ike_addr_pktinfo(struct msghdr *mh, void *cbuf, const struct sockaddr_storage *src,
                      unsigned ifindex);

#endif /* IKE_ADDR_H */
