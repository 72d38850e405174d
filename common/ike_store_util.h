/*
 * ike_store_util.h - what the embedded stores (sessmgr's checkpoints, ipsecmgr's
 * sequence-number leases; both LMDB files in the state directory) do when a
 * file cannot be read: move it aside and start empty, saying so, rather than
 * run without a store or crash in a loop on the same bad file.
 */
#ifndef IKE_STORE_UTIL_H
#define IKE_STORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Rename path to "path.bad-<unix seconds>" and remove its LMDB lock file
 * ("path-lock"). moved (may be NULL) gets the new name. Returns 0 or a
 * negative errno. */
int ike_store_move_aside(const char *path, char *moved, size_t moved_len);

/* Crash guard around loading path: begin creates "path.loading"; it returns
 * true if that marker already existed, i.e. the previous load of the same
 * file never finished (the process died in it: a damaged file can crash the
 * reader). end removes the marker. */
bool ike_store_load_begin(const char *path);
void ike_store_load_end(const char *path);

#endif /* IKE_STORE_UTIL_H */
