/* decimal.h - fixed-point money and quantities: never a double. */
#ifndef WSI_DECIMAL_H
#define WSI_DECIMAL_H
#include <stddef.h>
#include <stdint.h>

/* A decimal held as an integer count of millionths (6 fixed decimals). */
#define WSI_DEC_SCALE 6
#define WSI_DEC_ONE 1000000LL
#define WSI_DEC_CENT (WSI_DEC_ONE / 100) /* one cent, in the fixed point */
typedef struct { int64_t v; } wsi_dec;

/* Parse "19.99", "-0.62125", "361.9500", "3", "1e2", " 7 " is refused.
 * Returns 0, or -1 when the text is not a decimal, has more than 6 decimals
 * that are not zero, or is out of range (|x| >= 9e12). */
int wsi_dec_parse(const char *s, size_t n, wsi_dec *out);
/* Format with exactly `places` decimals (0..6), rounding half away from zero. */
char *wsi_dec_fmt(wsi_dec d, int places, char *buf, size_t n);
/* Format with as many decimals as needed, at least `min_places`. */
char *wsi_dec_str(wsi_dec d, int min_places, char *buf, size_t n);
/* Round to `places` decimals, half away from zero. */
wsi_dec wsi_dec_round(wsi_dec d, int places);
/* a*b and a/b (rounded half away from zero to 6 decimals); -1 on overflow or b==0. */
int wsi_dec_mul(wsi_dec a, wsi_dec b, wsi_dec *out);
int wsi_dec_div(wsi_dec a, wsi_dec b, wsi_dec *out);
static inline wsi_dec wsi_dec_add(wsi_dec a, wsi_dec b) { return (wsi_dec){a.v + b.v}; }
static inline wsi_dec wsi_dec_sub(wsi_dec a, wsi_dec b) { return (wsi_dec){a.v - b.v}; }
static inline wsi_dec wsi_dec_int(int64_t i) { return (wsi_dec){i * WSI_DEC_ONE}; }

#endif
