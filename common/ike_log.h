/*
 * ike_log.h - level-checked logging to stderr (the launcher collects it).
 *
 * The macros test the level before evaluating any argument, so a disabled
 * line costs one compare and formats nothing (as Valkey's serverLog). A line
 * reads:
 *   12:34:56.789 sessmgr[1234] INFO ike_msg_send: spi 0123456789abcdef: text
 * where the spi part appears only with the IKE_LOG_SPI form. Secrets only
 * through IKE_LOG_SENSITIVE, which is compiled out unless the build defines
 * IKEGW_LOG_SENSITIVE.
 */
#ifndef IKE_LOG_H
#define IKE_LOG_H

#include <stdint.h>

typedef enum {
  IKE_LOG_LVL_ERR = 0,   /* something failed that an operator must see */
  IKE_LOG_LVL_WARN = 1,  /* unusual but handled (dropped input, retries) */
  IKE_LOG_LVL_INFO = 2,  /* state changes: SA up/down, peers, start/stop */
  IKE_LOG_LVL_DEBUG = 3  /* per-message detail */
} ike_log_level_t;

/* Current level; lines above it are skipped. Read by the macros only. */
extern int ike_log_level_g;

/* Set the process name printed on every line (kept by pointer: pass a literal
 * or storage that outlives the process). Default "ikegw". */
void ike_log_set_process(const char *name);

/* Set the level at run time (clamped to ERR..DEBUG). */
void ike_log_set_level(int level);

/* Parse "err", "warn", "info" or "debug" (case-insensitive; also "error",
 * "warning"). Returns the level, or -1 when the text is none of them. */
int ike_log_level_parse(const char *text);

/* Name of a level ("ERR", "WARN", "INFO", "DEBUG"). */
const char *ike_log_level_name(int level);

/* Format and write one line. Use the macros instead: they check the level.
 * has_spi: print spi as "spi %016llx: " before the text. */
void ike_log_write(int level, const char *func, int has_spi, uint64_t spi,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define IKE_LOG_ON(lvl) ((int)(lvl) <= ike_log_level_g)

#define IKE_LOG_AT(lvl, fmt, ...)                                   \
  do {                                                              \
    if (IKE_LOG_ON(lvl)) {                                          \
      ike_log_write((lvl), __func__, 0, 0, fmt, ##__VA_ARGS__);     \
    }                                                               \
  } while (0)

#define IKE_LOG_ERR(fmt, ...)   IKE_LOG_AT(IKE_LOG_LVL_ERR, fmt, ##__VA_ARGS__)
#define IKE_LOG_WARN(fmt, ...)  IKE_LOG_AT(IKE_LOG_LVL_WARN, fmt, ##__VA_ARGS__)
#define IKE_LOG_INFO(fmt, ...)  IKE_LOG_AT(IKE_LOG_LVL_INFO, fmt, ##__VA_ARGS__)
#define IKE_LOG_DEBUG(fmt, ...) IKE_LOG_AT(IKE_LOG_LVL_DEBUG, fmt, ##__VA_ARGS__)

/* Per-SA line: IKE_LOG_SPI(INFO, sa->spi, "established"). */
#define IKE_LOG_SPI(lvl, spi, fmt, ...)                                        \
  do {                                                                         \
    if (IKE_LOG_ON(IKE_LOG_LVL_##lvl)) {                                       \
      ike_log_write(IKE_LOG_LVL_##lvl, __func__, 1, (uint64_t)(spi), fmt,      \
                    ##__VA_ARGS__);                                            \
    }                                                                          \
  } while (0)

/* Lines that may carry key material: compiled out of normal builds. */
#ifdef IKEGW_LOG_SENSITIVE
#define IKE_LOG_SENSITIVE(fmt, ...) IKE_LOG_AT(IKE_LOG_LVL_DEBUG, fmt, ##__VA_ARGS__)
#else
#define IKE_LOG_SENSITIVE(fmt, ...) do { } while (0)
#endif

#endif /* IKE_LOG_H */
