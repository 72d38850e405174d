/*
 * ikegw.c - the launcher: reads the config, starts demux, ipsecmgr and N
 * sessmgrs, restarts any child that dies (with back-off and a log line), and
 * stops everything on SIGTERM/SIGINT.
 *
 *   ikegw -c CONFIG [--bin DIR] [--run DIR]
 *
 * Endpoints are ipc:// sockets under the run directory (default: the config's
 * state directory); a scale-out deployment would pass tcp:// ones instead.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "ike_cert.h"
#include "ike_config.h"
#include "ike_ctlc.h"
#include "ike_show.h"
#include "ikegw_running.h"

#define MAX_CHILD 70

typedef struct child {
  char *argv[32];
  int argc;
  pid_t pid;
  const char *name;
  unsigned restarts;
  time_t started, next_start;
} child_t;

static child_t kids[MAX_CHILD];
static int n_kids;
static volatile sig_atomic_t stopping;

/* gwctl configure could not be applied by a sessmgr: restart it on the
 * running config (the loop below starts it again at once). */
static void restart_sessmgr(void *arg, unsigned slot)
{
  char name[32];
  (void)arg;
  snprintf(name, sizeof name, "sessmgr-%u", slot);
  for (int i = 0; i < n_kids; i++) {
    if (kids[i].pid > 0 && strcmp(kids[i].name, name) == 0) {
      kill(kids[i].pid, SIGTERM);
    }
  }
}

static void on_stop(int sig)
{
  (void)sig;
  stopping = 1;
}

/* Append one row of the seed's bulk statistics, aggregated over all
 * sessmgrs, to the configured CSV file (header first if the file is new). */
static void bulkstats_row(void *zctx, const char *run, int workers, const char *file)
{
  ike_stats_t total;
  if (ike_ctlc_stats_total(zctx, run, workers, &total, 2000) != 0) {
    fprintf(stderr, "ikegw: bulkstats: not every sessmgr answered; row skipped\n");
    return;
  }
  struct stat st;
  bool fresh = stat(file, &st) != 0 || st.st_size == 0;
  FILE *f = fopen(file, "a");
  if (f == NULL) {
    fprintf(stderr, "ikegw: bulkstats: cannot write %s: %s\n", file, strerror(errno));
    return;
  }
  ike_out_t o;
  ike_out_file(&o, f);
  if (fresh) {
    ike_show_bulkstats_csv_header(&o);
  }
  ike_show_bulkstats_csv_row(&o, time(NULL), &total);
  fclose(f);
}

static void arg(child_t *c, const char *a)
{
  if (c->argc < 31) {
    c->argv[c->argc++] = strdup(a);
    c->argv[c->argc] = NULL;
  }
}

static int spawn(child_t *c)
{
  pid_t pid = fork();
  if (pid < 0) {
    return -1;
  }
  if (pid == 0) {
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execv(c->argv[0], c->argv);
    fprintf(stderr, "ikegw: cannot run %s: %s\n", c->argv[0], strerror(errno));
    _exit(127);
  }
  c->pid = pid;
  c->started = time(NULL);
  return 0;
}

static void stop_all(void)
{
  for (int i = 0; i < n_kids; i++) {
    if (kids[i].pid > 0) {
      kill(kids[i].pid, SIGTERM);
    }
  }
  for (int waited = 0; waited < 50; waited++) {
    int alive = 0;
    for (int i = 0; i < n_kids; i++) {
      if (kids[i].pid > 0 && waitpid(kids[i].pid, NULL, WNOHANG) == kids[i].pid) {
        kids[i].pid = 0;
      }
      alive += kids[i].pid > 0;
    }
    if (!alive) {
      return;
    }
    usleep(100000);
  }
  for (int i = 0; i < n_kids; i++) {
    if (kids[i].pid > 0) {
      kill(kids[i].pid, SIGKILL);
      waitpid(kids[i].pid, NULL, 0);
    }
  }
}

static child_t *new_child(const char *bin, const char *prog, const char *name)
{
  child_t *c = &kids[n_kids++];
  char path[1024];
  int n = snprintf(path, sizeof path, "%s/%s", bin, prog);
  if (n < 0 || (size_t)n >= sizeof path) {
    fprintf(stderr, "ikegw: path too long: %s/%s\n", bin, prog);
    exit(1);
  }
  arg(c, path);
  c->name = strdup(name);
  return c;
}

/* Directory of our own executable: the children live beside it. */
static void self_dir(char *out, size_t len)
{
  ssize_t n = readlink("/proc/self/exe", out, len - 1);
  if (n <= 0) {
    snprintf(out, len, ".");
    return;
  }
  out[n] = '\0';
  char *slash = strrchr(out, '/');
  if (slash != NULL) {
    *slash = '\0';
  }
}

int main(int argc, char **argv)
{
  umask(077); /* sockets, stores and logs we create: ours alone */
  const char *config = NULL, *run = NULL;
  char bin[512];
  self_dir(bin, sizeof bin);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
      config = argv[++i];
    } else if (strcmp(argv[i], "--bin") == 0 && i + 1 < argc) {
      snprintf(bin, sizeof bin, "%s", argv[++i]);
    } else if (strcmp(argv[i], "--run") == 0 && i + 1 < argc) {
      run = argv[++i];
    } else {
      fprintf(stderr, "usage: ikegw -c CONFIG [--bin DIR] [--run DIR]\n");
      return 2;
    }
  }
  if (config == NULL) {
    fprintf(stderr, "usage: ikegw -c CONFIG [--bin DIR] [--run DIR]\n");
    return 2;
  }
  static ike_config_t cfg;
  char err[512];
  if (ike_config_load(config, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  if (cfg.n_templates == 0) {
    fprintf(stderr, "%s:0: no crypto template configured\n", config);
    return 2;
  }
  if (ike_config_sample_psk_check(&cfg, config, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  char advice[1024];
  if (ike_config_mobike_advice(&cfg, advice, sizeof advice) > 0) {
    fprintf(stderr, "ikegw: WARN %s\n", advice); /* once, at start */
  }
  /* Certificate files are read by each sessmgr; check them once here so a
   * bad file stops start-up with one message instead of restart loops. */
  ike_cert_store_t *certs[IKE_CFG_MAX_TEMPLATES];
  if (ike_cert_load_config(&cfg, certs, err, sizeof err) != 0) {
    fprintf(stderr, "ikegw: %s\n", err);
    return 2;
  }
  ike_cert_free_config(certs);
  if (run == NULL) {
    run = cfg.state_dir;
  }
  if (mkdir(run, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "ikegw: cannot create %s: %s\n", run, strerror(errno));
    return 2;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned workers = cfg.sessmgr_workers ? cfg.sessmgr_workers : (unsigned)(cores > 0 ? cores : 1);
  if (workers > MAX_CHILD - 3) {
    workers = MAX_CHILD - 3;
  }
  /* The running config: children start from it (a restarted one too), and
   * gwctl configure changes it (ikegw_running.h). */
  void *zctx = zmq_ctx_new();
  ikegw_running_t *running = NULL;
  if (ikegw_running_open(zctx, run, &cfg, workers, restart_sessmgr, NULL, &running, err,
                         sizeof err) != 0) {
    fprintf(stderr, "ikegw: running config: %s\n", err);
    return 2;
  }
  config = ikegw_running_path(running);
  char ep_demux[600], ep_ipsec[600], ep[600], num[16];
  snprintf(ep_demux, sizeof ep_demux, "ipc://%s/demux.sock", run);
  snprintf(ep_ipsec, sizeof ep_ipsec, "ipc://%s/ipsec.sock", run);

  child_t *c = new_child(bin, "demux", "demux");
  for (unsigned i = 0; i < cfg.n_bind; i++) {
    arg(c, "--bind");
    arg(c, cfg.bind[i].addr);
  }
  snprintf(num, sizeof num, "%u", cfg.ike_port);
  arg(c, "--port-ike");
  arg(c, num);
  snprintf(num, sizeof num, "%u", cfg.natt_port);
  arg(c, "--port-natt");
  arg(c, num);
  arg(c, "--sessmgr-endpoint");
  arg(c, ep_demux);
  /* ESP-in-UDP channel between demux and ipsecmgr (ipsecmgr connects to it);
   * ep_ipsec is ipsecmgr's own ROUTER for the sessmgrs. */
  char ep_esp[600];
  snprintf(ep_esp, sizeof ep_esp, "ipc://%s/demux-esp.sock", run);
  arg(c, "--ipsec-endpoint");
  arg(c, ep_esp);
  snprintf(ep, sizeof ep, "ipc://%s/ctl-demux.sock", run);
  arg(c, "--ctl-endpoint");
  arg(c, ep);
  snprintf(num, sizeof num, "%u", workers);
  arg(c, "--workers");
  arg(c, num);

  char path[600];
  snprintf(path, sizeof path, "%s/ipsecmgr", bin);
  bool have_ipsec = access(path, X_OK) == 0;
  if (have_ipsec) {
    c = new_child(bin, "ipsecmgr", "ipsecmgr");
    arg(c, "-c");
    arg(c, config);
    arg(c, "--sessmgr-endpoint");
    arg(c, ep_ipsec);
    arg(c, "--demux-endpoint");
    arg(c, ep_esp);
    snprintf(ep, sizeof ep, "ipc://%s/ctl-ipsecmgr.sock", run);
    arg(c, "--ctl-endpoint");
    arg(c, ep);
  }
  for (unsigned s = 0; s < workers; s++) {
    char name[32];
    snprintf(name, sizeof name, "sessmgr-%u", s);
    c = new_child(bin, "sessmgr", name);
    arg(c, "-c");
    arg(c, config);
    snprintf(num, sizeof num, "%u", s);
    arg(c, "--slot");
    arg(c, num);
    snprintf(num, sizeof num, "%u", workers);
    arg(c, "--workers");
    arg(c, num);
    arg(c, "--demux");
    arg(c, ep_demux);
    if (have_ipsec) {
      arg(c, "--ipsec");
      arg(c, ep_ipsec);
    }
    snprintf(ep, sizeof ep, "ipc://%s/ctl-sessmgr-%u.sock", run, s);
    arg(c, "--ctl");
    arg(c, ep);
  }
  /* The control endpoints gwctl talks to. */
  snprintf(path, sizeof path, "%s/workers", run);
  FILE *wf = fopen(path, "w");
  if (wf != NULL) {
    fprintf(wf, "%u\n", workers);
    fclose(wf);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  /* demux first: it owns the ports; a bind failure stops start-up. */
  if (spawn(&kids[0]) != 0) {
    fprintf(stderr, "ikegw: cannot start demux\n");
    return 1;
  }
  usleep(300000);
  int st = 0;
  if (waitpid(kids[0].pid, &st, WNOHANG) == kids[0].pid) {
    /* demux printed the reason (e.g. a port taken). */
    fprintf(stderr, "ikegw: demux failed to start (exit %d), not starting\n",
            WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    return 2;
  }
  for (int i = 1; i < n_kids; i++) {
    spawn(&kids[i]);
  }
  fprintf(stderr, "ikegw: running demux, %s%u sessmgr(s); control in %s\n",
          have_ipsec ? "ipsecmgr, " : "", workers, run);
  time_t next_bulk = time(NULL) + cfg.bulkstats_interval_s;
  while (!stopping) {
    pid_t pid = waitpid(-1, &st, WNOHANG);
    time_t now = time(NULL);
    if (cfg.bulkstats_interval_s != 0 && cfg.bulkstats_file[0] != '\0' && now >= next_bulk) {
      bulkstats_row(zctx, run, (int)workers, cfg.bulkstats_file);
      next_bulk = now + cfg.bulkstats_interval_s;
    }
    for (int i = 0; i < n_kids; i++) {
      child_t *k = &kids[i];
      if (pid > 0 && k->pid == pid) {
        k->pid = 0;
        /* The first death restarts at once; one that keeps dying young waits
         * 1, 2, 4, ... 30 s. */
        bool young = now - k->started <= 60;
        unsigned delay = !young || k->restarts == 0 ? 0 : (k->restarts < 6 ? 1u << (k->restarts - 1) : 30);
        k->restarts = young ? k->restarts + 1 : 0;
        k->next_start = now + delay;
        fprintf(stderr, "ikegw: %s (pid %d) died (%s %d), restarting in %u s\n", k->name,
                (int)pid, WIFEXITED(st) ? "exit" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), delay);
      }
      if (k->pid == 0 && now >= k->next_start && !stopping) {
        spawn(k);
      }
    }
    if (pid <= 0) {
      ikegw_running_poll(running, 100); /* gwctl configure, or 100 ms */
    }
  }
  fprintf(stderr, "ikegw: stopping\n");
  stop_all();
  ikegw_running_close(running);
  zmq_ctx_term(zctx);
  return 0;
}
