/*
 * test_replay.c - the ESP anti-replay window alone (RFC 4303 3.4.3, Appendix A).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"

static const uint32_t sizes[] = {64, 1024, 4096};

/* Accept seq: check says OK, then update. */
static void accept(esp_replay_t *r, uint64_t seq)
{
  assert_int_equal(esp_replay_check(r, seq), ESP_REPLAY_OK);
  esp_replay_update(r, seq);
}

static void test_init_sizes(void **state)
{
  (void)state;
  esp_replay_t r;
  assert_int_equal(esp_replay_init(&r, 0, false), 0);
  assert_int_equal(r.size, ESP_REPLAY_DEFAULT);
  assert_true(r.size >= 1024);
  assert_int_equal(esp_replay_init(&r, 32, false), -1);
  assert_int_equal(esp_replay_init(&r, 100, false), -1);
  assert_int_equal(esp_replay_init(&r, 8192, false), -1);
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    assert_int_equal(esp_replay_init(&r, sizes[i], false), 0);
    assert_int_equal(r.size, sizes[i]);
    assert_int_equal(r.top, 0);
  }
}

/* In order, duplicates, out of order inside the window, too old, sliding. */
static void test_window_basic(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uint32_t w = sizes[i];
    esp_replay_t r;
    assert_int_equal(esp_replay_init(&r, w, false), 0);
    assert_int_equal(esp_replay_check(&r, 0), ESP_REPLAY_OLD); /* 0 never valid */
    for (uint64_t s = 1; s <= 3u * w; s += 2) { /* odd numbers only */
      accept(&r, s);
    }
    uint64_t top = r.top;
    assert_int_equal(top, 3u * w - 1u);
    /* Duplicates anywhere in the window are refused; check is pure. */
    assert_int_equal(esp_replay_check(&r, top), ESP_REPLAY_DUP);
    assert_int_equal(esp_replay_check(&r, top), ESP_REPLAY_DUP);
    assert_int_equal(esp_replay_check(&r, top - w + 2u), ESP_REPLAY_DUP);
    /* Out of order but inside the window: the even numbers are new. */
    assert_int_equal(esp_replay_check(&r, top - w + 1u), ESP_REPLAY_OK);
    accept(&r, top - 1u);
    accept(&r, top - w + 1u);          /* the bottom edge */
    assert_int_equal(r.top, top);      /* older numbers never move the top */
    assert_int_equal(esp_replay_check(&r, top - w + 1u), ESP_REPLAY_DUP);
    assert_int_equal(esp_replay_check(&r, top - w), ESP_REPLAY_OLD);
    assert_int_equal(esp_replay_check(&r, 1), ESP_REPLAY_OLD);
    /* Slide by less than the window: positions that re-enter are clear. */
    accept(&r, top + w / 2u);
    assert_int_equal(esp_replay_check(&r, top + 1u), ESP_REPLAY_OK);
    assert_int_equal(esp_replay_check(&r, top + w / 2u - 1u), ESP_REPLAY_OK);
    assert_int_equal(esp_replay_check(&r, top), ESP_REPLAY_DUP);
    assert_int_equal(esp_replay_check(&r, top - w / 2u), ESP_REPLAY_OLD);
    /* Slide by more than the window: everything before is old, nothing seen. */
    uint64_t far = r.top + 10u * w + 3u;
    accept(&r, far);
    assert_int_equal(esp_replay_check(&r, far - 1u), ESP_REPLAY_OK);
    assert_int_equal(esp_replay_check(&r, far - w + 1u), ESP_REPLAY_OK);
    assert_int_equal(esp_replay_check(&r, far - w), ESP_REPLAY_OLD);
  }
}

/* Differential check against a naive model: a sorted-free list of every number
 * ever accepted, with the acceptance rule of RFC 4303 3.4.3. */
static void test_window_model(void **state)
{
  (void)state;
  srand(4303);
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uint32_t w = sizes[i];
    esp_replay_t r;
    assert_int_equal(esp_replay_init(&r, w, false), 0);
    enum { N = 20000 };
    uint8_t *seen = calloc(N * 8, 1);
    assert_non_null(seen);
    uint64_t max = 0, base = 1;
    for (int k = 0; k < N; k++) {
      /* mostly forward with jitter, sometimes old, sometimes big jumps */
      int64_t delta = (rand() % (int)(2u * w)) - (int)w;
      if (rand() % 50 == 0) {
        delta += (int64_t)w * 3;
      }
      int64_t sv = (int64_t)base + delta;
      if (sv < 0 || sv >= N * 8) {
        continue;
      }
      uint64_t s = (uint64_t)sv;
      esp_replay_res_t want;
      if (s == 0 || (max >= w && s <= max - w)) {
        want = ESP_REPLAY_OLD;
      } else if (seen[s]) {
        want = ESP_REPLAY_DUP;
      } else {
        want = ESP_REPLAY_OK;
      }
      esp_replay_res_t got = esp_replay_check(&r, s);
      assert_int_equal(got, want);
      if (got == ESP_REPLAY_OK && rand() % 4 != 0) { /* some never verify (bad ICV) */
        esp_replay_update(&r, s);
        seen[s] = 1;
        if (s > max) {
          max = s;
        }
      }
      base += (uint64_t)(rand() % 3);
    }
    free(seen);
  }
}

/* ESN (RFC 4303 A2.2): the high half follows the window across 2^32. */
static void test_esn_infer(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uint32_t w = sizes[i];
    esp_replay_t r;
    uint64_t s;
    assert_int_equal(esp_replay_init(&r, w, true), 0);
    /* Fresh SA: numbers near the top of the first sub-space would be sub-space -1. */
    assert_int_equal(esp_replay_infer(&r, 0xFFFFFFFFu, &s), ESP_REPLAY_OLD);
    assert_int_equal(esp_replay_infer(&r, 1, &s), ESP_REPLAY_OK);
    assert_int_equal(s, 1);
    /* Case A: window inside sub-space 0 just below 2^32. */
    accept(&r, 0xFFFFFFF0ull);
    assert_int_equal(esp_replay_infer(&r, 5, &s), ESP_REPLAY_OK);
    assert_true(s == 0x100000005ull);
    assert_int_equal(esp_replay_infer(&r, 0xFFFFFFF8u, &s), ESP_REPLAY_OK);
    assert_true(s == 0xFFFFFFF8ull);
    assert_int_equal(esp_replay_infer(&r, 0xFFFFFFF0u - w + 1u, &s), ESP_REPLAY_OK);
    assert_true(s == 0xFFFFFFF0ull - w + 1u);
    accept(&r, 0xFFFFFFFFull);
    accept(&r, 0x100000000ull); /* roll-over */
    accept(&r, 0x100000003ull);
    /* Case B: the window spans sub-spaces 0 and 1. */
    assert_int_equal(esp_replay_infer(&r, 0xFFFFFFFEu, &s), ESP_REPLAY_OK);
    assert_true(s == 0xFFFFFFFEull);
    assert_int_equal(esp_replay_check(&r, s), ESP_REPLAY_OK);
    assert_int_equal(esp_replay_infer(&r, 0xFFFFFFFFu, &s), ESP_REPLAY_OK);
    assert_int_equal(esp_replay_check(&r, s), ESP_REPLAY_DUP);
    assert_int_equal(esp_replay_infer(&r, 10, &s), ESP_REPLAY_OK);
    assert_true(s == 0x10000000Aull);
    assert_int_equal(esp_replay_infer(&r, 3, &s), ESP_REPLAY_OK);
    assert_int_equal(esp_replay_check(&r, s), ESP_REPLAY_DUP);
    /* Below the window in sub-space 0: guessed as sub-space 1 (far future); the
     * ICV over seq_hi then fails, so the guess is harmless (A2.2). */
    assert_int_equal(esp_replay_infer(&r, 0x80000000u, &s), ESP_REPLAY_OK);
    assert_true(s == 0x180000000ull);
    /* Without ESN the number is taken as is. */
    esp_replay_t n;
    assert_int_equal(esp_replay_init(&n, w, false), 0);
    assert_int_equal(esp_replay_infer(&n, 0xFFFFFFFFu, &s), ESP_REPLAY_OK);
    assert_true(s == 0xFFFFFFFFull);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_init_sizes),
    cmocka_unit_test(test_window_basic),
    cmocka_unit_test(test_window_model),
    cmocka_unit_test(test_esn_infer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
