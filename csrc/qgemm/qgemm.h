/*
 * qgemm.h -- internal declarations of the int8 product's paths (the
 * contract is fm_qgemm's in fastmlp.h) and of the row quantiser.
 *
 * Paths, each a loop nest (qgemm_loop_impl.h) around its micro-kernel:
 *   avx512vnni  zmm vpdpbusd, 8 rows x 32 columns     (qgemm_avx512.c)
 *   avx2vnni    ymm vpdpbusd (AVX-VNNI, VEX), 4 rows x 16 cols (qgemm_avx2.c)
 *   avx2_madd   bytes widened to int16, vpmaddwd, 4 rows x 8 columns
 *               (no vpmaddubsw: its int16 pair sums saturate at 255*127*2)
 *   generic     portable C, 4 rows x 32 columns       (qgemm_generic.c)
 *   ref         the triple loop over (i, j, p), the specification
 * All compute the same wrapping int32 sums, so their integer results are
 * identical.  The kernel table (core/kernels.h) holds them: a row's qgemm
 * and, where the row's ISA has one, its qgemm_vnni, which the table takes
 * when the CPU runs it (core/dispatch.c).
 */
#ifndef FM_QGEMM_H
#define FM_QGEMM_H

#include "fastmlp.h"

typedef void (*fm_qgemm_fn)(float *, ptrdiff_t, const uint8_t *, ptrdiff_t, const int8_t *,
                            ptrdiff_t, ptrdiff_t, ptrdiff_t, const fm_qepilogue *, int);
typedef void (*fm_qrows_fn)(uint8_t *, ptrdiff_t, float *, int32_t *, const float *, ptrdiff_t,
                            ptrdiff_t, ptrdiff_t, float, int32_t, int);

#define FM_QGEMM_DECLARE(p)                                                                 \
    void fm_qgemm_##p(float *, ptrdiff_t, const uint8_t *, ptrdiff_t, const int8_t *,        \
                      ptrdiff_t, ptrdiff_t, ptrdiff_t, const fm_qepilogue *, int);
FM_QGEMM_DECLARE(avx512vnni)
FM_QGEMM_DECLARE(avx2vnni)
FM_QGEMM_DECLARE(avx2_madd)
FM_QGEMM_DECLARE(generic)
FM_QGEMM_DECLARE(ref)

#define FM_QROWS_DECLARE(tgt)                                                               \
    void fm_qrows_##tgt(uint8_t *, ptrdiff_t, float *, int32_t *, const float *, ptrdiff_t,  \
                        ptrdiff_t, ptrdiff_t, float, int32_t, int);
FM_QROWS_DECLARE(avx512)
FM_QROWS_DECLARE(avx2)
FM_QROWS_DECLARE(generic)

/* Bytes of one packed panel row group: FM_Q_NR columns x 4 inputs. */
#define FM_Q_GROUP (FM_Q_NR * 4)
/* Rows of q per block of the loop nest: the block (rows x k bytes) stays in
 * L2 while every weight panel passes over it. */
#define FM_Q_L2 ((ptrdiff_t)384 * 1024)
#define FM_Q_MC 128

/* A product (or its part) handed to a thread of the team (team.h). */
typedef struct fm_qjob {
    float *c;
    const uint8_t *a;
    const int8_t *wp;
    const fm_qepilogue *e;
    ptrdiff_t rsc, lda, m, n, k;
    int tr, tc; /* C cut into tr x tc blocks: whole MR-row and NR-column panels */
} fm_qjob;

#endif /* FM_QGEMM_H */
