/*
 * dispatch.c -- the kernel table (kernels.h): one row per target, best
 * first; the active row is chosen once at import (fm_init) as the best one
 * this CPU and OS support, then FASTMLP_ARCH=<name> if set, and changed only
 * by fm_set_target.  FASTMLP_ARCH_DEBUG=1 prints the choice to stderr.
 *
 * "ref" is the specification: the triple-loop GEMM and rng.h's scalar
 * noise; kernels without a reference of their own run the portable build.
 * The bf16 GEMM has two slots: every row's emulation, and on avx512 the
 * vdpbf16ps instance that gemm/bf16.c prefers where AVX512_BF16 is present
 * (an extension within the row's ISA, not a row of its own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/kernels.h"
#include "core/cpu.h"
#include "core/team.h"
#include "gemm/gemm.h"
#include "train/fast/rank1.h"
#include "train/fast/sparse_fwd.h"
#include "rng/noise.h"
#include "probe/peak.h"
#include "qgemm/qgemm.h"
#include "probe/peak_i8.h"
#include "gemm/bf16.h"
#include "layers/csr.h"

static int fm_always(void) { return 1; }

#define FM_KERNEL_ROW(tgt, supported, bf16_dp)                                               \
    {#tgt, supported, fm_gemm_##tgt##_f32, fm_gemm_##tgt##_f64,                              \
     fm_rank1_##tgt##_sgd_f32, fm_rank1_##tgt##_sgd_f64,                                     \
     fm_sparse_##tgt##_fwd_f32, fm_sparse_##tgt##_fwd_f64,                                   \
     fm_noise_range_##tgt##_f32, fm_noise_range_##tgt##_f64,                                 \
     fm_dropout_range_##tgt##_f32, fm_dropout_range_##tgt##_f64,                             \
     fm_peak_chains_##tgt##_f32, fm_peak_chains_##tgt##_f64,                                 \
     FM_QROW_##tgt, fm_gemm_bf16_##tgt, bf16_dp,                                             \
     fm_csr_##tgt##_fwd_f32, fm_csr_##tgt##_fwd_f64,                                         \
     fm_csr_##tgt##_bwd_f32, fm_csr_##tgt##_bwd_f64}
/* the int8 slots: qgemm, qgemm_vnni, vnni_supported, qrows, peak_i8 (every AVX-512 CPU
 * has AVX2: the avx512 row's product without VNNI is avx2's) */
#define FM_QROW_avx512 fm_qgemm_avx2_madd, fm_qgemm_avx512vnni, fm_cpu_has_avx512vnni,       \
                       fm_qrows_avx512, fm_peak_chains_i8_avx512
#define FM_QROW_avx2 fm_qgemm_avx2_madd, fm_qgemm_avx2vnni, fm_cpu_has_avxvnni, fm_qrows_avx2, NULL
#define FM_QROW_generic fm_qgemm_generic, NULL, NULL, fm_qrows_generic, NULL

static const fm_kernels fm_targets[] = {
#if defined(__x86_64__) || defined(_M_X64)
    FM_KERNEL_ROW(avx512, fm_cpu_has_avx512, fm_gemm_bf16_dp_avx512),
    FM_KERNEL_ROW(avx2, fm_cpu_has_avx2, NULL),
#endif
    FM_KERNEL_ROW(generic, fm_always, NULL),
    {"ref", fm_always, fm_gemm_ref_f32, fm_gemm_ref_f64,
     fm_rank1_generic_sgd_f32, fm_rank1_generic_sgd_f64,
     fm_sparse_generic_fwd_f32, fm_sparse_generic_fwd_f64,
     fm_noise_range_ref_f32, fm_noise_range_ref_f64,
     fm_dropout_range_ref_f32, fm_dropout_range_ref_f64,
     NULL, NULL, fm_qgemm_ref, NULL, NULL, fm_qrows_generic, NULL, fm_gemm_bf16_ref, NULL,
     fm_csr_generic_fwd_f32, fm_csr_generic_fwd_f64,
     fm_csr_generic_bwd_f32, fm_csr_generic_bwd_f64},
};
#define FM_N_TARGETS ((int)(sizeof(fm_targets) / sizeof(fm_targets[0])))

const fm_kernels *fm_kernels_cur = NULL;
static fm_qgemm_fn_t fm_qgemm_cur = NULL; /* the int8 product of fm_kernels_cur */
volatile int fm_bf16_dp_state = -1;

int fm_bf16_dp_supported(void) { return fm_cpu_has_avx512_bf16(); }

int fm_bf16_dp(int use)
{
    if (use >= 0) fm_bf16_dp_state = use && fm_cpu_has_avx512_bf16();
    if (fm_bf16_dp_state < 0) { /* FASTMLP_BF16=emulate keeps the emulation (tests, timing) */
        const char *env = getenv("FASTMLP_BF16");
        fm_bf16_dp_state = fm_cpu_has_avx512_bf16() && !(env && strcmp(env, "emulate") == 0);
    }
    return fm_bf16_dp_state;
}
static char fm_avail[256]; /* the supported names, best first, comma-separated */

const fm_kernels *fm_kernels_at(int i)
{
    return i >= 0 && i < FM_N_TARGETS ? &fm_targets[i] : NULL;
}

const fm_kernels *fm_kernels_named(const char *name)
{
    int i;
    for (i = 0; i < FM_N_TARGETS; i++)
        if (fm_targets[i].supported() && (!name[0] || strcmp(fm_targets[i].name, name) == 0))
            return &fm_targets[i];
    return NULL;
}

/* A row's int8 product: its VNNI path where this CPU runs it. */
static fm_qgemm_fn_t fm_row_qgemm(const fm_kernels *k)
{
    return k->qgemm_vnni && k->vnni_supported() ? k->qgemm_vnni : k->qgemm;
}

static void fm_list_available(void)
{
    int i;
    fm_avail[0] = '\0';
    for (i = 0; i < FM_N_TARGETS; i++) {
        if (!fm_targets[i].supported()) continue;
        if (fm_avail[0]) strncat(fm_avail, ",", sizeof(fm_avail) - strlen(fm_avail) - 1);
        strncat(fm_avail, fm_targets[i].name, sizeof(fm_avail) - strlen(fm_avail) - 1);
    }
}

void fm_init(void)
{
    const fm_kernels *best;
    const char *env, *dbg;
    if (fm_kernels_cur) return;
    fm_list_available();
    fm_bf16_dp(-1);
    best = fm_kernels_named(""); /* "ref" always qualifies, so never NULL */
    fm_team_init();
    env = getenv("FASTMLP_ARCH");
    if (env && env[0]) {
        const fm_kernels *t = fm_kernels_named(env);
        if (t) best = t;
        else fprintf(stderr, "fastmlp: FASTMLP_ARCH=%s is not available here (available: %s); "
                             "using %s\n", env, fm_avail, best->name);
    }
    fm_qgemm_cur = fm_row_qgemm(best);
    fm_kernels_cur = best;
    dbg = getenv("FASTMLP_ARCH_DEBUG");
    if (dbg && dbg[0] == '1')
        fprintf(stderr, "fastmlp: GEMM target %s (available: %s)\n", best->name, fm_avail);
}

const fm_kernels *fm_kernels_init(void)
{
    fm_init();
    return fm_kernels_cur;
}

const char *fm_simd_target(void) { return fm_kernels_active()->name; }
const char *fm_available_targets(void) { fm_init(); return fm_avail; }

int fm_set_target(const char *name)
{
    const fm_kernels *t;
    fm_init();
    t = name[0] ? fm_kernels_named(name) : NULL;
    if (!t) return -1;
    fm_qgemm_cur = fm_row_qgemm(t);
    fm_kernels_cur = t;
    return 0;
}

fm_qgemm_fn_t fm_kernels_qgemm(void)
{
    if (!fm_kernels_cur) fm_init();
    return fm_qgemm_cur;
}

fm_qgemm_fn_t fm_kernels_qgemm_named(const char *name)
{
    int i;
    size_t len;
    for (i = 0; i < FM_N_TARGETS; i++) {
        const fm_kernels *k = &fm_targets[i];
        if (!k->supported()) continue;
        len = strlen(k->name);
        if (strcmp(name, k->name) == 0) return k->qgemm;
        if (k->qgemm_vnni && k->vnni_supported() && strncmp(name, k->name, len) == 0 &&
            strcmp(name + len, "vnni") == 0)
            return k->qgemm_vnni;
    }
    return NULL;
}

const char *fm_kernels_qgemm_list(void)
{
    static char list[128];
    int i;
    if (list[0]) return list; /* the list never changes */
    for (i = 0; i < FM_N_TARGETS; i++) {
        const fm_kernels *k = &fm_targets[i];
        if (!k->supported()) continue;
        if (k->qgemm_vnni && k->vnni_supported()) {
            if (list[0]) strncat(list, ",", sizeof(list) - strlen(list) - 1);
            strncat(list, k->name, sizeof(list) - strlen(list) - 1);
            strncat(list, "vnni", sizeof(list) - strlen(list) - 1);
        }
        if (list[0]) strncat(list, ",", sizeof(list) - strlen(list) - 1);
        strncat(list, k->name, sizeof(list) - strlen(list) - 1);
    }
    return list;
}

fm_peak_i8_fn_t fm_kernels_peak_i8(void)
{
    int i;
    for (i = 0; i < FM_N_TARGETS; i++)
        if (fm_targets[i].peak_i8 && fm_targets[i].supported() && fm_targets[i].vnni_supported())
            return fm_targets[i].peak_i8;
    return NULL;
}
