/*
 * ikegw_running.h - the launcher as the one owner of the running config
 * (DESIGN.md "Configuration").
 *
 * At start the launcher writes the parsed config to RUN/running.conf (0600,
 * written to a temporary file, flushed and renamed into place) and starts every
 * child with it, so a child restarted later loads what is running, never the
 * stale file it was first given. `gwctl configure` comes to the launcher's
 * control endpoint (RUN/ctl-ikegw.sock): the lines are validated against the
 * running config, then by every live sessmgr without being applied (pools and
 * templates in use, certificate files), then written to running.conf, then
 * applied by every sessmgr. A sessmgr that fails to apply what it accepted is
 * restarted, so it loads running.conf: slots never diverge.
 */
#ifndef IKEGW_RUNNING_H
#define IKEGW_RUNNING_H

#include <stddef.h>

#include "ike_config.h"

typedef struct ikegw_running ikegw_running_t;

/* Restart sessmgr slot (the launcher's kill; it comes back on running.conf). */
typedef void (*ikegw_restart_fn)(void *arg, unsigned slot);

/* Write cfg to RUN/running.conf and bind RUN/ctl-ikegw.sock on zctx.
 * Returns 0 and *out, or -1 with the reason in err. */
int ikegw_running_open(void *zctx, const char *run_dir, const ike_config_t *cfg,
                       unsigned workers, ikegw_restart_fn restart, void *arg,
                       ikegw_running_t **out, char *err, size_t err_len);
/* The running config file (what children are started with). */
const char *ikegw_running_path(const ikegw_running_t *r);
/* Wait up to timeout_ms for control requests and answer them. */
void ikegw_running_poll(ikegw_running_t *r, int timeout_ms);
void ikegw_running_close(ikegw_running_t *r);

/* Write text to path atomically with mode 0600 (temporary file, fsync,
 * rename, fsync of the directory). 0 or a negative errno. */
int ikegw_write_atomic(const char *path, const char *text, size_t len);

#endif /* IKEGW_RUNNING_H */
