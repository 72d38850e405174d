/*
 * fuzz_header.c - libFuzzer target for ike_hdr_parse (RFC 7296 3.1).
 *
 * Invariants checked on success: 28 <= length <= input size, major version 2,
 * and ike_hdr_write reproduces the 28 input bytes exactly (the header has no
 * reserved bits that the parser drops).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_pld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  ike_hdr_t h;
  int rc = ike_hdr_parse(data, size, &h);

  if (rc != 0) {
    if (rc != -IKE_E_TRUNC && rc != -IKE_E_BAD_LENGTH && rc != -IKE_E_BAD_VERSION) {
      abort();
    }
    if ((rc == -IKE_E_TRUNC) != (size < IKE_HDR_LEN)) {
      abort();
    }
    return 0;
  }
  if (h.length < IKE_HDR_LEN || h.length > size || (h.version >> 4) != 2) {
    abort();
  }
  uint8_t out[IKE_HDR_LEN];
  ike_wr_t w;
  ike_wr_init(&w, out, sizeof(out));
  ike_hdr_write(&w, &h);
  if (ike_wr_err(&w) != 0 || w.len != IKE_HDR_LEN ||
      memcmp(out, data, IKE_HDR_LEN) != 0) {
    abort();
  }
  return 0;
}
