/*
 * fuzz_config.c - libFuzzer target for the config reader (common/ike_config.h).
 *
 * The input is parsed as a whole config file. When it parses, the printed config
 * must parse again to an equal config and print identically (round trip), and
 * the first line of the input is also applied as a run-time line (gwctl
 * configure) to the parsed config, which must either succeed or leave it
 * unchanged. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char pbuf1[1 << 20], pbuf2[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static ike_config_t a, b, c;
  char err[512];
  if (ike_config_parse_buf("fuzz", data, size, &a, err, sizeof(err)) != 0) {
    if (strncmp(err, "fuzz:", 5) != 0) {
      abort(); /* every error names the file and line */
    }
    return 0;
  }
  int n = ike_config_print_buf(&a, pbuf1, sizeof(pbuf1));
  if (n < 0 || (size_t)n >= sizeof(pbuf1)) {
    abort();
  }
  if (ike_config_parse_buf("print", pbuf1, (size_t)n, &b, err, sizeof(err)) != 0) {
    abort();
  }
  int m = ike_config_print_buf(&b, pbuf2, sizeof(pbuf2));
  if (m != n || memcmp(pbuf1, pbuf2, (size_t)n) != 0) {
    abort();
  }
  /* The first line as a run-time command inside the first template, if any. */
  char line[IKE_CFG_LINE_MAX + 1];
  size_t l = 0;
  while (l < size && l < IKE_CFG_LINE_MAX && data[l] != '\n') {
    line[l] = data[l] != 0 ? (char)data[l] : ' ';
    l++;
  }
  line[l] = '\0';
  ike_cfg_cursor_t cur;
  ike_cfg_cursor_init(&cur, "gwctl");
  memcpy(&c, &b, sizeof(c));
  if (b.n_templates > 0) {
    char enter[160];
    snprintf(enter, sizeof(enter), "context %s", b.contexts[b.templates[0].ctx].name);
    if (ike_config_apply_line(&b, &cur, enter, err, sizeof(err)) != 0) {
      abort();
    }
    snprintf(enter, sizeof(enter), "crypto template %s ikev2-dynamic", b.templates[0].name);
    if (ike_config_apply_line(&b, &cur, enter, err, sizeof(err)) != 0) {
      abort();
    }
    memcpy(&c, &b, sizeof(c));
  }
  if (ike_config_apply_line(&b, &cur, line, err, sizeof(err)) != 0 && !ike_config_equal(&b, &c)) {
    abort(); /* a refused line must change nothing */
  }
  return 0;
}
