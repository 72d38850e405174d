/*
 * ike_store_util.c - see ike_store_util.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "ike_store_util.h"

int ike_store_move_aside(const char *path, char *moved, size_t moved_len)
{
  char to[4200], lock[4200];
  snprintf(to, sizeof to, "%s.bad-%lld", path, (long long)time(NULL));
  snprintf(lock, sizeof lock, "%s-lock", path);
  if (moved != NULL && moved_len > 0) {
    snprintf(moved, moved_len, "%s", to);
  }
  if (rename(path, to) != 0 && errno != ENOENT) {
    return -errno;
  }
  /* The lock file only holds reader slots: a fresh one is made on open. */
  if (unlink(lock) != 0 && errno != ENOENT) {
    return -errno;
  }
  return 0;
}

static void marker(const char *path, char *out, size_t len)
{
  snprintf(out, len, "%s.loading", path);
}

bool ike_store_load_begin(const char *path)
{
  char m[4200];
  marker(path, m, sizeof m);
  int fd = open(m, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd >= 0) {
    close(fd);
    return false;
  }
  return errno == EEXIST;
}

void ike_store_load_end(const char *path)
{
  char m[4200];
  marker(path, m, sizeof m);
  unlink(m);
}
