/* hash.c - a fast 128-bit hash (two multiply-rotate lanes, murmur3's finaliser). */
#include "hash.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL

static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t fmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

char *wsi_hash_hex(const void *data, size_t len, char out[33])
{
	const unsigned char *p = data;
	uint64_t a = P3 ^ (len * P1), b = P4 ^ (len * P2), w;
	size_t i = 0;
	for (; i + 16 <= len; i += 16) {
		memcpy(&w, p + i, 8);
		a = rotl(a ^ (w * P2), 31) * P1;
		memcpy(&w, p + i + 8, 8);
		b = rotl(b ^ (w * P1), 29) * P2;
	}
	for (; i < len; i += 8) {
		w = 0;
		memcpy(&w, p + i, len - i < 8 ? len - i : 8);
		a = rotl(a ^ (w * P2), 31) * P1;
		b = rotl(b ^ a, 27) * P3;
	}
	a += b;
	b += a;
	a = fmix(a);
	b = fmix(b);
	a += b;
	b += a;
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
	return out;
}
