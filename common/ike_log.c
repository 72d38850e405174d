/*
 * ike_log.c - see ike_log.h.
 */
#include "ike_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

int ike_log_level_g = IKE_LOG_LVL_INFO;
static const char *log_process = "ikegw";

static const char *const log_names[] = {"ERR", "WARN", "INFO", "DEBUG"};

void ike_log_set_process(const char *name)
{
  if (name != NULL) {
    log_process = name;
  }
}

void ike_log_set_level(int level)
{
  if (level < IKE_LOG_LVL_ERR) {
    level = IKE_LOG_LVL_ERR;
  }
  if (level > IKE_LOG_LVL_DEBUG) {
    level = IKE_LOG_LVL_DEBUG;
  }
  ike_log_level_g = level;
}

int ike_log_level_parse(const char *text)
{
  static const struct {
    const char *name;
    int level;
  } map[] = {
      {"err", IKE_LOG_LVL_ERR},   {"error", IKE_LOG_LVL_ERR},
      {"warn", IKE_LOG_LVL_WARN}, {"warning", IKE_LOG_LVL_WARN},
      {"info", IKE_LOG_LVL_INFO}, {"debug", IKE_LOG_LVL_DEBUG},
  };
  if (text == NULL) {
    return -1;
  }
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
    if (strcasecmp(text, map[i].name) == 0) {
      return map[i].level;
    }
  }
  return -1;
}

const char *ike_log_level_name(int level)
{
  if (level < IKE_LOG_LVL_ERR || level > IKE_LOG_LVL_DEBUG) {
    return "?";
  }
  return log_names[level];
}

void ike_log_write(int level, const char *func, int has_spi, uint64_t spi,
                   const char *fmt, ...)
{
  /* One write(2) per line so lines of several processes sharing the
   * launcher's pipe never interleave (writes up to PIPE_BUF are atomic). */
  char line[1024];
  size_t n = 0;
  struct timespec ts;
  struct tm tm;
  int r;

  clock_gettime(CLOCK_REALTIME, &ts);
  localtime_r(&ts.tv_sec, &tm);
  r = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %s[%d] %s %s: ",
               tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
               log_process, (int)getpid(), ike_log_level_name(level),
               func != NULL ? func : "?");
  n = r > 0 ? (size_t)r : 0;
  if (has_spi && n < sizeof(line)) {
    r = snprintf(line + n, sizeof(line) - n, "spi %016llx: ",
                 (unsigned long long)spi);
    n += r > 0 ? (size_t)r : 0;
  }
  if (n < sizeof(line)) {
    va_list ap;
    va_start(ap, fmt);
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    n += r > 0 ? (size_t)r : 0;
  }
  if (n > sizeof(line) - 2) {
    n = sizeof(line) - 2; /* truncated: keep the newline */
  }
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, n);
  (void)w;
}
