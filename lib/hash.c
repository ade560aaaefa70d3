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

static void block(wsi_hash_state *h, const unsigned char *p)
{
	uint64_t w, a = h->a, b = h->b;
	memcpy(&w, p, 8);
	a = rotl(a ^ (w * P2), 31) * P1;
	memcpy(&w, p + 8, 8);
	b = rotl(b ^ (w * P1), 29) * P2;
	h->a = a;
	h->b = b;
}

void wsi_hash_begin(wsi_hash_state *h, size_t len)
{
	h->a = P3 ^ (len * P1);
	h->b = P4 ^ (len * P2);
	h->len = len;
	h->held = 0;
}

void wsi_hash_add(wsi_hash_state *h, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (h->held) {
		size_t k = 16 - h->held < n ? 16 - h->held : n;
		memcpy(h->buf + h->held, p, k);
		h->held += k;
		p += k;
		n -= k;
		if (h->held < 16)
			return;
		block(h, h->buf);
		h->held = 0;
	}
	for (; n >= 16; p += 16, n -= 16)
		block(h, p);
	memcpy(h->buf, p, n);
	h->held = n;
}

char *wsi_hash_end(wsi_hash_state *h, char out[33])
{
	uint64_t a = h->a, b = h->b, w;
	for (size_t i = 0; i < h->held; i += 8) { /* the tail, under 16 bytes */
		w = 0;
		memcpy(&w, h->buf + i, h->held - i < 8 ? h->held - i : 8);
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

char *wsi_hash_hex(const void *data, size_t len, char out[33])
{
	wsi_hash_state h;
	wsi_hash_begin(&h, len);
	wsi_hash_add(&h, data, len);
	return wsi_hash_end(&h, out);
}
