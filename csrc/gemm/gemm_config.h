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
 * How the numbers were chosen, on the machine they were tuned on (AMD Zen 4:
 * 32 KiB L1d and 1 MiB L2 per core, 32 MiB L3; two 256-bit FMA pipes with
 * 512-bit ops double-pumped, so AVX2 and AVX-512 share the fp32 peak of 32
 * flop/cycle; FMA latency 4):
 *  - MR x NR from the register count, then by measurement.  A tile of MR
 *    rows x 2 vectors needs 2*MR accumulators + 2 B vectors + 1 broadcast.
 *      avx2:   16 ymm -> 6 x 2 ymm = 12 accumulators (f32 6x16, f64 6x8),
 *              the Haswell shape of BLIS; 12 chains cover 2 pipes x 4 cycles.
 *      avx512: 32 zmm would take 14 x 2 zmm = 28 accumulators, but 8 x 2 zmm
 *              (f32 8x32, f64 8x16) measured 4-10% faster: gcc spills in the
 *              28-accumulator loop, and batch sizes (32, 128, 256, 4096) are
 *              multiples of 8, not 14 (a 2-thread split of 256 rows computed
 *              140 padded rows per thread with MR=14).  16 chains are still
 *              4x the FMA latency at one zmm FMA per cycle.
 *      generic: portable C that gcc vectorises with SSE2 (16 xmm, no FMA):
 *              4x8 f32 / 4x4 f64 measured best of 3x8..8x8 / 2x8..6x4.
 *  - KC: the B micro-panel (KC*NR) was meant to sit in L1, A's in L2; but
 *    KC = 512 measured 2-4% faster than 256 (k = 784 is done in two passes
 *    over C instead of four), and KC = 128 5-8% slower.
 *  - MC so the A block (MC*KC*sizeof) is a quarter to half of L2; 64..336
 *    were within noise, 96-128 a hair ahead.
 *  - NC so the packed B panel (KC*NC*sizeof, 8 MiB) sits in L3, shared by
 *    both threads, and one JC block covers every layer width up to 4096.
 * Sweeps: benchmarks/c/bench_gemm --shape MxNxK --cputime, best of 3 runs,
 * on fwd 128x512x784, 256x512x784, 2048x2048x784, dX 256x512x512 and
 * dW 784x512x256.
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
 * skips packing while W is at most FM_DIRECT_RM_BYTES: packing W costs as
 * much as a few rows of products (784-128-64-10 at batch 32, forward of
 * layer 0: 67 -> 60 us; 32x128x784 113 against 96 GFLOP/s), equal at
 * 32x512x784 (1.6 MB), but a larger W streamed from L3 for every row slice
 * halves the speed (32x2048x2048: 37 against 79 GFLOP/s packed). */
#define FM_DIRECT_M_RM 32
#define FM_DIRECT_RM_BYTES ((ptrdiff_t)2 << 20)
/* ... and for the weight gradient x^T.dz of a batch of at most FM_DIRECT_DW_K
 * rows into a C of at most FM_DIRECT_DW_BYTES (it stays in L2 while the
 * direct kernel sweeps it): A = x^T is read in place, its MR rows side by
 * side in each row of x, instead of being packed every step (784x128 at
 * k = 32, float32: 58.5 against 62.0 us; net B's step at batch 32: 148-156
 * against 150-160 us).  Larger C loses (784x512x32 f32 255 against 244 us,
 * f64 784 against 499; 512x512x64 f32 370 against 310). */
/* ... and d.W^T with B = W^T of at most FM_DIRECT_TK rows (k: the outputs of
 * the layer, 10 classes) and FM_DIRECT_TK_ELEMS elements: W^T is copied
 * row-major to the stack and multiplied by the row-major direct kernel. */
#define FM_DIRECT_TK 16
#define FM_DIRECT_TK_ELEMS 4096
#define FM_DIRECT_DW_K 64
#define FM_DIRECT_DW_BYTES ((ptrdiff_t)640 * 1024)
#define FM_DIRECT_K 4
#define FM_DIRECT_WORK ((ptrdiff_t)32768)
/* ... and, for a row-major B, whenever C is narrow (n <= FM_DIRECT_N, set
 * per target: 16 columns or two SIMD vectors): each element of A meets so few
 * columns that packing A would cost more than the multiply-adds.  The
 * direct kernel then works in k slices of up to FM_DIRECT_KB. */
#define FM_DIRECT_KB 256
/* A direct product of at most 3 rows (m <= 3, B row-major) whose B is larger
 * than this streams B's rows in order (rows_stream in gemm_simd_impl.h)
 * instead of in column tiles: x.W at one row, 784x128 f32 5.1 -> 4.2 us,
 * f64 11.2 -> 9.9 us; 128x64 (L1) stays on gemv_rm, 0.22 against 0.41 us. */
#define FM_STREAM_B_BYTES ((ptrdiff_t)256 << 10)
#define FM_DIRECT_L2 ((ptrdiff_t)512 * 1024) /* bytes of L2 a slice of A may take */

/* Threads: besides fm_threads_for's FM_OMP_MIN_WORK (2^19), a GEMM uses
 * n_threads only from FM_GEMM_MT_WORK multiply-adds on (~80 us on one
 * core).  fastmlp's OpenMP workers wait passively (fastmlp/_omp_policy.py),
 * so every parallel region pays for waking a sleeping worker: ~40 us in
 * this VM (C workbench, net B at batch 256 on 2 threads: 921 us a step
 * passive against 672 us spinning, with the old 2^20 threshold and six
 * regions a step).  From 2^23 on, only products worth that wake-up split:
 * B/256/2 906 -> 861 us, C/256/2 4908 -> 4640 us, and passive then matches
 * spinning within the noise (B 853-915 vs 812-867 us). */
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
