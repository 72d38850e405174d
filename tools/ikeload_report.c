/*
 * ikeload_report.c - what ikeload tells: latency samples per step (exact
 * percentiles by nearest rank over all samples), failures by (step, cause),
 * a live progress line (in place with \r on a terminal, plain lines
 * otherwise), the final aligned table and the same as JSON; memory and CPU
 * of the gateway's processes (a watched PID and its descendants) from /proc.
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ikeload.h"

uint64_t ld_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *ld_step_name(unsigned k)
{
  static const char *const names[] = {
#define X(e, s) s,
      LD_STEP_MAP(X)
#undef X
  };
  return k < LD_STEP_N ? names[k] : "?";
}

void ld_lat_add(ld_lat_t *l, uint64_t t0_ns, uint64_t t1_ns)
{
  l->ok++;
  if (l->first_ns == 0 || t0_ns < l->first_ns) {
    l->first_ns = t0_ns;
  }
  if (t1_ns > l->last_ns) {
    l->last_ns = t1_ns;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 4096;
    uint32_t *p = realloc(l->us, cap * sizeof *p);
    if (p == NULL) {
      return; /* the count stays right, the percentiles lose a sample */
    }
    l->us = p;
    l->cap = cap;
  }
  uint64_t us = t1_ns > t0_ns ? (t1_ns - t0_ns) / 1000u : 0;
  l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void ld_cause_add(ld_t *ld, uint8_t step, uint16_t code)
{
  for (unsigned k = 0; k < ld->n_cause; k++) {
    if (ld->cause[k].step == step && ld->cause[k].code == code) {
      ld->cause[k].count++;
      return;
    }
  }
  if (ld->n_cause == LD_MAX_CAUSES) {
    ld->cause_other++;
    return;
  }
  ld->cause[ld->n_cause++] = (ld_cause_t){.step = step, .code = code, .count = 1};
}

const char *ld_cause_name(uint16_t code, char *buf, size_t cap)
{
  switch (code) {
  case IKE_CLIENT_ERR_DEAD: return "no-answer";
  case IKE_CLIENT_ERR_AUTH: return "gateway-auth-invalid";
  case IKE_CLIENT_ERR_PROTO: return "malformed-response";
  case LD_ERR_DEADLINE: return "deadline";
  case LD_ERR_CLOSED: return "closed-by-gateway";
  case LD_ERR_INCOMPLETE: return "answered-without-effect";
  case LD_ERR_NO_MOBIKE: return "no-mobike";
  case LD_ERR_LOCAL: return "request-not-built";
  default: break;
  }
  const char *n = ike_notify_name(code);
  if (strcmp(n, "UNKNOWN") == 0) {
    snprintf(buf, cap, "notify-%u", code);
    return buf;
  }
  return n;
}

static bool is_exchange_kind(unsigned k)
{
  return k != LD_STEP_HOLD && k != LD_STEP_WAIT;
}

/* --- /proc --- */

typedef struct proc_set {
  int pid[64];
  unsigned n;
} proc_set_t;

static int read_stat(int pid, int *ppid, double *cpu_s, char *comm, size_t cap)
{
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return -1;
  }
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *l = strchr(buf, '('), *r = strrchr(buf, ')');
  if (l == NULL || r == NULL || r < l) {
    return -1;
  }
  size_t cl = (size_t)(r - l - 1) < cap - 1 ? (size_t)(r - l - 1) : cap - 1;
  memcpy(comm, l + 1, cl);
  comm[cl] = 0;
  char st;
  unsigned long ut = 0, stt = 0;
  /* Fields after comm: state ppid pgrp session tty tpgid flags minflt cminflt
   * majflt cmajflt utime stime (proc(5)). */
  if (sscanf(r + 2, "%c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &st, ppid, &ut,
             &stt) != 4) {
    return -1;
  }
  *cpu_s = (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
  return 0;
}

static uint64_t rss_kb(int pid)
{
  char path[64];
  unsigned long size = 0, res = 0;
  snprintf(path, sizeof path, "/proc/%d/statm", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  if (fscanf(f, "%lu %lu", &size, &res) != 2) {
    res = 0;
  }
  fclose(f);
  return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE) / 1024u;
}

/* The watched processes and all their descendants (one pass over /proc per
 * level: the gateway's tree is two deep). */
static void gw_procs(const ld_t *ld, proc_set_t *ps)
{
  ps->n = 0;
  for (unsigned k = 0; k < ld->o.n_watch && ps->n < 64; k++) {
    ps->pid[ps->n++] = ld->o.watch_pid[k];
  }
  for (int depth = 0; depth < 3 && ps->n > 0; depth++) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    if (d == NULL) {
      return;
    }
    unsigned before = ps->n;
    while ((e = readdir(d)) != NULL && ps->n < 64) {
      if (!isdigit((unsigned char)e->d_name[0])) {
        continue;
      }
      int pid = atoi(e->d_name), ppid = 0;
      double cpu;
      char comm[32];
      bool have = false;
      for (unsigned k = 0; k < ps->n; k++) {
        have |= ps->pid[k] == pid;
      }
      if (have || read_stat(pid, &ppid, &cpu, comm, sizeof comm) != 0) {
        continue;
      }
      for (unsigned k = 0; k < before; k++) {
        if (ps->pid[k] == ppid) {
          ps->pid[ps->n++] = pid;
          break;
        }
      }
    }
    closedir(d);
    if (ps->n == before) {
      break;
    }
  }
}

double ld_gw_cpu_s(const ld_t *ld)
{
  proc_set_t ps;
  double sum = 0;
  gw_procs(ld, &ps);
  for (unsigned k = 0; k < ps.n; k++) {
    int ppid;
    double cpu = 0;
    char comm[32];
    if (read_stat(ps.pid[k], &ppid, &cpu, comm, sizeof comm) == 0) {
      sum += cpu;
    }
  }
  return sum;
}

void ld_sample_gw(ld_t *ld, int at_step)
{
  proc_set_t ps;
  uint64_t sum = 0;
  if (ld->o.n_watch == 0) {
    return;
  }
  gw_procs(ld, &ps);
  for (unsigned k = 0; k < ps.n; k++) {
    sum += rss_kb(ps.pid[k]);
  }
  if (at_step >= 0 && at_step < LD_MAX_STEPS) {
    ld->gw_rss_kb_at[at_step] = sum;
  }
  if (sum < ld->gw_rss_peak_kb) {
    return;
  }
  ld->gw_rss_peak_kb = sum;
  ld->n_gw_proc = 0;
  for (unsigned k = 0; k < ps.n && ld->n_gw_proc < 16; k++) {
    int ppid;
    double cpu;
    unsigned j = ld->n_gw_proc++;
    ld->gw_proc[j].pid = ps.pid[k];
    ld->gw_proc[j].rss_kb = rss_kb(ps.pid[k]);
    if (read_stat(ps.pid[k], &ppid, &cpu, ld->gw_proc[j].comm,
                  sizeof ld->gw_proc[j].comm) != 0) {
      strcpy(ld->gw_proc[j].comm, "?");
    }
    for (char *p = ld->gw_proc[j].comm; *p; p++) {
      if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
        *p = '_'; /* printed inside JSON strings */
      }
    }
  }
}

static uint64_t self_hwm_kb(void)
{
  char line[256];
  uint64_t v = 0;
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) {
    return 0;
  }
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "VmHWM:", 6) == 0) {
      v = strtoull(line + 6, NULL, 10);
    }
  }
  fclose(f);
  return v;
}

/* --- Progress --- */

void ld_progress(ld_t *ld, bool final)
{
  uint64_t now = ld_now_ns();
  unsigned running = 0, queued = 0;
  for (uint32_t i = 0; i < ld->o.n; i++) {
    running += ld->c[i].phase == LD_PH_RUN;
    queued += ld->c[i].phase == LD_PH_QUEUED;
  }
  if (ld->last_prog_ns == 0) {
    ld->last_prog_ns = ld->t_start_ns;
  }
  double dt = (double)(now - ld->last_prog_ns) / 1e9;
  if (dt >= 1.0 || final) {
    ld->cur_rate = dt > 0 ? (ld->established - ld->last_est) / dt : 0;
    ld->last_est = ld->established;
    ld->last_prog_ns = now;
  } else if (ld->last_est == 0 && now > ld->t_start_ns) {
    ld->cur_rate = ld->established / ((double)(now - ld->t_start_ns) / 1e9); /* first second */
  }
  ld_sample_gw(ld, -1);
  char causes[160] = "", nb[24];
  size_t off = 0;
  for (unsigned k = 0; k < ld->n_cause && k < 3 && off < sizeof causes; k++) {
    off += (size_t)snprintf(causes + off, sizeof causes - off, "%s%s/%s %llu",
                            k ? ", " : " (", ld_step_name(ld->cause[k].step),
                            ld_cause_name(ld->cause[k].code, nb, sizeof nb),
                            (unsigned long long)ld->cause[k].count);
  }
  if (ld->n_cause > 0 && off < sizeof causes) {
    snprintf(causes + off, sizeof causes - off, "%s)", ld->n_cause > 3 ? ", ..." : "");
  }
  char step[48] = "";
  if (ld->o.sync) {
    snprintf(step, sizeof step, " step %s", ld_step_name(ld->o.steps[ld->barrier_step].kind));
  }
  fprintf(stderr, "%s[%7.1fs]%s est %u/%u in-flight %u queued %u done %u failed %u%s  %.0f setups/s%s",
          ld->tty ? "\r" : "", (double)(now - ld->t_start_ns) / 1e9, step, ld->established,
          ld->o.n, running, queued, ld->finished, ld->failed, causes, ld->cur_rate,
          ld->tty ? "\033[K" : "\n");
  if (ld->tty && final) {
    fputc('\n', stderr);
  }
  fflush(stderr);
}

/* --- Final report --- */

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

typedef struct pct {
  double p50, p90, p99, max, rate;
} pct_t;

static double rank(const uint32_t *s, size_t n, double q)
{
  size_t k = (size_t)ceil(q * (double)n);
  return s[k ? k - 1 : 0] / 1000.0;
}

static pct_t percentiles(ld_lat_t *l)
{
  pct_t p = {0, 0, 0, 0, 0};
  if (l->n == 0) {
    return p;
  }
  qsort(l->us, l->n, sizeof *l->us, cmp_u32);
  p.p50 = rank(l->us, l->n, 0.50);
  p.p90 = rank(l->us, l->n, 0.90);
  p.p99 = rank(l->us, l->n, 0.99);
  p.max = l->us[l->n - 1] / 1000.0;
  double span = (double)(l->last_ns - l->first_ns) / 1e9;
  p.rate = span > 0 ? (double)l->ok / span : 0;
  return p;
}

typedef struct sums {
  uint64_t retransmits, init_retries, dropped, gw_requests, gw_dpd, gw_cookie2, gw_retrans;
  uint64_t sent, rcvd;
} sums_t;

static sums_t client_sums(const ld_t *ld)
{
  sums_t s;
  memset(&s, 0, sizeof s);
  for (uint32_t i = 0; i < ld->o.n; i++) {
    const ike_client_info_t *in = ike_client_info(ld->c[i].cl);
    s.retransmits += in->retransmits;
    s.init_retries += in->init_retries;
    s.dropped += in->dropped;
    s.gw_requests += in->gw_requests;
    s.gw_dpd += in->gw_dpd_answered;
    s.gw_cookie2 += in->gw_cookie2_answered;
    s.gw_retrans += in->gw_retrans_answered;
    s.sent += in->sent;
    s.rcvd += in->rcvd;
  }
  return s;
}

static void scenario_text(const ld_t *ld, char *buf, size_t cap)
{
  size_t off = 0;
  buf[0] = 0;
  for (unsigned k = 0; k < ld->o.n_steps && off < cap; k++) {
    const ld_step_t *st = &ld->o.steps[k];
    off += (size_t)snprintf(buf + off, cap - off, "%s%s", k ? "," : "", ld_step_name(st->kind));
    if ((st->kind == LD_STEP_HOLD || st->kind == LD_STEP_WAIT) && off < cap) {
      off += (size_t)snprintf(buf + off, cap - off, "=%g", st->ms / 1000.0);
    }
    if ((st->flags & LD_MOVE_NAT) && off < cap) {
      off += (size_t)snprintf(buf + off, cap - off, ":nat");
    }
    if ((st->flags & LD_MOVE_COOKIE2) && off < cap) {
      off += (size_t)snprintf(buf + off, cap - off, ":cookie2");
    }
  }
}

/* Steps that appear in the scenario (dpd also through hold). */
static bool step_used(const ld_t *ld, unsigned kind)
{
  for (unsigned k = 0; k < ld->o.n_steps; k++) {
    if (ld->o.steps[k].kind == kind ||
        (kind == LD_STEP_DPD && ld->o.steps[k].kind == LD_STEP_HOLD && ld->o.dpd_ms)) {
      return true;
    }
  }
  return false;
}

void ld_report(ld_t *ld, FILE *out)
{
  char sc[512], nb[24];
  scenario_text(ld, sc, sizeof sc);
  sums_t s = client_sums(ld);
  double secs = (double)(ld->t_end_ns - ld->t_start_ns) / 1e9;
  fprintf(out, "ikeload: %u clients, scenario %s%s, %.1f s; established %u, completed %u, failed %u\n",
          ld->o.n, sc, ld->o.sync ? " (sync)" : "", secs, ld->established, ld->finished,
          ld->failed);
  fprintf(out, "%-12s %9s %8s %10s %9s %9s %9s %9s\n", "step", "ok", "failed", "rate/s",
          "p50 ms", "p90 ms", "p99 ms", "max ms");
  for (unsigned k = 0; k < LD_STEP_N; k++) {
    ld_lat_t *l = &ld->lat[k];
    if (!step_used(ld, k)) {
      continue;
    }
    if (!is_exchange_kind(k)) {
      fprintf(out, "%-12s %9llu %8llu %10s %9s %9s %9s %9s\n", ld_step_name(k),
              (unsigned long long)l->ok, (unsigned long long)l->failed, "-", "-", "-", "-",
              "-");
      continue;
    }
    pct_t p = percentiles(l);
    fprintf(out, "%-12s %9llu %8llu %10.1f %9.2f %9.2f %9.2f %9.2f\n", ld_step_name(k),
            (unsigned long long)l->ok, (unsigned long long)l->failed, p.rate, p.p50, p.p90,
            p.p99, p.max);
  }
  if (ld->n_cause > 0) {
    fprintf(out, "failures by cause:\n");
    for (unsigned k = 0; k < ld->n_cause; k++) {
      fprintf(out, "  %-12s %-28s %9llu\n", ld_step_name(ld->cause[k].step),
              ld_cause_name(ld->cause[k].code, nb, sizeof nb),
              (unsigned long long)ld->cause[k].count);
    }
  }
  fprintf(out, "client: sent %llu rcvd %llu retransmits %llu init-retries %llu dropped %llu; "
               "gateway requests %llu (dpd answered %llu, cookie2 answered %llu, resent %llu)\n",
          (unsigned long long)s.sent, (unsigned long long)s.rcvd,
          (unsigned long long)s.retransmits, (unsigned long long)s.init_retries,
          (unsigned long long)s.dropped, (unsigned long long)s.gw_requests,
          (unsigned long long)s.gw_dpd, (unsigned long long)s.gw_cookie2,
          (unsigned long long)s.gw_retrans);
  fprintf(out, "net: tx %llu in %llu sendmmsg, rx %llu in %llu recvmmsg, tx errors %llu, "
               "rx for no client %llu, rx non-IKE %llu\n",
          (unsigned long long)ld->net.tx, (unsigned long long)ld->net.tx_batches,
          (unsigned long long)ld->net.rx, (unsigned long long)ld->net.rx_batches,
          (unsigned long long)ld->net.tx_err, (unsigned long long)ld->net.rx_unknown,
          (unsigned long long)ld->net.rx_non_ike);
  fprintf(out, "memory: ikeload peak RSS %.1f MiB (%.1f KiB per client)", self_hwm_kb() / 1024.0,
          (double)self_hwm_kb() / ld->o.n);
  if (ld->o.n_watch > 0) {
    fprintf(out, "; gateway peak RSS %.1f MiB (%.2f KiB per client):",
            ld->gw_rss_peak_kb / 1024.0, (double)ld->gw_rss_peak_kb / ld->o.n);
    for (unsigned k = 0; k < ld->n_gw_proc; k++) {
      fprintf(out, " %s %.1f", ld->gw_proc[k].comm, ld->gw_proc[k].rss_kb / 1024.0);
    }
    fprintf(out, "\ngateway: CPU %.2f s (%.1f us per client)", ld->gw_cpu_s,
            ld->gw_cpu_s * 1e6 / ld->o.n);
    if (ld->o.sync) {
      fprintf(out, "; RSS after step:");
      for (unsigned k = 0; k + 1 < ld->o.n_steps; k++) {
        fprintf(out, " %s %.1f MiB", ld_step_name(ld->o.steps[k].kind),
                ld->gw_rss_kb_at[k] / 1024.0);
      }
    }
  }
  fputc('\n', out);
}

void ld_report_json(ld_t *ld, FILE *out)
{
  char sc[512], nb[24];
  scenario_text(ld, sc, sizeof sc);
  sums_t s = client_sums(ld);
  fprintf(out, "{\"clients\": %u, \"scenario\": \"%s\", \"sync\": %s, \"rate_target\": %g, "
               "\"concurrency\": %u, \"duration_s\": %.3f, \"established\": %u, "
               "\"completed\": %u, \"failed\": %u,\n \"steps\": {",
          ld->o.n, sc, ld->o.sync ? "true" : "false", ld->o.rate, ld->o.concurrency,
          (double)(ld->t_end_ns - ld->t_start_ns) / 1e9, ld->established, ld->finished,
          ld->failed);
  bool first = true;
  for (unsigned k = 0; k < LD_STEP_N; k++) {
    if (!step_used(ld, k)) {
      continue;
    }
    ld_lat_t *l = &ld->lat[k];
    pct_t p = percentiles(l);
    fprintf(out, "%s\n  \"%s\": {\"ok\": %llu, \"failed\": %llu", first ? "" : ",",
            ld_step_name(k), (unsigned long long)l->ok, (unsigned long long)l->failed);
    if (is_exchange_kind(k)) {
      fprintf(out, ", \"rate_per_s\": %.1f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
                   "\"p99_ms\": %.3f, \"max_ms\": %.3f",
              p.rate, p.p50, p.p90, p.p99, p.max);
    }
    fputc('}', out);
    first = false;
  }
  fprintf(out, "},\n \"failures\": [");
  for (unsigned k = 0; k < ld->n_cause; k++) {
    fprintf(out, "%s{\"step\": \"%s\", \"cause\": \"%s\", \"count\": %llu}", k ? ", " : "",
            ld_step_name(ld->cause[k].step), ld_cause_name(ld->cause[k].code, nb, sizeof nb),
            (unsigned long long)ld->cause[k].count);
  }
  fprintf(out, "],\n \"client\": {\"sent\": %llu, \"rcvd\": %llu, \"retransmits\": %llu, "
               "\"init_retries\": %llu, \"dropped\": %llu, \"gw_requests\": %llu, "
               "\"gw_dpd_answered\": %llu, \"gw_cookie2_answered\": %llu, "
               "\"gw_retransmitted\": %llu},\n",
          (unsigned long long)s.sent, (unsigned long long)s.rcvd,
          (unsigned long long)s.retransmits, (unsigned long long)s.init_retries,
          (unsigned long long)s.dropped, (unsigned long long)s.gw_requests,
          (unsigned long long)s.gw_dpd, (unsigned long long)s.gw_cookie2,
          (unsigned long long)s.gw_retrans);
  fprintf(out, " \"net\": {\"tx\": %llu, \"tx_batches\": %llu, \"rx\": %llu, "
               "\"rx_batches\": %llu, \"tx_errors\": %llu, \"rx_unknown\": %llu, "
               "\"rx_non_ike\": %llu},\n",
          (unsigned long long)ld->net.tx, (unsigned long long)ld->net.tx_batches,
          (unsigned long long)ld->net.rx, (unsigned long long)ld->net.rx_batches,
          (unsigned long long)ld->net.tx_err, (unsigned long long)ld->net.rx_unknown,
          (unsigned long long)ld->net.rx_non_ike);
  fprintf(out, " \"memory\": {\"ikeload_rss_peak_kb\": %llu", (unsigned long long)self_hwm_kb());
  if (ld->o.n_watch > 0) {
    fprintf(out, ", \"gateway_rss_peak_kb\": %llu, \"gateway_processes\": [",
            (unsigned long long)ld->gw_rss_peak_kb);
    for (unsigned k = 0; k < ld->n_gw_proc; k++) {
      fprintf(out, "%s{\"pid\": %d, \"comm\": \"%s\", \"rss_kb\": %llu}", k ? ", " : "",
              ld->gw_proc[k].pid, ld->gw_proc[k].comm,
              (unsigned long long)ld->gw_proc[k].rss_kb);
    }
    fprintf(out, "], \"gateway_rss_after_step_kb\": [");
    for (unsigned k = 0; ld->o.sync && k + 1 < ld->o.n_steps; k++) {
      fprintf(out, "%s{\"step\": \"%s\", \"rss_kb\": %llu}", k ? ", " : "",
              ld_step_name(ld->o.steps[k].kind), (unsigned long long)ld->gw_rss_kb_at[k]);
    }
    fprintf(out, "]");
  }
  fprintf(out, "}");
  if (ld->o.n_watch > 0) {
    fprintf(out, ",\n \"gateway_cpu_s\": %.3f", ld->gw_cpu_s);
  }
  fprintf(out, "}\n");
}
