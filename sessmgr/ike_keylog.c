/*
 * ike_keylog.c - IKE SA keys in Wireshark's ikev2_decryption_table format,
 * so tshark can decrypt and check every message we send (the interop test
 * does). Compiled out unless the build sets IKEGW_KEYLOG (CMake option
 * IKEGW_KEYLOG, off by default); even then it writes only when the
 * environment names a file (IKEGW_IKEV2_KEYLOG=/path), only keys of SAs whose
 * peer authenticated (after IKE_AUTH, not at IKE_SA_INIT), to a file that is
 * ours alone (mode 0600, never through a symbolic link).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ike_sa.h"

FILE *ike_keylog_open(const char *path)
{
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return NULL;
  }
  struct stat st;
  /* An existing file readable by others is made ours alone first. */
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || fchmod(fd, 0600) != 0) {
    close(fd);
    return NULL;
  }
  FILE *f = fdopen(fd, "a");
  if (f == NULL) {
    close(fd);
  }
  return f;
}

bool ike_keylog_enabled(void)
{
#ifdef IKEGW_KEYLOG
  return true;
#else
  return false;
#endif
}

#ifdef IKEGW_KEYLOG
/* Wireshark's names for the algorithms (its IKEv2 decryption table). */
static const char *ws_encr(const ike_suite_t *s)
{
  bool b256 = s->encr_bits == 256;
  switch (s->encr) {
  case IKE_ENCR_AES_CBC:
    return b256 ? "AES-CBC-256 [RFC3602]" : "AES-CBC-128 [RFC3602]";
  case IKE_ENCR_AES_GCM_16:
    return b256 ? "AES-GCM-256 with 16 octet ICV [RFC5282]"
                : "AES-GCM-128 with 16 octet ICV [RFC5282]";
  case IKE_ENCR_AES_GCM_12:
    return b256 ? "AES-GCM-256 with 12 octet ICV [RFC5282]"
                : "AES-GCM-128 with 12 octet ICV [RFC5282]";
  case IKE_ENCR_AES_GCM_8:
    return b256 ? "AES-GCM-256 with 8 octet ICV [RFC5282]"
                : "AES-GCM-128 with 8 octet ICV [RFC5282]";
  default:
    return NULL; /* ChaCha20-Poly1305: not in Wireshark 4.0's table */
  }
}

static const char *ws_integ(uint16_t integ)
{
  switch (integ) {
  case IKE_INTEG_HMAC_SHA1_96:
    return "HMAC_SHA1_96 [RFC2404]";
  case IKE_INTEG_HMAC_SHA2_256_128:
    return "HMAC_SHA2_256_128 [RFC4868]";
  case IKE_INTEG_HMAC_SHA2_384_192:
    return "HMAC_SHA2_384_192 [RFC4868]";
  case IKE_INTEG_HMAC_SHA2_512_256:
    return "HMAC_SHA2_512_256 [RFC4868]";
  default:
    return "NONE [RFC4306]";
  }
}

static void hex(FILE *f, const uint8_t *p, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    fprintf(f, "%02x", p[i]);
  }
}

void ike_keylog_write(const ike_sa_t *sa)
{
  static const char *path;
  static bool checked;
  if (!checked) {
    path = getenv("IKEGW_IKEV2_KEYLOG");
    checked = true;
  }
  const char *encr = ws_encr(&sa->suite);
  if (path == NULL || encr == NULL) {
    return;
  }
  FILE *f = ike_keylog_open(path);
  if (f == NULL) {
    return;
  }
  const ike_keys_t *k = &sa->keys;
  /* UAT files keep byte fields as bare hex and text fields quoted. */
  fprintf(f, "%016llx,%016llx,", (unsigned long long)sa->spi_i,
          (unsigned long long)sa->spi_r);
  hex(f, k->sk_ei, k->e_len);
  fputc(',', f);
  hex(f, k->sk_er, k->e_len);
  fprintf(f, ",\"%s\",", encr);
  hex(f, k->sk_ai, k->a_len);
  fputc(',', f);
  hex(f, k->sk_ar, k->a_len);
  fprintf(f, ",\"%s\"\n", ws_integ(sa->suite.integ));
  fclose(f);
}
#else
void ike_keylog_write(const ike_sa_t *sa)
{
  (void)sa;
}
#endif
