/*
 * dispatch.c -- the kernel table, filled once at import (fm_init) from the
 * CPU's features, overridable with FASTMLP_ARCH=<name> and reported by
 * fm_simd_target().  FASTMLP_ARCH_DEBUG=1 prints the choice to stderr.
 *
 * To add a target: implement it in csrc/gemm/, declare it below and put it
 * in fm_targets[] (best first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/fm_internal.h"
#include "gemm/gemm.h"

static int fm_always(void) { return 1; }

static const fm_target fm_targets[] = {
#if defined(__x86_64__) || defined(_M_X64)
    {"avx512", fm_cpu_has_avx512, fm_gemm_avx512_f32, fm_gemm_avx512_f64},
    {"avx2", fm_cpu_has_avx2, fm_gemm_avx2_f32, fm_gemm_avx2_f64},
#endif
    {"generic", fm_always, fm_gemm_generic_f32, fm_gemm_generic_f64},
    {"ref", fm_always, fm_gemm_ref_f32, fm_gemm_ref_f64},
};
#define FM_N_TARGETS ((int)(sizeof(fm_targets) / sizeof(fm_targets[0])))

/* The default is the best supported target; "ref" is the last resort. */
static const fm_target *fm_active = NULL;
static char fm_avail[256];

static const fm_target *fm_find(const char *name)
{
    int i;
    for (i = 0; i < FM_N_TARGETS; i++)
        if (strcmp(fm_targets[i].name, name) == 0 && fm_targets[i].supported())
            return &fm_targets[i];
    return NULL;
}

static const fm_target *fm_best(void)
{
    const fm_target *best = &fm_targets[0];
    int i;
    for (i = FM_N_TARGETS - 1; i >= 0; i--)
        if (fm_targets[i].supported()) best = &fm_targets[i];
    /* targets are listed best first, so the loop above ends on the best */
    return best;
}

void fm_init(void)
{
    const char *env, *dbg;
    int i;
    if (fm_active) return;
    fm_avail[0] = '\0';
    for (i = 0; i < FM_N_TARGETS; i++) {
        if (!fm_targets[i].supported()) continue;
        if (fm_avail[0]) strncat(fm_avail, ",", sizeof(fm_avail) - strlen(fm_avail) - 1);
        strncat(fm_avail, fm_targets[i].name, sizeof(fm_avail) - strlen(fm_avail) - 1);
    }
    fm_active = fm_best();
    fm_team_init();
    env = getenv("FASTMLP_ARCH");
    if (env && env[0]) {
        const fm_target *t = fm_find(env);
        if (t) fm_active = t;
        else fprintf(stderr, "fastmlp: FASTMLP_ARCH=%s is not available here (available: %s); "
                             "using %s\n", env, fm_avail, fm_active->name);
    }
    dbg = getenv("FASTMLP_ARCH_DEBUG");
    if (dbg && dbg[0] == '1')
        fprintf(stderr, "fastmlp: GEMM target %s (available: %s)\n", fm_active->name, fm_avail);
}

const char *fm_simd_target(void) { fm_init(); return fm_active->name; }
const char *fm_available_targets(void) { fm_init(); return fm_avail; }

int fm_set_target(const char *name)
{
    const fm_target *t;
    fm_init();
    t = fm_find(name);
    if (!t) return -1;
    fm_active = t;
    return 0;
}

int fm_openmp_enabled(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int fm_max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

void fm_gemm_f32(float *c, ptrdiff_t rsc, const float *a, ptrdiff_t rsa, ptrdiff_t csa,
                 const float *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                 ptrdiff_t k, float alpha, float beta, const fm_epilogue *epi, int n_threads)
{
    if (!fm_active) fm_init();
    fm_active->gemm_f32(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, n_threads);
}

void fm_gemm_f64(double *c, ptrdiff_t rsc, const double *a, ptrdiff_t rsa, ptrdiff_t csa,
                 const double *b, ptrdiff_t rsb, ptrdiff_t csb, ptrdiff_t m, ptrdiff_t n,
                 ptrdiff_t k, double alpha, double beta, const fm_epilogue *epi, int n_threads)
{
    if (!fm_active) fm_init();
    fm_active->gemm_f64(c, rsc, a, rsa, csa, b, rsb, csb, m, n, k, alpha, beta, epi, n_threads);
}
