/*
 * natt_steer.h - inbound ESP-in-UDP without the demux hop: a kernel-side split
 * of the NAT-T port (DESIGN.md "Performance principles").
 *
 * demux binds its port-4500 sockets with SO_REUSEPORT; ipsecmgr binds one more
 * socket to each of the same addresses and port, so each address has a
 * reuseport group of two members, and attaches a classic BPF program
 * (SO_ATTACH_REUSEPORT_CBPF) that picks the member for every datagram from its
 * first bytes (RFC 3948 2.2): fewer than 4 bytes (the 1-byte 0xFF NAT-T
 * keepalive) or 4 zero bytes (the non-ESP marker: IKE) go to demux's socket,
 * anything else (ESP: a non-zero SPI) to ipsecmgr's.
 *
 * The program returns an index into the group, and the kernel numbers members
 * in the order they joined; when a member leaves, the last member takes its
 * index. With two members that gives these rules, which main.c follows:
 *  - when one member is alone, it gets everything whatever the program says
 *    (an index past the end falls back to the kernel's hash over the members);
 *  - the member that joins second has index 1. ipsecmgr learns before joining
 *    whether demux is in the group (natt_steer_group_busy) and attaches the
 *    program for that order; if it joins first, the program already assumes
 *    demux will join at index 1;
 *  - when demux restarts while ipsecmgr stays, the order flips: ipsecmgr sees
 *    the evidence (a keepalive or marker on its own socket: its own probe
 *    keepalive sent when demux reconnects, or a real one) and re-attaches the
 *    program with the indexes swapped. In the meantime ESP that lands on demux
 *    is still forwarded to ipsecmgr over ZMQ as before: nothing is lost, it is
 *    only slower.
 */
#ifndef NATT_STEER_H
#define NATT_STEER_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NATT_STEER_PROG_LEN 6u  /* instructions in the program */

/* Build the program into prog[0..NATT_STEER_PROG_LEN): datagrams that are not
 * ESP (natt_steer_is_esp false) return ike_idx, the rest esp_idx. */
void natt_steer_prog(struct sock_filter *prog, uint32_t ike_idx, uint32_t esp_idx);

/* The program's decision in C: a UDP payload of at least 4 bytes whose first
 * four are not all zero. */
bool natt_steer_is_esp(const uint8_t *payload, size_t len);

/* Attach (or replace) the group's program through member fd. 0 or -errno. */
int natt_steer_attach(int fd, uint32_t ike_idx, uint32_t esp_idx);

/* Is some socket bound to addr (with its port) already? A plain bind without
 * SO_REUSEPORT on a throw-away socket: 1 busy (EADDRINUSE), 0 free, -errno. */
int natt_steer_group_busy(const struct sockaddr *addr, socklen_t alen);

/* A non-blocking UDP socket with SO_REUSEPORT (and IPV6_V6ONLY for IPv6)
 * bound to addr, receive buffer rcvbuf bytes (0 = default). fd or -errno. */
int natt_steer_open(const struct sockaddr *addr, socklen_t alen, int rcvbuf);

#endif /* NATT_STEER_H */
