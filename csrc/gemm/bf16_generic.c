/*
 * bf16_generic.c -- the "generic" target's bf16 GEMM (contract: gemm/bf16.h):
 * the shared packed loop nest around a 4x8 micro-kernel in portable C that
 * runs the chain of pair steps in portable scalar arithmetic (fm_bf16_step:
 * exact products, one rounding per addition, tiny sums flushed by hand).
 * Baseline flags.
 */
#include "core/fm_internal.h"
#include "gemm/gemm_config.h"
#include "gemm/bf16.h"

#include "core/fm_dtype_f32.h"
#include "layers/act_impl.h"

#define FM_BTGT generic
#define FM_BMR 4
#define FM_BNR 8
#define FM_BMC 128
#define FM_BKC 512
#define FM_BNC 4096
#define FM_BFTZ 0 /* fm_bf16_step flushes by itself, on any CPU */

/* m x n tile (<= 4 x 8) over kp pairs; the packs are zero-padded. */
FM_NOINLINE static void fm_bf16_generic_ukr(ptrdiff_t m, ptrdiff_t n, ptrdiff_t kp,
                                            const uint32_t *FM_RESTRICT a,
                                            const uint32_t *FM_RESTRICT b, float *FM_RESTRICT c,
                                            ptrdiff_t rsc, int init)
{
    float acc[FM_BMR][FM_BNR];
    ptrdiff_t i, j, q;
    for (i = 0; i < FM_BMR; i++)
        for (j = 0; j < FM_BNR; j++)
            acc[i][j] = init && i < m && j < n ? fm_bf16_ftz(c[i * rsc + j]) : 0.0f;
    for (q = 0; q < kp; q++, a += FM_BMR, b += FM_BNR)
        for (i = 0; i < FM_BMR; i++)
            for (j = 0; j < FM_BNR; j++) acc[i][j] = fm_bf16_step(acc[i][j], a[i], b[j]);
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) c[i * rsc + j] = acc[i][j];
}

#include "gemm/bf16_blocked_impl.h"
#include "core/fm_dtype_end.h"
