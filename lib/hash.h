/* hash.h - SHA-256 content hashes, so an unchanged order costs a lookup, not a write. */
#ifndef WSI_HASH_H
#define WSI_HASH_H
#include <stddef.h>

/* Hex SHA-256 of data (out: 65 bytes). */
char *wsi_sha256_hex(const void *data, size_t len, char out[65]);

#endif
