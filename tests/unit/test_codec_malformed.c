/*
 * test_codec_malformed.c - malformed IKEv2 messages must fail with the exact
 * error, and that error must map to the responder action RFC 7296 2.21 asks
 * for (ike_err_action). Each row of the table is either a raw datagram or a
 * payload chain that the harness puts behind a valid IKE header (next payload
 * = first, length = 28 + chain). The harness runs ike_msg_parse and then
 * every body parser (ike_chain_check) and compares the first error.
 *
 * After the table: every prefix of valid messages, single-bit flips of a valid
 * message, and seeded random input up to 64 KiB, which must fail or succeed
 * cleanly (ASan/UBSan build: no out-of-bounds read, no UB).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ike_pld.h"

#define RAW (-1) /* row bytes are a whole datagram */
#define OK_ (-1) /* no action: the row must parse */

enum { IS = IKE_ACT_INVALID_SYNTAX, UC = IKE_ACT_UNSUPPORTED_CRITICAL, DR = IKE_ACT_DROP };

typedef struct row {
  const char *name;
  int first;            /* RAW, or the first payload type */
  int err;              /* expected return: 0 or -IKE_E_* */
  int act;              /* expected ike_err_action, OK_ for err == 0 */
  uint8_t bad_type;     /* expected bad_type for UNSUPPORTED_CRITICAL */
  const uint8_t *b;
  size_t len;
} row_t;

#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define ROW(nm, first, err, act, ...) { nm, first, err, act, 0, BYTES(__VA_ARGS__) }
#define ROWBT(nm, first, bt, ...) \
  { nm, first, -IKE_E_UNSUPPORTED_CRITICAL, UC, bt, BYTES(__VA_ARGS__) }
/* Row whose bytes are cut to n (n < sizeof bytes). */
#define ROWN(nm, first, err, act, n, ...) \
  { nm, first, err, act, 0, (const uint8_t[]){ __VA_ARGS__ }, n }

/* IKE header (RFC 7296 3.1) with a given next payload, version and length. */
#define HDR(np, ver, len)                                                  \
  1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, np, ver, 34, 0x08, 0, 0, 0, \
      0, (uint8_t)((len) >> 24), (uint8_t)((len) >> 16), (uint8_t)((len) >> 8), \
      (uint8_t)(len)
/* Generic payload header (3.2). */
#define GH(next, len) next, 0, (uint8_t)((len) >> 8), (uint8_t)(len)
#define GHC(next, len) next, 0x80, (uint8_t)((len) >> 8), (uint8_t)(len)
/* An empty payload body. */
#define EMPTY(nm, type, err) ROW(nm, type, err, IS, GH(0, 4))

/* Transform ENCR AES-CBC with Key Length 128 (3.3.2, 3.3.5): 12 bytes. */
#define T_AES(last) last, 0, 0, 12, 1, 0, 0, 12, 0x80, 14, 0, 128
/* IKE proposal with one transform: 20 bytes. */
#define P_IKE(last, num) last, 0, 0, 20, num, 1, 0, 1, T_AES(0)
/* ESP proposal, 4-byte SPI, one transform: 24 bytes. */
#define P_ESP(last, num) last, 0, 0, 24, num, 3, 4, 1, 0xc0, 0, 0, 1, T_AES(0)
/* IPv4 traffic selector (3.13.1): 16 bytes. */
#define TS4 7, 0, 0, 16, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255
#define B8(x) x, x, x, x, x, x, x, x
#define B16(x) B8(x), B8(x)
#define B128(x) B16(x), B16(x), B16(x), B16(x), B16(x), B16(x), B16(x), B16(x)
#define B256(x) B128(x), B128(x)
#define V4 43, 0, 0, 4 /* empty Vendor ID followed by another Vendor ID */
#define V4x8 V4, V4, V4, V4, V4, V4, V4, V4

static const row_t rows[] = {
  /* --- IKE header (3.1) --- */
  ROWN("hdr_0_bytes", RAW, -IKE_E_TRUNC, IS, 0, HDR(0, 0x20, 28)),
  ROWN("hdr_1_byte", RAW, -IKE_E_TRUNC, IS, 1, HDR(0, 0x20, 28)),
  ROWN("hdr_27_bytes", RAW, -IKE_E_TRUNC, IS, 27, HDR(0, 0x20, 28)),
  ROW("hdr_len_0", RAW, -IKE_E_BAD_LENGTH, IS, HDR(0, 0x20, 0)),
  ROW("hdr_len_27", RAW, -IKE_E_BAD_LENGTH, IS, HDR(0, 0x20, 27)),
  ROW("hdr_len_gt_datagram", RAW, -IKE_E_BAD_LENGTH, IS, HDR(0, 0x20, 29)),
  ROW("hdr_len_4G", RAW, -IKE_E_BAD_LENGTH, IS, HDR(0, 0x20, 0xffffffffu)),
  ROW("hdr_major_1", RAW, -IKE_E_BAD_VERSION, DR, HDR(0, 0x10, 28)),
  ROW("hdr_major_3", RAW, -IKE_E_BAD_VERSION, DR, HDR(0, 0x30, 28)),
  ROW("hdr_minor_ignored", RAW, 0, OK_, HDR(0, 0x2f, 28)),
  ROW("hdr_datagram_longer_ok", RAW, 0, OK_, HDR(0, 0x20, 28), 0xde, 0xad),
  ROW("hdr_len_cuts_payload", RAW, -IKE_E_TRUNC, IS, HDR(43, 0x20, 28), GH(0, 4)),
  /* --- generic payload header and chain (3.2) --- */
  ROW("pld_len_0", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(0, 0)),
  ROW("pld_len_1", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(0, 1)),
  ROW("pld_len_2", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(0, 2)),
  ROW("pld_len_3", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(0, 3)),
  ROW("pld_len_past_end", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(0, 12), 1, 2, 3, 4),
  ROW("pld_len_65535", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(0, 65535), 1),
  ROW("pld_overlaps_next", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(43, 10), 1, 2,
      3, 4, GH(0, 8), 0xff, 0xff, 7, 8),
  ROW("chain_runs_off_end", IKE_PLD_VENDOR, -IKE_E_TRUNC, IS, GH(43, 8), 1, 2, 3, 4),
  ROW("chain_partial_header", IKE_PLD_VENDOR, -IKE_E_TRUNC, IS, GH(43, 8), 1, 2,
      3, 4, 0, 0),
  ROWN("chain_first_missing", IKE_PLD_SA, -IKE_E_TRUNC, IS, 0, 0),
  ROW("trailing_garbage", IKE_PLD_VENDOR, -IKE_E_BAD_LENGTH, IS, GH(0, 8), 1, 2,
      3, 4, 9, 9, 9),
  ROW("trailing_after_none", RAW, -IKE_E_BAD_LENGTH, IS, HDR(0, 0x20, 32), 0, 0, 0, 4),
  ROW("sk_not_last", IKE_PLD_SK, -IKE_E_BAD_LENGTH, IS, GH(41, 8), 1, 2, 3, 4,
      GH(0, 4)),
  ROW("skf_not_last", IKE_PLD_SKF, -IKE_E_BAD_LENGTH, IS, GH(41, 12), 0, 1, 0, 1,
      1, 2, 3, 4, 0xee),
  ROW("sk_last_ok", IKE_PLD_NOTIFY, 0, OK_, GH(46, 8), 0, 0, 0x40, 0x0c,
      GH(35, 8), 1, 2, 3, 4),
  ROWBT("unknown_critical", 99, 99, GHC(0, 8), 1, 2, 3, 4),
  ROWBT("unknown_critical_2nd", IKE_PLD_VENDOR, 200, GH(200, 4), GHC(0, 4)),
  ROWBT("unknown_critical_0x31", IKE_PLD_VENDOR, 49, GH(49, 4), GHC(0, 4)),
  ROW("unknown_noncritical_ok", 99, 0, OK_, GH(0, 8), 1, 2, 3, 4),
  ROW("unknown_noncritical_chain_ok", IKE_PLD_VENDOR, 0, OK_, GH(250, 4), GH(43, 5),
      7, GH(0, 4)),
  ROW("known_critical_ok", IKE_PLD_VENDOR, 0, OK_, GHC(0, 4)),
  ROW("payloads_48_ok", IKE_PLD_VENDOR, 0, OK_, V4x8, V4x8, V4x8, V4x8, V4x8, V4,
      V4, V4, V4, V4, V4, V4, GH(0, 4)),
  ROW("payloads_49", IKE_PLD_VENDOR, -IKE_E_TOO_MANY, IS, V4x8, V4x8, V4x8, V4x8,
      V4x8, V4x8, GH(0, 4)),
  /* --- payloads that need a body, sent empty --- */
  EMPTY("empty_sa", IKE_PLD_SA, -IKE_E_BAD_LENGTH),
  EMPTY("empty_ke", IKE_PLD_KE, -IKE_E_BAD_LENGTH),
  EMPTY("empty_idi", IKE_PLD_IDI, -IKE_E_BAD_LENGTH),
  EMPTY("empty_idr", IKE_PLD_IDR, -IKE_E_BAD_LENGTH),
  EMPTY("empty_cert", IKE_PLD_CERT, -IKE_E_BAD_LENGTH),
  EMPTY("empty_certreq", IKE_PLD_CERTREQ, -IKE_E_BAD_LENGTH),
  EMPTY("empty_auth", IKE_PLD_AUTH, -IKE_E_BAD_LENGTH),
  EMPTY("empty_nonce", IKE_PLD_NONCE, -IKE_E_BAD_SYNTAX),
  EMPTY("empty_notify", IKE_PLD_NOTIFY, -IKE_E_BAD_LENGTH),
  EMPTY("empty_delete", IKE_PLD_DELETE, -IKE_E_BAD_LENGTH),
  EMPTY("empty_tsi", IKE_PLD_TSI, -IKE_E_BAD_LENGTH),
  EMPTY("empty_tsr", IKE_PLD_TSR, -IKE_E_BAD_LENGTH),
  EMPTY("empty_cp", IKE_PLD_CP, -IKE_E_BAD_LENGTH),
  EMPTY("empty_eap", IKE_PLD_EAP, -IKE_E_BAD_LENGTH),
  EMPTY("empty_skf", IKE_PLD_SKF, -IKE_E_BAD_LENGTH),
  ROW("ke_3_bytes", IKE_PLD_KE, -IKE_E_BAD_LENGTH, IS, GH(0, 7), 0, 19, 0),
  ROW("id_3_bytes", IKE_PLD_IDI, -IKE_E_BAD_LENGTH, IS, GH(0, 7), 1, 0, 0),
  ROW("auth_3_bytes", IKE_PLD_AUTH, -IKE_E_BAD_LENGTH, IS, GH(0, 7), 2, 0, 0),
  /* --- SA (3.3) --- */
  ROW("sa_ok", IKE_PLD_SA, 0, OK_, GH(0, 24), P_IKE(0, 1)),
  ROW("sa_ok_two_props", IKE_PLD_SA, 0, OK_, GH(0, 48), P_IKE(2, 1), P_ESP(0, 2)),
  ROW("sa_ok_answer_num_2", IKE_PLD_SA, 0, OK_, GH(0, 24), P_IKE(0, 2)),
  ROW("sa_prop_len_7", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 0, 0, 0, 7,
      1, 1, 0, 1, T_AES(0)),
  ROW("sa_prop_len_short", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 0, 0, 0,
      19, 1, 1, 0, 1, T_AES(0)),
  ROW("sa_prop_len_long", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 0, 0, 0,
      21, 1, 1, 0, 1, T_AES(0)),
  ROW("sa_prop_extra_bytes", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 26), 0, 0, 0,
      22, 1, 1, 0, 1, T_AES(0), 0, 0),
  ROW("sa_trans_len_7", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 0, 0, 0, 20,
      1, 1, 0, 1, 0, 0, 0, 7, 1, 0, 0, 12, 0x80, 14, 0, 128),
  ROW("sa_trans_len_short", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 0, 0, 0,
      20, 1, 1, 0, 1, 0, 0, 0, 8, 1, 0, 0, 12, 0x80, 14, 0, 128),
  ROW("sa_trans_len_long", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 0, 0, 0,
      20, 1, 1, 0, 1, 0, 0, 0, 13, 1, 0, 0, 12, 0x80, 14, 0, 128),
  ROW("sa_trans_last_flag", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 24), 0, 0, 0,
      20, 1, 1, 0, 1, T_AES(3)),
  ROW("sa_trans_count_gt_present", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 24), 0,
      0, 0, 20, 1, 1, 0, 2, T_AES(0)),
  ROW("sa_trans_count_65", IKE_PLD_SA, -IKE_E_TOO_MANY, IS, GH(0, 24), 0, 0, 0, 20,
      1, 1, 0, IKE_MAX_TRANSFORMS + 1, T_AES(0)),
  ROW("sa_attr_tlv_overrun", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 0, 0, 0,
      20, 1, 1, 0, 1, 0, 0, 0, 12, 1, 0, 0, 12, 0x00, 14, 0, 100),
  ROW("sa_attr_half", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 22), 0, 0, 0, 18, 1,
      1, 0, 1, 0, 0, 0, 10, 1, 0, 0, 12, 0x80, 14),
  ROW("sa_keylen_tlv", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 26), 0, 0, 0, 22, 1,
      1, 0, 1, 0, 0, 0, 14, 1, 0, 0, 12, 0x00, 14, 0, 2, 0, 128),
  ROW("sa_keylen_twice", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 28), 0, 0, 0, 24,
      1, 1, 0, 1, 0, 0, 0, 16, 1, 0, 0, 12, 0x80, 14, 0, 128, 0x80, 14, 1, 0),
  ROW("sa_spi_size_esp_0", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 24), 0, 0, 0,
      20, 1, 3, 0, 1, T_AES(0)),
  ROW("sa_spi_size_ike_4", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 28), 0, 0, 0,
      24, 1, 1, 4, 1, 1, 2, 3, 4, T_AES(0)),
  ROW("sa_spi_past_proposal", IKE_PLD_SA, -IKE_E_BAD_LENGTH, IS, GH(0, 16), 0, 0,
      0, 12, 1, 1, 8, 0, 1, 2, 3, 4),
  ROW("sa_protocol_4", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 24), 0, 0, 0, 20,
      1, 4, 0, 1, T_AES(0)),
  ROW("sa_prop_num_0", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 24), P_IKE(0, 0)),
  ROW("sa_prop_num_gap", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 44), P_IKE(2, 1),
      P_IKE(0, 3)),
  ROW("sa_prop_num_first_2", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 44),
      P_IKE(2, 2), P_IKE(0, 3)),
  ROW("sa_last_flag_more_on_last", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 24),
      P_IKE(2, 1)),
  ROW("sa_last_flag_last_on_first", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 44),
      P_IKE(0, 1), P_IKE(0, 2)),
  ROW("sa_last_flag_3", IKE_PLD_SA, -IKE_E_BAD_SYNTAX, IS, GH(0, 24), P_IKE(3, 1)),
  /* --- Nonce (3.9): 16..256 bytes --- */
  ROW("nonce_15", IKE_PLD_NONCE, -IKE_E_BAD_SYNTAX, IS, GH(0, 19), B8(1), 1, 1, 1,
      1, 1, 1, 1),
  ROW("nonce_16_ok", IKE_PLD_NONCE, 0, OK_, GH(0, 20), B16(1)),
  ROW("nonce_256_ok", IKE_PLD_NONCE, 0, OK_, GH(0, 260), B256(2)),
  ROW("nonce_257", IKE_PLD_NONCE, -IKE_E_BAD_SYNTAX, IS, GH(0, 261), B256(2), 3),
  /* --- Notify (3.10) --- */
  ROW("notify_spi_size_9", IKE_PLD_NOTIFY, -IKE_E_BAD_SYNTAX, IS, GH(0, 17), 3, 9,
      0x40, 0x09, B8(1), 1),
  ROW("notify_spi_past_end", IKE_PLD_NOTIFY, -IKE_E_BAD_LENGTH, IS, GH(0, 12), 3,
      8, 0x40, 0x09, 1, 2, 3, 4),
  ROW("notify_spi_4_ok", IKE_PLD_NOTIFY, 0, OK_, GH(0, 12), 3, 4, 0x40, 0x09, 1, 2,
      3, 4),
  /* --- Delete (3.11) --- */
  ROW("delete_n_times_size_overflow", IKE_PLD_DELETE, -IKE_E_BAD_LENGTH, IS,
      GH(0, 12), 3, 4, 0xff, 0xff, 1, 2, 3, 4),
  ROW("delete_n_short", IKE_PLD_DELETE, -IKE_E_BAD_LENGTH, IS, GH(0, 16), 3, 4, 0,
      2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 9),
  ROW("delete_ike_spi_8", IKE_PLD_DELETE, -IKE_E_BAD_SYNTAX, IS, GH(0, 16), 1, 8,
      0, 1, B8(1)),
  ROW("delete_esp_spi_8", IKE_PLD_DELETE, -IKE_E_BAD_SYNTAX, IS, GH(0, 16), 3, 8,
      0, 1, B8(1)),
  ROW("delete_proto_0", IKE_PLD_DELETE, -IKE_E_BAD_SYNTAX, IS, GH(0, 8), 0, 0, 0, 0),
  /* --- Traffic selectors (3.13) --- */
  ROW("ts_ok", IKE_PLD_TSI, 0, OK_, GH(0, 24), 1, 0, 0, 0, TS4),
  ROW("ts_count_too_large", IKE_PLD_TSI, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 2, 0, 0,
      0, TS4),
  ROW("ts_count_0", IKE_PLD_TSR, -IKE_E_BAD_SYNTAX, IS, GH(0, 8), 0, 0, 0, 0),
  ROW("ts_count_17", IKE_PLD_TSR, -IKE_E_TOO_MANY, IS, GH(0, 24), 17, 0, 0, 0, TS4),
  ROW("ts_extra_bytes", IKE_PLD_TSI, -IKE_E_BAD_LENGTH, IS, GH(0, 28), 1, 0, 0, 0,
      TS4, 0, 0, 0, 0),
  ROW("ts_sel_len_15", IKE_PLD_TSI, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 1, 0, 0, 0, 7,
      0, 0, 15, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255),
  ROW("ts_sel_len_40_for_v4", IKE_PLD_TSI, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 1, 0,
      0, 0, 7, 0, 0, 40, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255),
  ROW("ts_v6_sel_len_16", IKE_PLD_TSI, -IKE_E_BAD_LENGTH, IS, GH(0, 24), 1, 0, 0,
      0, 8, 0, 0, 16, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255),
  ROW("ts_type_9", IKE_PLD_TSI, -IKE_E_BAD_SYNTAX, IS, GH(0, 24), 1, 0, 0, 0, 9, 0,
      0, 16, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255),
  /* --- CP (3.15) --- */
  ROW("cp_ok", IKE_PLD_CP, 0, OK_, GH(0, 16), 1, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0),
  ROW("cp_type_0", IKE_PLD_CP, -IKE_E_BAD_SYNTAX, IS, GH(0, 8), 0, 0, 0, 0),
  ROW("cp_attr_len_past_end", IKE_PLD_CP, -IKE_E_BAD_LENGTH, IS, GH(0, 14), 2, 0, 0,
      0, 0, 1, 0, 4, 10, 0),
  ROW("cp_attr_half_header", IKE_PLD_CP, -IKE_E_BAD_LENGTH, IS, GH(0, 10), 1, 0, 0,
      0, 0, 1),
  /* --- EAP (3.16, RFC 3748 4) --- */
  ROW("eap_len_gt_body", IKE_PLD_EAP, -IKE_E_BAD_LENGTH, IS, GH(0, 12), 1, 1, 0, 9,
      1, 'a', 'b', 'c'),
  ROW("eap_len_lt_body", IKE_PLD_EAP, -IKE_E_BAD_LENGTH, IS, GH(0, 12), 2, 1, 0, 7,
      1, 'a', 'b', 'c'),
  ROW("eap_request_no_type", IKE_PLD_EAP, -IKE_E_BAD_LENGTH, IS, GH(0, 8), 1, 1, 0, 4),
  ROW("eap_success_with_data", IKE_PLD_EAP, -IKE_E_BAD_LENGTH, IS, GH(0, 9), 3, 1,
      0, 5, 0),
  ROW("eap_code_5", IKE_PLD_EAP, -IKE_E_BAD_SYNTAX, IS, GH(0, 8), 5, 1, 0, 4),
  /* --- SKF (RFC 7383 2.5) --- */
  ROW("skf_frag_0", IKE_PLD_SKF, -IKE_E_BAD_SYNTAX, IS, GH(35, 12), 0, 0, 0, 2, 1,
      2, 3, 4),
  ROW("skf_frag_gt_total", IKE_PLD_SKF, -IKE_E_BAD_SYNTAX, IS, GH(0, 12), 0, 3, 0,
      2, 1, 2, 3, 4),
  ROW("skf_total_0", IKE_PLD_SKF, -IKE_E_BAD_SYNTAX, IS, GH(0, 12), 0, 0, 0, 0, 1,
      2, 3, 4),
  ROW("skf_2_of_2_ok", IKE_PLD_SKF, 0, OK_, GH(0, 12), 0, 2, 0, 2, 1, 2, 3, 4),
};

/* Put the row behind a header (unless RAW) and parse it all. */
static int run_bytes(int first, const uint8_t *b, size_t n, uint8_t *bad,
                     ike_chain_t *c)
{
  static uint8_t msg[70000];
  ike_hdr_t h;
  size_t len = 0;

  if (first != RAW) {
    const uint8_t hdr[] = { HDR((uint8_t)first, 0x20, 28 + n) };
    memcpy(msg, hdr, sizeof(hdr));
    len = sizeof(hdr);
  }
  assert_true(len + n <= sizeof(msg));
  if (n > 0) {
    memcpy(msg + len, b, n);
  }
  len += n;
  int rc = ike_msg_parse(msg, len, &h, c, bad);
  if (rc < 0) {
    return rc;
  }
  return ike_chain_check(c, NULL);
}

static void test_table(void **state)
{
  (void)state;
  unsigned failures = 0, malformed = 0;

  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    const row_t *r = &rows[i];
    ike_chain_t c;
    uint8_t bad = 0;
    int rc = run_bytes(r->first, r->b, r->len, &bad, &c);
    int ok = rc == r->err;
    if (ok && r->err != 0) {
      ok = (int)ike_err_action(rc) == r->act;
      malformed++;
    }
    if (ok && r->err == -IKE_E_UNSUPPORTED_CRITICAL) {
      ok = bad == r->bad_type;
    }
    if (!ok) {
      printf("row %-30s: got %d (%s, action %d, bad %u), want %d action %d\n",
             r->name, rc, ike_strerror(rc), (int)ike_err_action(rc), bad, r->err,
             r->act);
      failures++;
    }
  }
  printf("table: %zu rows (%u malformed), %u failures\n",
         sizeof(rows) / sizeof(rows[0]), malformed, failures);
  assert_true(malformed >= 30);
  assert_int_equal(failures, 0);
}

/* Build a valid message holding every payload type (SK last). */
static size_t build_all(uint8_t *buf, size_t cap)
{
  static const uint8_t d[64] = { 1, 2, 3 };
  static const uint32_t spis[2] = { 1, 2 };
  ike_hdr_t h = { .spi_i = 1, .version = 0x20, .exchange = IKE_EXCH_IKE_AUTH };
  ike_sa_pld_t sa = { .n = 2 };
  sa.p[0] = (ike_proposal_t){ .num = 1, .protocol = IKE_PROTO_ESP, .spi_len = 4,
                              .n_transforms = 2 };
  sa.p[0].t[0] = (ike_transform_t){ IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 256, 0 };
  sa.p[0].t[1] = (ike_transform_t){ IKE_TRANS_ESN, 0, 0, 0 };
  sa.p[1] = (ike_proposal_t){ .num = 2, .protocol = IKE_PROTO_ESP, .spi_len = 4,
                              .n_transforms = 1 };
  sa.p[1].t[0] = (ike_transform_t){ IKE_TRANS_ENCR, IKE_ENCR_AES_CBC, 128, 0 };
  ike_ts_pld_t ts = { .n = 2 };
  ts.ts[0] = (ike_ts_t){ .type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 65535 };
  ts.ts[1] = (ike_ts_t){ .type = IKE_TS_IPV6_ADDR_RANGE, .end_port = 65535 };
  ike_cp_pld_t cp = { .cfg_type = IKE_CFG_REQUEST, .n = 2 };
  cp.a[0] = (ike_cp_attr_t){ IKE_CFG_ATTR_INTERNAL_IP4_ADDRESS, NULL, 0 };
  cp.a[1] = (ike_cp_attr_t){ IKE_CFG_ATTR_INTERNAL_IP6_ADDRESS, d, 17 };
  ike_eap_pld_t eap = { .code = 1, .identifier = 3, .type = 4, .data = d, .len = 16 };
  ike_mb_t mb;

  ike_mb_init(&mb, buf, cap, &h);
  ike_put_sa(&mb, &sa);
  ike_put_ke(&mb, IKE_DH_ECP_256, d, 64);
  ike_put_id(&mb, IKE_PLD_IDI, IKE_ID_FQDN, d, 10);
  ike_put_id(&mb, IKE_PLD_IDR, IKE_ID_KEY_ID, d, 3);
  ike_put_cert(&mb, IKE_PLD_CERT, IKE_CERT_X509_SIGNATURE, d, 30);
  ike_put_cert(&mb, IKE_PLD_CERTREQ, IKE_CERT_X509_SIGNATURE, d, 20);
  ike_put_auth(&mb, IKE_AUTH_SHARED_KEY_MIC, d, 32);
  ike_put_nonce(&mb, d, 32);
  ike_put_notify(&mb, IKE_PROTO_ESP, d, 4, IKE_N_REKEY_SA, NULL, 0);
  ike_put_delete(&mb, IKE_PROTO_ESP, 4, spis, 2);
  ike_put_vendor(&mb, d, 16);
  ike_put_ts(&mb, IKE_PLD_TSI, &ts);
  ike_put_ts(&mb, IKE_PLD_TSR, &ts);
  ike_put_cp(&mb, &cp);
  ike_put_eap(&mb, &eap);
  size_t off = ike_put_sk_hdr(&mb, IKE_PLD_NOTIFY);
  ike_wr_bytes(&mb.w, d, 40);
  ike_mb_end(&mb, off);
  int len = ike_mb_finish(&mb, NULL);
  assert_true(len > 0);
  return (size_t)len;
}

static int allowed_err(int rc)
{
  return rc == -IKE_E_TRUNC || rc == -IKE_E_BAD_LENGTH || rc == -IKE_E_BAD_VERSION ||
         rc == -IKE_E_UNSUPPORTED_CRITICAL || rc == -IKE_E_TOO_MANY ||
         rc == -IKE_E_BAD_SYNTAX;
}

/* Every prefix of a valid message fails: as a datagram (header length > len),
 * and with the header length rewritten to the prefix (the chain is cut). */
static void test_prefixes(void **state)
{
  (void)state;
  static uint8_t msg[2048], cut[2048];
  size_t len = build_all(msg, sizeof(msg));
  ike_hdr_t h;
  ike_chain_t c;
  unsigned n = 0;

  assert_int_equal(ike_msg_parse(msg, len, &h, &c, NULL), 0);
  assert_int_equal(c.n, 16);
  assert_int_equal(ike_chain_check(&c, NULL), 0);
  for (size_t p = 0; p < len; p++) {
    int rc = ike_msg_parse(msg, p, &h, &c, NULL);
    assert_int_equal(rc, p < IKE_HDR_LEN ? -IKE_E_TRUNC : -IKE_E_BAD_LENGTH);
    if (p < IKE_HDR_LEN) {
      continue;
    }
    memcpy(cut, msg, p);
    cut[24] = (uint8_t)(p >> 24);
    cut[25] = (uint8_t)(p >> 16);
    cut[26] = (uint8_t)(p >> 8);
    cut[27] = (uint8_t)p;
    rc = ike_msg_parse(cut, p, &h, &c, NULL);
    if (rc != -IKE_E_TRUNC && rc != -IKE_E_BAD_LENGTH) {
      fail_msg("prefix %zu: %d", p, rc);
    }
    n += 2;
  }
  /* Every strict prefix of a structured body fails in its body parser. */
  assert_int_equal(ike_msg_parse(msg, len, &h, &c, NULL), 0);
  for (unsigned i = 0; i < c.n; i++) {
    ike_pld_t p = c.pld[i];
    uint8_t t = p.type;
    /* SA, TS, Delete and EAP are fully determined by their counts and
     * lengths: every cut fails. The others fail below their fixed part. */
    int strict = t == IKE_PLD_SA || t == IKE_PLD_TSI || t == IKE_PLD_TSR ||
                 t == IKE_PLD_DELETE || t == IKE_PLD_EAP;
    unsigned min = t == IKE_PLD_CERT || t == IKE_PLD_CERTREQ ? 1
                   : t == IKE_PLD_NONCE                      ? 16
                   : t == IKE_PLD_VENDOR || t == IKE_PLD_SK  ? 0
                                                             : 4;
    for (uint16_t k = 0; k < c.pld[i].body_len; k++) {
      p.body_len = k;
      int rc = ike_pld_check(&p);
      if ((strict || k < min) && !allowed_err(rc)) {
        fail_msg("%s body prefix %u: %d", ike_payload_name(t), k, rc);
      }
      if (!strict && k >= min && rc != 0 && t != IKE_PLD_CP && t != IKE_PLD_NOTIFY) {
        fail_msg("%s body prefix %u unexpectedly rejected: %d", ike_payload_name(t), k, rc);
      }
      n++;
    }
  }
  printf("prefixes: %u cuts of a %zu-byte message, all rejected\n", n, len);
}

/* Single-bit flips of the valid message: never crash, only known errors. */
static void test_bit_flips(void **state)
{
  (void)state;
  static uint8_t msg[2048];
  size_t len = build_all(msg, sizeof(msg));
  unsigned rejected = 0, total = 0;

  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      ike_chain_t c;
      msg[i] ^= (uint8_t)(1u << bit);
      int rc = run_bytes(RAW, msg, len, NULL, &c);
      msg[i] ^= (uint8_t)(1u << bit);
      assert_true(rc == 0 || allowed_err(rc));
      rejected += rc != 0;
      total++;
    }
  }
  printf("bit flips: %u of %u rejected\n", rejected, total);
  assert_true(rejected > 0);
}

static uint64_t xs_state;
static uint64_t xorshift(void)
{
  xs_state ^= xs_state << 13;
  xs_state ^= xs_state >> 7;
  xs_state ^= xs_state << 17;
  return xs_state;
}

/* Seeded random input: raw, and with a valid header over random payloads. */
static void test_random(void **state)
{
  (void)state;
  static uint8_t buf[65536];
  unsigned ok = 0, total = 0;

  for (uint64_t seed = 1; seed <= 300; seed++) {
    xs_state = seed * 0x9e3779b97f4a7c15ull;
    size_t len = seed % 3 == 0 ? sizeof(buf) : (size_t)(xorshift() % 600);
    for (size_t i = 0; i < len; i++) {
      buf[i] = (uint8_t)xorshift();
    }
    for (int mode = 0; mode < 2; mode++) {
      ike_chain_t c;
      uint8_t bad = 0;
      if (mode == 1 && len >= IKE_HDR_LEN) {
        /* valid header, known first payload: reaches the chain walker */
        static const uint8_t known[] = { 33, 34, 35, 40, 41, 42, 44, 47, 48, 53 };
        buf[16] = known[xorshift() % sizeof(known)];
        buf[17] = 0x20;
        buf[24] = (uint8_t)(len >> 24);
        buf[25] = (uint8_t)(len >> 16);
        buf[26] = (uint8_t)(len >> 8);
        buf[27] = (uint8_t)len;
      }
      int rc = run_bytes(RAW, buf, len, &bad, &c);
      assert_true(rc == 0 || allowed_err(rc));
      if (rc == 0) {
        for (unsigned k = 0; k < c.n; k++) {
          const ike_pld_t *p = &c.pld[k];
          assert_true(p->body >= buf && p->body + p->body_len <= buf + len);
        }
        ok++;
      }
      total++;
    }
    /* the chain walker alone over the same bytes, as after decryption */
    for (unsigned t = 0; t < 3; t++) {
      ike_chain_t c;
      int rc = ike_chain_parse((uint8_t)(33 + t * 7), buf, len, 0, &c, NULL);
      assert_true(rc == 0 || allowed_err(rc));
      if (rc == 0) {
        (void)ike_chain_check(&c, NULL);
      }
      total++;
    }
  }
  printf("random: %u inputs, %u parsed without error\n", total, ok);
}

/* Seeded random mutations (1-4 bytes overwritten) of a valid message: reach
 * the body parsers far more often than pure noise does. */
static void test_random_mutations(void **state)
{
  (void)state;
  static uint8_t base[2048], msg[2048];
  size_t len = build_all(base, sizeof(base));
  unsigned ok = 0, total = 0;

  for (uint64_t seed = 1; seed <= 20000; seed++) {
    ike_chain_t c;
    xs_state = seed * 0x2545f4914f6cdd1dull;
    memcpy(msg, base, len);
    unsigned n = 1 + (unsigned)(xorshift() % 4);
    for (unsigned k = 0; k < n; k++) {
      msg[xorshift() % len] = (uint8_t)xorshift();
    }
    int rc = run_bytes(RAW, msg, len, NULL, &c);
    assert_true(rc == 0 || allowed_err(rc));
    ok += rc == 0;
    total++;
  }
  printf("mutations: %u inputs, %u still valid\n", total, ok);
  assert_true(ok > 0 && ok < total);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table),
    cmocka_unit_test(test_prefixes),
    cmocka_unit_test(test_bit_flips),
    cmocka_unit_test(test_random),
    cmocka_unit_test(test_random_mutations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
