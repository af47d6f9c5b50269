/*
 * noise_generic.c -- the "generic" dropout and input-noise kernels: the
 * vector math of noise_simd.h on one lane, in portable C that the compiler
 * vectorises (SSE2 on x86-64).  Compiled with the baseline flags, which
 * include -fno-math-errno (setup.py): without it sqrt() may set errno and
 * the transform loop is not vectorised.
 */
#include <string.h>
#include "core/fm_internal.h"
#include "rng/rng.h"
#include "rng/noise.h"

#define FM_ISA generic
#define FM_NW 1
typedef uint64_t fm_nu;
typedef double fm_nd;
FM_INLINE fm_nu fm_nu_set1(uint64_t a) { return a; }
FM_INLINE fm_nu fm_nu_lanes(uint64_t s) { (void)s; return 0; }
FM_INLINE fm_nu fm_nu_add(fm_nu a, fm_nu b) { return a + b; }
FM_INLINE fm_nu fm_nu_sub(fm_nu a, fm_nu b) { return a - b; }
FM_INLINE fm_nu fm_nu_xor(fm_nu a, fm_nu b) { return a ^ b; }
FM_INLINE fm_nu fm_nu_and(fm_nu a, fm_nu b) { return a & b; }
FM_INLINE fm_nu fm_nu_srl(fm_nu a, int n) { return a >> n; }
FM_INLINE fm_nu fm_nu_sll(fm_nu a, int n) { return a << n; }
/* a plain 64-bit multiply: gcc leaves the mixing loop scalar (SSE2 has no
 * 64-bit multiply; its emulation is slower than scalar imul) */
FM_INLINE fm_nu fm_nu_mul(fm_nu a, uint64_t c) { return a * c; }
FM_INLINE fm_nd fm_nd_set1(double a) { return a; }
FM_INLINE fm_nd fm_nd_add(fm_nd a, fm_nd b) { return a + b; }
FM_INLINE fm_nd fm_nd_sub(fm_nd a, fm_nd b) { return a - b; }
FM_INLINE fm_nd fm_nd_mul(fm_nd a, fm_nd b) { return a * b; }
FM_INLINE fm_nd fm_nd_div(fm_nd a, fm_nd b) { return a / b; }
FM_INLINE fm_nd fm_nd_sqrt(fm_nd a) { return sqrt(a); }
/* two roundings: the build never contracts a*b+c (ISO C mode, no -ffast-math) */
FM_INLINE fm_nd fm_nd_fma(fm_nd a, fm_nd b, fm_nd c) { return a * b + c; }
FM_INLINE fm_nd fm_nd_cast(fm_nu a) { fm_nd d; memcpy(&d, &a, sizeof d); return d; }
FM_INLINE fm_nu fm_nu_cast(fm_nd a) { fm_nu u; memcpy(&u, &a, sizeof u); return u; }
FM_INLINE fm_nd fm_nd_keep(fm_nu z, fm_nu b, fm_nd a) { return fm_rng_keep_scale(z, b, a); }
FM_INLINE void fm_nd_store2(double *p, fm_nd c, fm_nd s) { p[0] = c; p[1] = s; }
FM_INLINE void fm_nd_store(double *p, fm_nd a) { p[0] = a; }
FM_INLINE fm_nu fm_nu_load(const uint64_t *p) { return p[0]; }
FM_INLINE void fm_nu_store(uint64_t *p, fm_nu a) { p[0] = a; }

#include "rng/noise_simd.h"
