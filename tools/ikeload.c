/*
 * ikeload.c - load generator: N simulated IKEv2 remote-access clients
 * (sessmgr/ike_client.h: PSK, CP, MOBIKE) against a real gateway, event
 * driven on one libuv loop. Each client has its own source address
 * (127.16/12 + i first, 127.32/12 + i after a move, 127.48/12 + i after a
 * move behind a simulated NAT; other ranges with --*-base when routed to this
 * host as local, e.g. "ip route add local 10.200.0.0/16 dev lo") on two shared
 * UDP sockets (ikeload_net.c).
 *
 *   ikeload [-n N] [--gw ADDR] [--port P] [--natt-port P] [--psk KEY]
 *           [--scenario STEPS | --scenario-file FILE] [--sync]
 *           [--rate R | --concurrency C] [--step-rate R] [--duration S]
 *           [--dpd S] [--retrans MS] [--max-retrans N] [--dh G] [--ke-group G]
 *           [--answer answer|silent|wrong-cookie2] [--no-mobike]
 *           [--addr-base A] [--move-base A] [--nat-base A]
 *           [--json[=FILE]] [--progress S] [--quiet] [--watch-pid PID]...
 *   legacy: [--move] [--keep] [--timeout MS]
 *
 * STEPS: comma-separated, first connect: connect, hold=S (DPD every --dpd S),
 * wait=S, dpd, move[:nat][:cookie2], rekey-ike, rekey-child, disconnect.
 * A scenario file holds the same words separated by blanks, commas or lines
 * ('#' starts a comment). Without --scenario: connect[,move][,disconnect]
 * from --move / --keep (--move implies --sync: all move at once).
 *
 * Exit status: 0 if every client completed every step, 1 if any failed, 2 on
 * usage or setup errors.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ikeload.h"

static void usage(void)
{
  fprintf(stderr,
          "usage: ikeload [-n N] [--gw ADDR] [--port P] [--natt-port P] [--psk KEY]\n"
          "  [--scenario STEPS | --scenario-file FILE] [--sync] [--rate R | --concurrency C]\n"
          "  [--step-rate R] [--duration S] [--dpd S] [--retrans MS] [--max-retrans N]\n"
          "  [--dh G] [--ke-group G] [--answer answer|silent|wrong-cookie2] [--no-mobike]\n"
          "  [--addr-base A] [--move-base A] [--nat-base A] [--json[=FILE]] [--progress S]\n"
          "  [--quiet] [--watch-pid PID]... [--move] [--keep] [--timeout MS]\n"
          "STEPS: connect,hold=S,wait=S,dpd,move[:nat][:cookie2],rekey-ike,rekey-child,"
          "disconnect\n");
}

/* One scenario word: "move:nat", "hold=30", ... */
static int parse_step(const char *w, ld_step_t *st)
{
  char name[32];
  size_t nl = strcspn(w, ":=");
  if (nl == 0 || nl >= sizeof name) {
    return -1;
  }
  memcpy(name, w, nl);
  name[nl] = 0;
  memset(st, 0, sizeof *st);
  unsigned k = 0;
  while (k < LD_STEP_N && strcmp(ld_step_name(k), name) != 0) {
    k++;
  }
  if (k == LD_STEP_N) {
    return -1;
  }
  st->kind = (uint8_t)k;
  const char *rest = w + nl;
  if (k == LD_STEP_HOLD || k == LD_STEP_WAIT) {
    char *end;
    double s = *rest == '=' ? strtod(rest + 1, &end) : -1;
    if (s < 0 || s > 86400 || *end != 0) {
      return -1;
    }
    st->ms = (uint32_t)(s * 1000);
    return 0;
  }
  while (*rest == ':' && k == LD_STEP_MOVE) {
    rest++;
    size_t l = strcspn(rest, ":");
    if (l == 3 && strncmp(rest, "nat", 3) == 0) {
      st->flags |= LD_MOVE_NAT;
    } else if (l == 7 && strncmp(rest, "cookie2", 7) == 0) {
      st->flags |= LD_MOVE_COOKIE2;
    } else {
      return -1;
    }
    rest += l;
  }
  return *rest == 0 ? 0 : -1;
}

/* Words separated by blanks, commas or newlines; '#' to the end of a line. */
static int parse_steps(char *text, ld_opts_t *o)
{
  char *save = NULL;
  for (char *p = text; *p; p++) {
    if (*p == '#') {
      while (*p && *p != '\n') {
        *p++ = ' ';
      }
      if (*p == 0) {
        break;
      }
    }
  }
  o->n_steps = 0;
  for (char *w = strtok_r(text, " \t\r\n,", &save); w != NULL;
       w = strtok_r(NULL, " \t\r\n,", &save)) {
    if (o->n_steps == LD_MAX_STEPS || parse_step(w, &o->steps[o->n_steps]) != 0) {
      fprintf(stderr, "ikeload: bad scenario step '%s'\n", w);
      return -1;
    }
    o->n_steps++;
  }
  if (o->n_steps == 0 || o->steps[0].kind != LD_STEP_CONNECT) {
    fprintf(stderr, "ikeload: a scenario starts with connect\n");
    return -1;
  }
  for (unsigned k = 1; k < o->n_steps; k++) {
    if (o->steps[k].kind == LD_STEP_CONNECT) {
      fprintf(stderr, "ikeload: connect only as the first step\n");
      return -1;
    }
  }
  return 0;
}

static int read_file(const char *path, char *buf, size_t cap)
{
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "ikeload: %s: cannot open\n", path);
    return -1;
  }
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = 0;
  return 0;
}

static int parse_base(const char *s, uint32_t *out)
{
  struct in_addr a;
  uint32_t h = 0;
  if (inet_pton(AF_INET, s, &a) == 1) {
    h = ntohl(a.s_addr);
  }
  if (h == 0 || h >= 0xE0000000u) {
    fprintf(stderr, "ikeload: %s: want a unicast IPv4 address\n", s);
    return -1;
  }
  *out = h;
  return 0;
}

/* The three address sets do not overlap; in 127/8 they stay off 127.0.0.0/31
 * (the gateway's usual 127.0.0.1) and 127.255.255.255. */
static int check_bases(const ld_opts_t *o)
{
  for (unsigned k = 0; k < 3; k++) {
    uint64_t end = (uint64_t)o->base[k] + o->n - 1;
    bool lo = (o->base[k] >> 24) == 127;
    if ((lo && (end > 0x7FFFFFFEu || o->base[k] <= 0x7F000001u)) || end >= 0xE0000000u) {
      fprintf(stderr, "ikeload: address set %u (%u addresses) runs out of its range\n", k,
              o->n);
      return -1;
    }
    for (unsigned j = 0; j < k; j++) {
      if (o->base[k] < o->base[j] + o->n && o->base[j] < o->base[k] + o->n) {
        fprintf(stderr, "ikeload: address sets %u and %u overlap for %u clients\n", j, k,
                o->n);
        return -1;
      }
    }
  }
  return 0;
}

static int parse_answer(const char *s, ike_client_answer_t *a)
{
  if (strcmp(s, "answer") == 0) {
    *a = IKE_CLIENT_ANSWER;
  } else if (strcmp(s, "silent") == 0) {
    *a = IKE_CLIENT_SILENT;
  } else if (strcmp(s, "wrong-cookie2") == 0) {
    *a = IKE_CLIENT_WRONG_COOKIE2;
  } else {
    return -1;
  }
  return 0;
}

typedef struct legacy {
  bool move, keep;
  const char *scenario, *scenario_file;
} legacy_t;

static const struct option long_opts[] = {
    {"gw", 1, NULL, 'g'},          {"port", 1, NULL, 'p'},
    {"natt-port", 1, NULL, 'P'},   {"psk", 1, NULL, 'k'},
    {"move", 0, NULL, 'm'},        {"no-mobike", 0, NULL, 'M'},
    {"rate", 1, NULL, 'r'},        {"timeout", 1, NULL, 't'},
    {"keep", 0, NULL, 'K'},        {"scenario", 1, NULL, 's'},
    {"scenario-file", 1, NULL, 'S'}, {"sync", 0, NULL, 'y'},
    {"concurrency", 1, NULL, 'c'}, {"step-rate", 1, NULL, 'R'},
    {"duration", 1, NULL, 'd'},    {"dpd", 1, NULL, 'D'},
    {"retrans", 1, NULL, 'x'},     {"max-retrans", 1, NULL, 'X'},
    {"dh", 1, NULL, 'G'},          {"ke-group", 1, NULL, 'E'},
    {"answer", 1, NULL, 'a'},      {"addr-base", 1, NULL, '1'},
    {"move-base", 1, NULL, '2'},   {"nat-base", 1, NULL, '3'},
    {"json", 2, NULL, 'j'},        {"progress", 1, NULL, 'o'},
    {"quiet", 0, NULL, 'q'},       {"watch-pid", 1, NULL, 'w'},
    {"help", 0, NULL, 'h'},        {NULL, 0, NULL, 0}};

static int parse_one(int ch, ld_opts_t *o, legacy_t *lg)
{
  switch (ch) {
  case 'n': o->n = (unsigned)strtoul(optarg, NULL, 10); break;
  case 'g': o->gw = optarg; break;
  case 'p': o->port = (uint16_t)strtoul(optarg, NULL, 10); break;
  case 'P': o->natt_port = (uint16_t)strtoul(optarg, NULL, 10); break;
  case 'k': o->psk = optarg; break;
  case 'm': lg->move = true; break;
  case 'M': o->mobike = false; break;
  case 'r': o->rate = strtod(optarg, NULL); break;
  case 't': o->duration_ms = strtoull(optarg, NULL, 10); break;
  case 'K': lg->keep = true; break;
  case 's': lg->scenario = optarg; break;
  case 'S': lg->scenario_file = optarg; break;
  case 'y': o->sync = true; break;
  case 'c': o->concurrency = (unsigned)strtoul(optarg, NULL, 10); break;
  case 'R': o->step_rate = strtod(optarg, NULL); break;
  case 'd': o->duration_ms = (uint64_t)(strtod(optarg, NULL) * 1000); break;
  case 'D': o->dpd_ms = (uint32_t)(strtod(optarg, NULL) * 1000); break;
  case 'x': o->retrans_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
  case 'X': o->max_retrans = (uint8_t)strtoul(optarg, NULL, 10); break;
  case 'G': o->dh = (uint16_t)strtoul(optarg, NULL, 10); break;
  case 'E': o->ke_group = (uint16_t)strtoul(optarg, NULL, 10); break;
  case 'a': return parse_answer(optarg, &o->answer);
  case '1': return parse_base(optarg, &o->base[0]);
  case '2': return parse_base(optarg, &o->base[1]);
  case '3': return parse_base(optarg, &o->base[2]);
  case 'j': o->json = true; o->json_file = optarg; break;
  case 'o': o->progress_s = strtod(optarg, NULL); break;
  case 'q': o->progress_s = -1; break;
  case 'w':
    if (o->n_watch == sizeof o->watch_pid / sizeof o->watch_pid[0]) {
      return -1;
    }
    o->watch_pid[o->n_watch++] = atoi(optarg);
    break;
  default: return -1;
  }
  return 0;
}

static int scenario(ld_opts_t *o, const legacy_t *lg)
{
  static char text[8192];
  if (lg->scenario_file != NULL) {
    if (read_file(lg->scenario_file, text, sizeof text) != 0) {
      return -1;
    }
  } else if (lg->scenario != NULL) {
    snprintf(text, sizeof text, "%s", lg->scenario);
  } else {
    snprintf(text, sizeof text, "connect%s%s", lg->move ? ",move" : "",
             lg->keep ? "" : ",disconnect");
    o->sync = o->sync || lg->move; /* as before: everyone moves at once */
  }
  return parse_steps(text, o);
}

static int parse_opts(int argc, char **argv, ld_opts_t *o)
{
  legacy_t lg = {false, false, NULL, NULL};
  *o = (ld_opts_t){.n = 10, .gw = "127.0.0.1", .psk = "ikegw-default-psk-change-me",
                   .port = 500, .natt_port = 4500, .mobike = true, .rate = 2000,
                   .duration_ms = 300000, .retrans_ms = 2000, .max_retrans = 3,
                   .dh = IKE_DH_ECP_256,
                   .base = {0x7F100001u, 0x7F200001u, 0x7F300001u}};
  int ch;
  while ((ch = getopt_long(argc, argv, "n:h", long_opts, NULL)) != -1) {
    if (parse_one(ch, o, &lg) != 0) {
      usage();
      return -1;
    }
  }
  if (optind != argc || o->n == 0 || o->n > LD_MAX_CLIENTS || o->duration_ms == 0 ||
      !ike_dh_supported(o->dh) || (o->ke_group && !ike_dh_supported(o->ke_group))) {
    usage();
    return -1;
  }
  return scenario(o, &lg) == 0 && check_bases(o) == 0 ? 0 : -1;
}

/* --- Loop --- */

static void on_prepare(uv_prepare_t *p)
{
  ld_t *ld = p->data;
  ld_net_flush(ld); /* everything the last iteration queued, in batches */
  ld_run_arm(ld);
}

static void on_progress(uv_timer_t *t)
{
  ld_progress(t->data, false);
}

static void on_deadline(uv_timer_t *t)
{
  ld_t *ld = t->data;
  fprintf(stderr, "%sikeload: duration over, unfinished clients fail\n", ld->tty ? "\n" : "");
  ld_run_stop(ld);
}

static void on_signal(uv_signal_t *s, int signum)
{
  (void)signum;
  ld_run_stop(s->data);
}

static int write_json(ld_t *ld)
{
  if (ld->o.json_file == NULL) {
    ld_report_json(ld, stdout);
    return 0;
  }
  FILE *f = fopen(ld->o.json_file, "w");
  if (f == NULL) {
    fprintf(stderr, "ikeload: %s: cannot write\n", ld->o.json_file);
    return -1;
  }
  ld_report_json(ld, f);
  fclose(f);
  return 0;
}

static void run(ld_t *ld)
{
  uv_prepare_t prep;
  uv_timer_t prog, dl;
  uv_signal_t sint, sterm;
  uv_prepare_init(ld->loop, &prep);
  prep.data = ld;
  uv_prepare_start(&prep, on_prepare);
  uv_timer_init(ld->loop, &prog);
  uv_timer_init(ld->loop, &dl);
  prog.data = dl.data = ld;
  double every = ld->o.progress_s != 0 ? ld->o.progress_s : ld->tty ? 0.25 : 5.0;
  if (every > 0) {
    uv_timer_start(&prog, on_progress, (uint64_t)(every * 1000), (uint64_t)(every * 1000));
  }
  uv_timer_start(&dl, on_deadline, ld->o.duration_ms, 0);
  uv_signal_init(ld->loop, &sint);
  uv_signal_init(ld->loop, &sterm);
  sint.data = sterm.data = ld;
  uv_signal_start(&sint, on_signal, SIGINT);
  uv_signal_start(&sterm, on_signal, SIGTERM);
  ld->gw_cpu0_s = ld_gw_cpu_s(ld);
  ld_run_start(ld);
  uv_run(ld->loop, UV_RUN_DEFAULT);
  ld_net_flush(ld);
  ld->gw_cpu_s = ld_gw_cpu_s(ld) - ld->gw_cpu0_s;
  ld_sample_gw(ld, -1);
  if (every > 0) {
    ld_progress(ld, true);
  }
  uv_close((uv_handle_t *)&prep, NULL);
  uv_close((uv_handle_t *)&prog, NULL);
  uv_close((uv_handle_t *)&dl, NULL);
  uv_close((uv_handle_t *)&sint, NULL);
  uv_close((uv_handle_t *)&sterm, NULL);
  uv_close((uv_handle_t *)&ld->timer, NULL);
  uv_close((uv_handle_t *)&ld->pacer, NULL);
  uv_run(ld->loop, UV_RUN_NOWAIT);
}

int main(int argc, char **argv)
{
  static ld_t ld;
  if (parse_opts(argc, argv, &ld.o) != 0 || ike_crypto_init() != 0) {
    return 2;
  }
  ld.loop = uv_default_loop();
  ld.tty = isatty(STDERR_FILENO);
  ld.gw.sin_family = AF_INET;
  ld.gw.sin_port = htons(ld.o.port);
  ld.natt_port_be = htons(ld.o.natt_port);
  if (inet_pton(AF_INET, ld.o.gw, &ld.gw.sin_addr) != 1) {
    fprintf(stderr, "ikeload: --gw %s: not an IPv4 address\n", ld.o.gw);
    return 2;
  }
  ld_global = &ld;
  if (ld_net_open(&ld) != 0 || ld_run_init(&ld) != 0) {
    perror("ikeload: setup");
    return 2;
  }
  run(&ld);
  ld_report(&ld, ld.o.json && ld.o.json_file == NULL ? stderr : stdout);
  int rc = ld.failed == 0 && ld.finished == ld.o.n ? 0 : 1;
  if (ld.o.json && write_json(&ld) != 0) {
    rc = 2;
  }
  ld_net_close(&ld);
  ld_run_free(&ld);
  ike_crypto_cleanup();
  return rc;
}
