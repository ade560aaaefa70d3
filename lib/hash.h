/* hash.h - content hashes, so an unchanged order costs a lookup, not a write. */
#ifndef WSI_HASH_H
#define WSI_HASH_H
#include <stddef.h>

/* A 128-bit hash of data as 32 hex digits (out: 33 bytes). It tells changed content from
 * unchanged; it is not a cryptographic hash and guards no secret. */
char *wsi_hash_hex(const void *data, size_t len, char out[33]);

#endif
