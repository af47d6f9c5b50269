/*
 * gemm_config.h -- blocking parameters of the packed GEMM, per target and
 * dtype (the role of BLIS's bli_cntx_init_<arch>.c), and the naming macros
 * the target files use with gemm_blocked_impl.h.
 *
 *   MR x NR  micro-tile: the accumulators the micro-kernel keeps in registers
 *   MC       rows of A packed per IC block   (A block MC x KC lives in L2)
 *   KC       depth of one rank-KC update     (B micro-panel KC x NR in L1)
 *   NC       columns of B packed per JC block (B panel KC x NC in L3)
 *
 * MC is a multiple of MR and NC of NR.
 *
 * How the numbers were chosen, for the machine these were tuned on (AMD
 * Zen 4: 32 KiB L1d, 1 MiB L2 per core, 32 MiB L3; 2 FMA pipes of 256 bits,
 * 512-bit ops double-pumped, so AVX2 and AVX-512 share the fp32 peak of 32
 * flop/cycle; FMA latency 4):
 *  - MR x NR by register count.  A tile of MR rows x 2 vectors needs 2*MR
 *    accumulators + 2 B vectors + 1 broadcast A register.
 *      avx512: 32 zmm -> 14 x 2 zmm = 28 accumulators (f32 14x32, f64 14x16);
 *              28 independent FMA chains hide the 4-cycle latency, and each
 *              k step does 2 vector loads + 14 broadcasts for 28 FMAs.
 *      avx2:   16 ymm -> 6 x 2 ymm = 12 accumulators (f32 6x16, f64 6x8),
 *              the Haswell-style 6x16 of BLIS.
 *      generic: portable C the compiler vectorises with SSE2 (16 xmm): the
 *              avx2 shape at half the vector width (f32 6x8, f64 6x4).
 *  - KC so the B micro-panel (KC*NR*sizeof) stays in L1 while the A
 *    micro-panels stream from L2, then trimmed by measurement:
 *      avx512 f32: 256*32*4 = 32 KiB,  avx512 f64: 256*16*8 = 32 KiB,
 *      avx2 f32:   256*16*4 = 16 KiB,  avx2 f64:   256*8*8  = 16 KiB.
 *  - MC so the A block (MC*KC*sizeof) takes at most half the L2.
 *  - NC so the packed B panel (KC*NC*sizeof) is a few MiB: shared by both
 *    threads in L3, and one JC block covers every layer width <= NC.
 * The values below are the result of sweeps with benchmarks/c/bench_gemm.c
 * around those starting points.
 */
#ifndef FM_GEMM_CONFIG_H
#define FM_GEMM_CONFIG_H

/*                          MR  NR    MC    KC    NC */
#define FM_GEMM_CFG_generic_f32 (6, 8, 96, 256, 4096)
#define FM_GEMM_CFG_generic_f64 (6, 4, 96, 256, 2048)
#define FM_GEMM_CFG_avx2_f32 (6, 16, 144, 256, 4096)
#define FM_GEMM_CFG_avx2_f64 (6, 8, 96, 256, 2048)
#define FM_GEMM_CFG_avx512_f32 (14, 32, 168, 256, 4096)
#define FM_GEMM_CFG_avx512_f64 (14, 16, 112, 256, 2048)

/* Small problems skip packing (and threads below FM_OMP_MIN_WORK): a direct
 * kernel reads A and B where they are.  Used when B is row-major (csb == 1)
 * or B is transposed and A row-major (rsb == 1, csa == 1), and
 *   m < FM_DIRECT_M rows (batch 1 and other GEMV-shaped products), or
 *   k <= FM_DIRECT_K (an outer product: packing costs as much as the work), or
 *   m*n*k <= FM_DIRECT_WORK multiply-adds (tiny layers). */
#define FM_DIRECT_M 4
#define FM_DIRECT_K 4
#define FM_DIRECT_WORK ((ptrdiff_t)32768)
/* ... and, for a row-major B, whenever C is narrow (n <= FM_DIRECT_N, set
 * per target: two SIMD vectors): there each element of A meets so few
 * columns that packing A would cost more than the multiply-adds.  The
 * direct kernel then works in k slices of FM_DIRECT_KB. */
#define FM_DIRECT_KB 256

/* ---- naming helpers (used with FM_TGT = generic | avx2 | avx512) -------- */
#define FM_CFG_MR_(mr, nr, mc, kc, nc) mr
#define FM_CFG_NR_(mr, nr, mc, kc, nc) nr
#define FM_CFG_MC_(mr, nr, mc, kc, nc) mc
#define FM_CFG_KC_(mr, nr, mc, kc, nc) kc
#define FM_CFG_NC_(mr, nr, mc, kc, nc) nc
#define FM_CFG_X_(x) x
#define FM_CFG_GET__(f, tgt, sfx) FM_CFG_X_(FM_CFG_##f##_ FM_GEMM_CFG_##tgt##_##sfx)
#define FM_CFG_GET_(f, tgt, sfx) FM_CFG_GET__(f, tgt, sfx)
#define FM_CFG_GET(f) FM_CFG_GET_(f, FM_TGT, FM_SFX)

#define FM_MR FM_CFG_GET(MR)
#define FM_NR FM_CFG_GET(NR)
#define FM_MC FM_CFG_GET(MC)
#define FM_KC FM_CFG_GET(KC)
#define FM_NC FM_CFG_GET(NC)

/* FM_TFN(pack_a) -> fm_gemm_avx2_pack_a_f32: a helper of the current target */
#define FM_TFN__(name, tgt, sfx) fm_gemm_##tgt##_##name##_##sfx
#define FM_TFN_(name, tgt, sfx) FM_TFN__(name, tgt, sfx)
#define FM_TFN(name) FM_TFN_(name, FM_TGT, FM_SFX)
/* FM_TENTRY -> fm_gemm_avx2_f32: the target's public entry (gemm.h) */
#define FM_TENTRY__(tgt, sfx) fm_gemm_##tgt##_##sfx
#define FM_TENTRY_(tgt, sfx) FM_TENTRY__(tgt, sfx)
#define FM_TENTRY FM_TENTRY_(FM_TGT, FM_SFX)
/* FM_UKR -> fm_gemm_avx2_6x16_f32: the micro-kernel, named after its tile */
#define FM_UKR__(tgt, mr, nr, sfx) fm_gemm_##tgt##_##mr##x##nr##_##sfx
#define FM_UKR_(tgt, mr, nr, sfx) FM_UKR__(tgt, mr, nr, sfx)
#define FM_UKR FM_UKR_(FM_TGT, FM_MR, FM_NR, FM_SFX)

#endif /* FM_GEMM_CONFIG_H */
