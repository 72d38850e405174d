/*
 * ikegw_running.c - the running config and `gwctl configure` in the launcher
 * (ikegw_running.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "ikegw_ctl.pb-c.h"

#include "ike_ctlc.h"
#include "ikegw_running.h"

#define ASK_TIMEOUT_MS 3000

struct ikegw_running {
  void *zctx;
  void *ctl;                 /* ROUTER at RUN/ctl-ikegw.sock */
  char run_dir[IKE_CFG_PATH_MAX];
  char path[IKE_CFG_PATH_MAX + 32];
  unsigned workers;
  ike_config_t cfg;          /* the running config */
  ikegw_restart_fn restart;
  void *arg;
};

int ikegw_write_atomic(const char *path, const char *text, size_t len)
{
  char tmp[IKE_CFG_PATH_MAX + 64], dir[IKE_CFG_PATH_MAX + 64];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return -errno;
  }
  int rc = 0;
  if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
    rc = errno ? -errno : -EIO;
  }
  close(fd);
  if (rc == 0 && rename(tmp, path) != 0) {
    rc = -errno;
  }
  if (rc != 0) {
    unlink(tmp);
    return rc;
  }
  /* The rename itself must survive a host crash too. */
  snprintf(dir, sizeof dir, "%s", path);
  int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return 0;
}

/* The whole config as text; redact: pre-shared keys hidden (show output;
 * the file keeps them, it is 0600). */
static char *config_text(const ike_config_t *cfg, int redact, size_t *len)
{
  int need = ike_config_print_buf_opts(cfg, NULL, 0, redact);
  char *text = need > 0 ? malloc((size_t)need + 1) : NULL;
  if (text != NULL) {
    ike_config_print_buf_opts(cfg, text, (size_t)need + 1, redact);
    *len = (size_t)need;
  }
  return text;
}

static int save(ikegw_running_t *r, const ike_config_t *cfg)
{
  size_t len = 0;
  char *text = config_text(cfg, 0, &len);
  if (text == NULL) {
    return -ENOMEM;
  }
  int rc = ikegw_write_atomic(r->path, text, len);
  memset(text, 0, len); /* PSKs */
  free(text);
  return rc;
}

int ikegw_running_open(void *zctx, const char *run_dir, const ike_config_t *cfg,
                       unsigned workers, ikegw_restart_fn restart, void *arg,
                       ikegw_running_t **out, char *err, size_t err_len)
{
  ikegw_running_t *r = calloc(1, sizeof *r);
  if (r == NULL) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  r->zctx = zctx;
  r->workers = workers;
  r->cfg = *cfg;
  r->restart = restart;
  r->arg = arg;
  snprintf(r->run_dir, sizeof r->run_dir, "%s", run_dir);
  snprintf(r->path, sizeof r->path, "%s/running.conf", run_dir);
  int rc = save(r, cfg);
  if (rc != 0) {
    snprintf(err, err_len, "%s: %s", r->path, strerror(-rc));
    free(r);
    return -1;
  }
  char ep[IKE_CFG_PATH_MAX + 32];
  snprintf(ep, sizeof ep, "ipc://%s/ctl-ikegw.sock", run_dir);
  r->ctl = zmq_socket(zctx, ZMQ_ROUTER);
  int linger = 0;
  if (r->ctl == NULL || zmq_setsockopt(r->ctl, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
      zmq_bind(r->ctl, ep) != 0) {
    snprintf(err, err_len, "cannot bind %s: %s", ep, zmq_strerror(zmq_errno()));
    if (r->ctl != NULL) {
      zmq_close(r->ctl);
    }
    free(r);
    return -1;
  }
  *out = r;
  return 0;
}

const char *ikegw_running_path(const ikegw_running_t *r)
{
  return r->path;
}

void ikegw_running_close(ikegw_running_t *r)
{
  if (r != NULL) {
    zmq_close(r->ctl);
    memset(&r->cfg, 0, sizeof r->cfg);
    free(r);
  }
}

/* Settings the processes read only when they start (ports, addresses,
 * process layout, datapath, store, log level): a change would leave running
 * processes on the old value and restarted ones on the new. */
static const char *restart_only(const ike_config_t *a, const ike_config_t *b)
{
  if (a->sessmgr_workers != b->sessmgr_workers) {
    return "sessmgr workers";
  }
  if (a->datapath != b->datapath || a->max_sas != b->max_sas) {
    return "datapath";
  }
  if (strcmp(a->state_dir, b->state_dir) != 0) {
    return "state-directory";
  }
  if (a->ike_port != b->ike_port || a->natt_port != b->natt_port) {
    return "ike udp-port / nat-t-udp-port";
  }
  if (a->n_bind != b->n_bind || memcmp(a->bind, b->bind, sizeof a->bind) != 0) {
    return "bind address";
  }
  if (a->ckpt_sync_ms != b->ckpt_sync_ms) {
    return "checkpoint sync";
  }
  if (a->log_level != b->log_level) {
    return "logging level";
  }
  if (a->bulkstats_interval_s != b->bulkstats_interval_s ||
      strcmp(a->bulkstats_file, b->bulkstats_file) != 0) {
    return "bulkstats";
  }
  return NULL;
}

/* Ask sessmgr slot to apply (or, dry, only check) lines. Returns 1 if it
 * accepted, 0 if it refused (reason in err), -1 if it did not answer. */
static int ask_sessmgr(ikegw_running_t *r, unsigned slot, char **lines, size_t n, bool dry,
                       char *err, size_t err_len)
{
  Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
  Ikegw__Ctl__Configure c = IKEGW__CTL__CONFIGURE__INIT;
  c.n_lines = n;
  c.lines = lines;
  c.dry_run = dry;
  env.id = 1;
  env.msg_case = IKEGW__CTL__ENVELOPE__MSG_CONFIGURE;
  env.configure = &c;
  Ikegw__Ctl__Envelope *a = ike_ctlc_ask(r->zctx, r->run_dir, (int)slot, &env, ASK_TIMEOUT_MS);
  if (a == NULL || a->msg_case != IKEGW__CTL__ENVELOPE__MSG_RESULT) {
    if (a != NULL) {
      ikegw__ctl__envelope__free_unpacked(a, NULL);
    }
    return -1;
  }
  int ok = a->result->ok ? 1 : 0;
  if (!ok) {
    snprintf(err, err_len, "sessmgr %u: %s", slot, a->result->error);
  }
  ikegw__ctl__envelope__free_unpacked(a, NULL);
  return ok;
}

/* Validate, check with the sessmgrs, save, apply. 0, or -1 with err. */
static int configure(ikegw_running_t *r, char **lines, size_t n, bool dry, char *out,
                     size_t out_len, char *err, size_t err_len)
{
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    len += strlen(lines[i]) + 1;
  }
  char *buf = malloc(len + 1);
  ike_config_t *next = malloc(sizeof *next);
  int rc = -1;
  if (buf == NULL || next == NULL) {
    snprintf(err, err_len, "out of memory");
    goto done;
  }
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    off += (size_t)sprintf(buf + off, "%s\n", lines[i]);
  }
  *next = r->cfg;
  if (ike_config_apply_buf(next, "gwctl", buf, off, err, err_len) != 0) {
    goto done;
  }
  const char *what = restart_only(&r->cfg, next);
  if (what != NULL) {
    snprintf(err, err_len, "%s is read only at start: change it in the config file and "
             "restart the gateway", what);
    goto done;
  }
  /* Every live sessmgr checks it against its SAs first; one that does not
   * answer (restarting) loads running.conf when it comes back. */
  unsigned answered = 0;
  for (unsigned s = 0; s < r->workers; s++) {
    int a = ask_sessmgr(r, s, lines, n, true, err, err_len);
    if (a == 0) {
      goto done;
    }
    answered += a == 1;
  }
  if (dry) {
    snprintf(out, out_len, "configuration valid (checked by %u of %u sessmgrs)", answered,
             r->workers);
    rc = 0;
    goto done;
  }
  int e = save(r, next);
  if (e != 0) {
    snprintf(err, err_len, "%s: %s; nothing changed", r->path, strerror(-e));
    goto done;
  }
  r->cfg = *next;
  unsigned applied = 0, restarted = 0;
  for (unsigned s = 0; s < r->workers; s++) {
    char why[512];
    int a = ask_sessmgr(r, s, lines, n, false, why, sizeof why);
    if (a == 1) {
      applied++;
    } else {
      /* It checked the lines but could not apply them (or did not answer):
       * a restart puts it on the running config. */
      fprintf(stderr, "ikegw: configure: %s; restarting sessmgr %u on %s\n",
              a == 0 ? why : "no answer", s, r->path);
      r->restart(r->arg, s);
      restarted++;
    }
  }
  snprintf(out, out_len, "configuration applied: %u sessmgrs, %u restarted; running config %s",
           applied, restarted, r->path);
  rc = 0;
done:
  free(buf);
  free(next);
  return rc;
}

static void reply(ikegw_running_t *r, const zmq_msg_t *id, uint64_t req, bool ok,
                  const char *err, const char *text)
{
  Ikegw__Ctl__Result res = IKEGW__CTL__RESULT__INIT;
  char *lines[1] = {(char *)text};
  res.ok = ok;
  res.error = (char *)(err ? err : "");
  res.n_output = text ? 1 : 0;
  res.output = lines;
  Ikegw__Ctl__Envelope env = IKEGW__CTL__ENVELOPE__INIT;
  env.id = req;
  env.msg_case = IKEGW__CTL__ENVELOPE__MSG_RESULT;
  env.result = &res;
  size_t len = protobuf_c_message_get_packed_size(&env.base);
  uint8_t *buf = malloc(len ? len : 1);
  if (buf == NULL) {
    return;
  }
  protobuf_c_message_pack(&env.base, buf);
  zmq_send(r->ctl, zmq_msg_data((zmq_msg_t *)id), zmq_msg_size((zmq_msg_t *)id),
           ZMQ_SNDMORE | ZMQ_DONTWAIT);
  zmq_send(r->ctl, buf, len, ZMQ_DONTWAIT);
  free(buf);
}

static void handle(ikegw_running_t *r, const zmq_msg_t *id, const uint8_t *data, size_t len)
{
  Ikegw__Ctl__Envelope *env = ikegw__ctl__envelope__unpack(NULL, len, data);
  if (env == NULL) {
    return; /* not ours to answer: a malformed request is dropped */
  }
  if (env->msg_case == IKEGW__CTL__ENVELOPE__MSG_CONFIGURE && env->configure != NULL) {
    const Ikegw__Ctl__Configure *c = env->configure;
    if (c->show) {
      size_t n = 0;
      char *text = config_text(&r->cfg, !c->secrets, &n);
      reply(r, id, env->id, text != NULL, text ? NULL : "out of memory", text);
      if (text != NULL) {
        memset(text, 0, n);
        free(text);
      }
    } else {
      char err[1024] = "", out[512] = "";
      int rc = configure(r, c->lines, c->n_lines, c->dry_run, out, sizeof out, err, sizeof err);
      reply(r, id, env->id, rc == 0, rc == 0 ? NULL : err, rc == 0 ? out : NULL);
    }
  } else {
    reply(r, id, env->id, false, "the launcher answers configure requests only", NULL);
  }
  ikegw__ctl__envelope__free_unpacked(env, NULL);
}

void ikegw_running_poll(ikegw_running_t *r, int timeout_ms)
{
  zmq_pollitem_t pi = {.socket = r->ctl, .events = ZMQ_POLLIN};
  if (zmq_poll(&pi, 1, timeout_ms) != 1) {
    return;
  }
  for (int k = 0; k < 16; k++) {
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&id, r->ctl, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close(&id);
      zmq_msg_close(&body);
      return;
    }
    int more = 0;
    size_t ml = sizeof more;
    zmq_getsockopt(r->ctl, ZMQ_RCVMORE, &more, &ml);
    if (more && zmq_msg_recv(&body, r->ctl, 0) >= 0) {
      handle(r, &id, zmq_msg_data(&body), zmq_msg_size(&body));
      zmq_getsockopt(r->ctl, ZMQ_RCVMORE, &more, &ml);
      while (more) { /* drop extra frames */
        zmq_msg_t x;
        zmq_msg_init(&x);
        zmq_msg_recv(&x, r->ctl, 0);
        zmq_msg_close(&x);
        zmq_getsockopt(r->ctl, ZMQ_RCVMORE, &more, &ml);
      }
    }
    zmq_msg_close(&id);
    zmq_msg_close(&body);
  }
}
