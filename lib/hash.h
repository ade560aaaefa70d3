/* hash.h - content hashes, so an unchanged order costs a lookup, not a write. */
#ifndef WSI_HASH_H
#define WSI_HASH_H
#include <stddef.h>

/* A 128-bit hash of data as 32 hex digits (out: 33 bytes). It tells changed content from
 * unchanged; it is not a cryptographic hash and guards no secret. */
char *wsi_hash_hex(const void *data, size_t len, char out[33]);

/* The same hash of data given in pieces, its whole length told first (the hash starts from it):
 * an order of 100,000 lines is hashed as it is written, never held whole. */
typedef struct wsi_hash_state {
	unsigned long long a, b;
	size_t len, held;
	unsigned char buf[16];
} wsi_hash_state;
void wsi_hash_begin(wsi_hash_state *h, size_t len);
void wsi_hash_add(wsi_hash_state *h, const void *data, size_t n);
char *wsi_hash_end(wsi_hash_state *h, char out[33]);

#endif
