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
 * MC is a multiple of MR and NC of NR.  MR x NR fill the target's vector
 * registers with accumulators (2 vectors a row, enough chains to cover the
 * FMA latency); KC, MC, NC size the packed blocks for L1/L2/L3.  The
 * measurements behind each value: docs/performance.md, "GEMM".
 */
#ifndef FM_GEMM_CONFIG_H
#define FM_GEMM_CONFIG_H

/*                             MR  NR   MC   KC    NC */
#define FM_GEMM_CFG_generic_f32 (4, 8, 128, 512, 4096)
#define FM_GEMM_CFG_generic_f64 (4, 4, 128, 512, 2048)
#define FM_GEMM_CFG_avx2_f32 (6, 16, 96, 512, 4096)
#define FM_GEMM_CFG_avx2_f64 (6, 8, 96, 512, 2048)
#define FM_GEMM_CFG_avx512_f32 (8, 32, 128, 512, 4096)
#define FM_GEMM_CFG_avx512_f64 (8, 16, 128, 512, 2048)

/* Small problems skip packing (and threads below FM_GEMM_MT_WORK): a direct
 * kernel reads A and B where they are.  Used when B is row-major (csb == 1)
 * or B is transposed and A row-major (rsb == 1, csa == 1), and
 *   m < FM_DIRECT_M rows (batch 1 and other GEMV-shaped products), or
 *   k <= FM_DIRECT_K (an outer product: packing costs as much as the work), or
 *   m*n*k <= FM_DIRECT_WORK multiply-adds (tiny layers). */
#define FM_DIRECT_M 4
/* A row-major B (the forward x.W) with at most FM_DIRECT_M_RM rows of A also
 * skips packing while W is at most FM_DIRECT_RM_BYTES: packing W would cost
 * as much as a few rows of products; a larger W, streamed from L3 for every
 * row slice, is faster packed. */
#define FM_DIRECT_M_RM 32
#define FM_DIRECT_RM_BYTES ((ptrdiff_t)2 << 20)
/* ... and for the weight gradient x^T.dz of a batch of at most FM_DIRECT_DW_K
 * rows into a C of at most FM_DIRECT_DW_BYTES (it stays in L2 while the
 * direct kernel sweeps it): A = x^T is read in place, its MR rows side by
 * side in each row of x, instead of being packed every step; a larger C is
 * faster packed. */
#define FM_DIRECT_DW_K 64
#define FM_DIRECT_DW_BYTES ((ptrdiff_t)640 * 1024)
/* ... and d.W^T with B = W^T of at most FM_DIRECT_TK rows (k: the outputs of
 * the layer, 10 classes) and FM_DIRECT_TK_ELEMS elements: W^T is copied
 * row-major to the stack and multiplied by the row-major direct kernel. */
#define FM_DIRECT_TK 16
#define FM_DIRECT_TK_ELEMS 4096
#define FM_DIRECT_K 4
#define FM_DIRECT_WORK ((ptrdiff_t)32768)
/* ... and, for a row-major B, whenever C is narrow (n <= FM_DIRECT_N, set
 * per target: 16 columns or two SIMD vectors): each element of A meets so few
 * columns that packing A would cost more than the multiply-adds.  The
 * direct kernel then works in k slices of up to FM_DIRECT_KB. */
#define FM_DIRECT_KB 256
/* A direct product of at most 3 rows (m <= 3, B row-major) whose B is larger
 * than this streams B's rows in order (rows_stream in gemm_direct_impl.h)
 * instead of in column tiles; a B that fits in L1/L2 stays on gemv_rm. */
#define FM_STREAM_B_BYTES ((ptrdiff_t)256 << 10)
#define FM_DIRECT_L2 ((ptrdiff_t)512 * 1024) /* bytes of L2 a slice of A may take */

/* Threads: besides fm_threads_for's FM_OMP_MIN_WORK (2^19), a GEMM uses
 * n_threads only from FM_GEMM_MT_WORK multiply-adds on: outside a team
 * (core/team.h) a parallel region wakes passive OpenMP workers, which only
 * a product this large repays. */
#define FM_GEMM_MT_WORK ((ptrdiff_t)1 << 23)

/* Micro-kernels stay out of line so their register allocation is their own. */
#if defined(__GNUC__) || defined(__clang__)
#define FM_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define FM_NOINLINE __declspec(noinline)
#else
#define FM_NOINLINE
#endif

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
