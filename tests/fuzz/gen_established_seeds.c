/*
 * gen_established_seeds.c - write the seed corpus of fuzz_established
 * (tests/fuzz/corpus/fuzz_established/): inner payload chains built with the
 * codec (common/ike_pld.h), each behind the three bytes fuzz_established.c
 * reads: mode, options, type of the first inner payload.
 *
 * NAT_DETECTION hashes, COOKIE2 echoes and Delete(ESP) SPIs are placeholders
 * here: seeds with options bit 1 set have them patched by the fuzzer for each
 * fresh SA. Not part of the build; run from the top of the tree:
 *   cc -std=c11 -D_GNU_SOURCE -Icommon tests/fuzz/gen_established_seeds.c \
 *      common/ike_pld_build.c common/ike_buf.c -o /tmp/gen_est && /tmp/gen_est
 * (optional argument: the output directory).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike_pld.h"
#include "ike_wire.h"

#define OPT_NEWPATH 0x01u
#define OPT_FIXUP 0x02u
#define OPT_CHILD_EXCH 0x40u

static const char *out_dir = "tests/fuzz/corpus/fuzz_established";

typedef struct {
  ike_mb_t mb;
  uint8_t buf[2048];
} chain_t;

static void start(chain_t *c)
{
  ike_mb_init_inner(&c->mb, c->buf, sizeof c->buf);
}

static void note(chain_t *c, uint16_t type, const void *data, size_t len)
{
  ike_put_notify(&c->mb, 0, NULL, 0, type, data, len);
}

static void natd(chain_t *c)
{
  static const uint8_t zero[20];
  note(c, IKE_N_NAT_DETECTION_SOURCE_IP, zero, sizeof zero);
  note(c, IKE_N_NAT_DETECTION_DESTINATION_IP, zero, sizeof zero);
}

static void cookie2(chain_t *c)
{
  static const uint8_t v[16] = {0xc0, 0x0c, 0x1e, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  note(c, IKE_N_COOKIE2, v, sizeof v);
}

static void no_nats(chain_t *c)
{
  /* RFC 4555 3.9: source IP, destination IP, source port, destination port as
   * the client sends from its first new path (127.0.2.1:4500 -> 192.0.2.1:4500). */
  static const uint8_t d[12] = {127, 0, 2, 1, 192, 0, 2, 1, 0x11, 0x94, 0x11, 0x94};
  note(c, IKE_N_NO_NATS_ALLOWED, d, sizeof d);
}

static void additional(chain_t *c)
{
  static const uint8_t a4[4] = {192, 0, 2, 200};
  static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0};
  note(c, IKE_N_ADDITIONAL_IP4_ADDRESS, a4, sizeof a4);
  note(c, IKE_N_ADDITIONAL_IP6_ADDRESS, a6, sizeof a6);
}

static void write_seed(const char *name, uint8_t mode, uint8_t opt, chain_t *c)
{
  uint8_t first = 0;
  int n = 0;
  if (c != NULL) {
    n = ike_mb_finish(&c->mb, &first);
    if (n < 0) {
      fprintf(stderr, "%s: chain overflow\n", name);
      exit(1);
    }
  }
  char path[512];
  snprintf(path, sizeof path, "%s/%s", out_dir, name);
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    perror(path);
    exit(1);
  }
  uint8_t hdr[3] = {mode, opt, first};
  fwrite(hdr, 1, sizeof hdr, f);
  if (n > 0) {
    fwrite(c->buf, 1, (size_t)n, f);
  }
  fclose(f);
}

int main(int argc, char **argv)
{
  chain_t c;
  if (argc > 1) {
    out_dir = argv[1];
  }
  /* (a) requests of the client. */
  write_seed("req_dpd_empty", 0, 0, NULL);

  start(&c);
  note(&c, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  natd(&c);
  write_seed("req_update_natd", 0, OPT_NEWPATH | OPT_FIXUP, &c);

  start(&c);
  note(&c, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  natd(&c);
  write_seed("req_update_natd_behind_nat", 0, OPT_NEWPATH, &c); /* hashes do not match */

  start(&c);
  note(&c, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  natd(&c);
  cookie2(&c);
  write_seed("req_update_cookie2", 0, OPT_NEWPATH | OPT_FIXUP, &c);

  start(&c);
  note(&c, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  natd(&c);
  no_nats(&c);
  write_seed("req_update_no_nats", 0, OPT_NEWPATH | OPT_FIXUP, &c);

  start(&c);
  note(&c, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  natd(&c);
  additional(&c);
  write_seed("req_update_additional", 0, OPT_NEWPATH | OPT_FIXUP, &c);

  start(&c);
  note(&c, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  write_seed("req_update_no_natd", 0, OPT_NEWPATH, &c);

  start(&c);
  cookie2(&c);
  write_seed("req_cookie2", 0, 0, &c);

  start(&c);
  additional(&c);
  write_seed("req_additional", 0, 0, &c);

  start(&c);
  note(&c, IKE_N_ADDITIONAL_IP4_ADDRESS, (const uint8_t[]){192, 0, 2, 201}, 4);
  write_seed("req_additional_ip4", 0, 0, &c);

  start(&c);
  note(&c, IKE_N_NO_ADDITIONAL_ADDRESSES, NULL, 0);
  write_seed("req_no_additional", 0, 0, &c);

  start(&c);
  no_nats(&c);
  write_seed("req_no_nats", 0, 0, &c);

  start(&c);
  ike_put_delete(&c.mb, IKE_PROTO_IKE, 0, NULL, 0);
  write_seed("req_delete_ike", 0, 0, &c);

  start(&c);
  {
    uint32_t spi = 0x01020304u;
    ike_put_delete(&c.mb, IKE_PROTO_ESP, 4, &spi, 1);
  }
  write_seed("req_delete_esp", 0, OPT_FIXUP, &c);

  start(&c);
  {
    uint32_t spi = 0x01020304u;
    ike_put_delete(&c.mb, IKE_PROTO_ESP, 4, &spi, 1);
  }
  write_seed("req_delete_esp_unknown", 0, 0, &c);

  start(&c);
  note(&c, IKE_N_UPDATE_SA_ADDRESSES, NULL, 0);
  natd(&c);
  write_seed("req_update_in_child_exch", 0, OPT_NEWPATH | OPT_FIXUP | OPT_CHILD_EXCH, &c);

  /* (b) responses to the gateway's requests. */
  write_seed("rsp_dpd_empty", 1, 0, NULL);

  start(&c);
  cookie2(&c);
  write_seed("rsp_check_cookie2", 1, OPT_NEWPATH | OPT_FIXUP, &c);

  start(&c);
  cookie2(&c);
  write_seed("rsp_check_cookie2_wrong", 1, OPT_NEWPATH, &c);

  write_seed("rsp_check_no_cookie2", 1, OPT_NEWPATH, NULL);

  start(&c);
  cookie2(&c);
  natd(&c);
  write_seed("rsp_check_cookie2_natd", 1, OPT_NEWPATH | OPT_FIXUP, &c);

  start(&c);
  ike_put_delete(&c.mb, IKE_PROTO_IKE, 0, NULL, 0);
  write_seed("rsp_dpd_delete_ike", 1, 0, &c);
  return 0;
}
