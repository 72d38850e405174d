/*
 * fuzz_proto.c - every inter-process envelope (every .proto under proto/) unpacked from
 * arbitrary bytes, through the same arena the processes use
 * (ike_ipc_unpack), then packed again: never a crash, a leak or a read past
 * the frame. The first byte picks the channel.
 */
#include <stdint.h>
#include <stdlib.h>

#include "ikegw_ckpt.pb-c.h"
#include "ikegw_ctl.pb-c.h"
#include "ikegw_demux.pb-c.h"
#include "ikegw_ipsec.pb-c.h"

#include "ike_ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const ProtobufCMessageDescriptor *const desc[] = {
      &ikegw__demux__envelope__descriptor, &ikegw__ipsec__envelope__descriptor,
      &ikegw__ctl__envelope__descriptor, &ikegw__ckpt__ike_sa_record__descriptor};
  if (size < 1) {
    return 0;
  }
  uint8_t mem[4096];
  ike_ipc_arena_t a;
  ike_ipc_arena_init(&a, mem, sizeof mem);
  const ProtobufCMessageDescriptor *d = desc[data[0] % 4u];
  ProtobufCMessage *m = ike_ipc_unpack(&a, d, data + 1, size - 1);
  if (m != NULL) {
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf != NULL && protobuf_c_message_pack(m, buf) != n) {
      abort();
    }
    free(buf);
    ike_ipc_unpack_free(&a, m);
  }
  return 0;
}
