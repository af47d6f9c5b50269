/*
 * kernels.h -- the per-ISA kernel table: one entry per target ("avx512",
 * "avx2", "generic", "ref"), one function pointer per kernel and dtype.
 *
 * dispatch.c fills the entries and picks the active one once at import
 * (fm_init: CPUID/XGETBV, then FASTMLP_ARCH), or on fm_set_target.  A kernel
 * entry point makes one table lookup per call and calls the target's
 * instance; nothing on a hot path compares names.  Each pointer has the
 * signature and contract of the entry point named in its comment.
 *
 * To add an ISA: build its instances (files ending _<isa>.c get its flags,
 * setup.py), add a CPU check to cpu.c and one row to dispatch.c's table.
 */
#ifndef FM_KERNELS_H
#define FM_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "fastmlp.h"

/* fm_gemm_f32/f64 (fastmlp.h) */
typedef void (*fm_gemm_fn_f32)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,
                               const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                               ptrdiff_t, float, float, const fm_epilogue *, int);
typedef void (*fm_gemm_fn_f64)(double *, ptrdiff_t, const double *, ptrdiff_t, ptrdiff_t,
                               const double *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                               ptrdiff_t, double, double, const fm_epilogue *, int);
/* fm_rank1_sgd_f32/f64 (train/fast/rank1.h) */
typedef void (*fm_rank1_fn_f32)(float *, float *, const float *, const float *, const float *,
                                int, double, float, float, int, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                int);
typedef void (*fm_rank1_fn_f64)(double *, double *, const double *, const double *,
                                const double *, int, double, double, double, int, ptrdiff_t,
                                ptrdiff_t, ptrdiff_t, int);
/* fm_sparse_fwd_f32/f64 (train/fast/sparse_fwd.h) */
typedef void (*fm_sparse_fwd_fn_f32)(float *, const float *, const float *, float, ptrdiff_t,
                                     ptrdiff_t, ptrdiff_t, int);
typedef void (*fm_sparse_fwd_fn_f64)(double *, const double *, const double *, double,
                                     ptrdiff_t, ptrdiff_t, ptrdiff_t, int);
/* fm_csr_linear_forward_f32/f64 and fm_csr_linear_backward_f32/f64 (fastmlp.h, layers/csr.h) */
typedef void (*fm_csr_fwd_fn_f32)(float *, const fm_csr *, const int64_t *, ptrdiff_t,
                                  const float *, const float *, int, double, ptrdiff_t,
                                  ptrdiff_t, int);
typedef void (*fm_csr_fwd_fn_f64)(double *, const fm_csr *, const int64_t *, ptrdiff_t,
                                  const double *, const double *, int, double, ptrdiff_t,
                                  ptrdiff_t, int);
typedef void (*fm_csr_bwd_fn_f32)(float *, float *, const float *, const fm_csr *,
                                  const int64_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, int);
typedef void (*fm_csr_bwd_fn_f64)(double *, double *, const double *, const fm_csr *,
                                  const int64_t *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, int);
/* fm_noise_range_<isa>_f32/f64 and fm_dropout_range_<isa>_f32/f64 (rng/noise.h) */
typedef void (*fm_noise_range_fn_f32)(float *, double, uint64_t, ptrdiff_t, ptrdiff_t);
typedef void (*fm_noise_range_fn_f64)(double *, double, uint64_t, ptrdiff_t, ptrdiff_t);
typedef void (*fm_dropout_range_fn_f32)(float *, const float *, double, uint64_t, uint64_t,
                                        ptrdiff_t, ptrdiff_t);
typedef void (*fm_dropout_range_fn_f64)(double *, const double *, double, uint64_t, uint64_t,
                                        ptrdiff_t, ptrdiff_t);
/* fm_gemm_bf16 (fastmlp.h; contract in gemm/bf16.h) */
typedef void (*fm_gemm_bf16_fn)(float *, ptrdiff_t, const float *, ptrdiff_t, ptrdiff_t,
                                const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t,
                                ptrdiff_t, float, const fm_epilogue *, int);
/* fm_peak_chains_<isa>_f32/f64 (probe/peak.h) */
typedef double (*fm_peak_chains_fn_f32)(float, float, ptrdiff_t, double *);
typedef double (*fm_peak_chains_fn_f64)(double, double, ptrdiff_t, double *);

/* fm_qgemm and fm_quantize_rows_u8 (fastmlp.h; qgemm/qgemm.h) */
typedef void (*fm_qgemm_fn_t)(float *, ptrdiff_t, const uint8_t *, ptrdiff_t, const int8_t *,
                              ptrdiff_t, ptrdiff_t, ptrdiff_t, const fm_qepilogue *, int);
typedef void (*fm_qrows_fn_t)(uint8_t *, ptrdiff_t, float *, int32_t *, const float *,
                              ptrdiff_t, ptrdiff_t, ptrdiff_t, float, int32_t, int);
/* fm_peak_chains_i8_<isa> (probe/peak_i8.h) */
typedef double (*fm_peak_i8_fn_t)(ptrdiff_t, double *);

typedef struct fm_kernels {
    const char *name;       /* as FASTMLP_ARCH, fm_set_target and fm_simd_target spell it */
    int (*supported)(void); /* 1 when this CPU and OS can run every kernel below */
    fm_gemm_fn_f32 gemm_f32;
    fm_gemm_fn_f64 gemm_f64;
    fm_rank1_fn_f32 rank1_sgd_f32;
    fm_rank1_fn_f64 rank1_sgd_f64;
    fm_sparse_fwd_fn_f32 sparse_fwd_f32;
    fm_sparse_fwd_fn_f64 sparse_fwd_f64;
    fm_noise_range_fn_f32 noise_range_f32;
    fm_noise_range_fn_f64 noise_range_f64;
    fm_dropout_range_fn_f32 dropout_range_f32;
    fm_dropout_range_fn_f64 dropout_range_f64;
    fm_peak_chains_fn_f32 peak_chains_f32; /* NULL: the target has no probe of its own */
    fm_peak_chains_fn_f64 peak_chains_f64;
    fm_qgemm_fn_t qgemm;          /* int8 product without VNNI (qgemm/qgemm.h) */
    fm_qgemm_fn_t qgemm_vnni;     /* the same on the row's vpdpbusd, or NULL */
    int (*vnni_supported)(void);  /* 1 when this CPU runs qgemm_vnni (NULL with it) */
    fm_qrows_fn_t qrows;          /* int8 row quantiser */
    fm_peak_i8_fn_t peak_i8;      /* vpdpbusd probe (qgemm_vnni's ISA), or NULL */
    fm_gemm_bf16_fn gemm_bf16;    /* bf16 products, float32 chains (emulated or not) */
    fm_gemm_bf16_fn gemm_bf16_dp; /* the same on vdpbf16ps, or NULL; used only when
                                     fm_cpu_has_avx512_bf16() (gemm/bf16.c) */
    fm_csr_fwd_fn_f32 csr_fwd_f32;
    fm_csr_fwd_fn_f64 csr_fwd_f64;
    fm_csr_bwd_fn_f32 csr_bwd_f32;
    fm_csr_bwd_fn_f64 csr_bwd_f64;
} fm_kernels;

/* The active entry (dispatch.c; NULL until fm_init has run). */
extern const fm_kernels *fm_kernels_cur;
/* fm_init, then the active entry. */
const fm_kernels *fm_kernels_init(void);

/* The active entry: one load on the hot path (fm_init runs first if it has not). */
static inline const fm_kernels *fm_kernels_active(void)
{
    const fm_kernels *k = fm_kernels_cur;
    return k ? k : fm_kernels_init();
}

/* vdpbf16ps (the gemm_bf16_dp slots): 1 in use, 0 not (no AVX512_BF16, or
 * switched off by fm_bf16_dp / FASTMLP_BF16=emulate), -1 before fm_init. */
extern volatile int fm_bf16_dp_state;
/* 1 when this CPU and OS run vdpbf16ps (the slots and the bf16 peak probe). */
int fm_bf16_dp_supported(void);

/* The active entry's bf16 GEMM: its vdpbf16ps instance when in use, else its
 * emulation (the same bits). */
static inline fm_gemm_bf16_fn fm_kernels_bf16(void)
{
    const fm_kernels *k = fm_kernels_active();
    return k->gemm_bf16_dp && fm_bf16_dp_state > 0 ? k->gemm_bf16_dp : k->gemm_bf16;
}

/* The supported entry called `name`, or NULL; "" is the best supported one. */
const fm_kernels *fm_kernels_named(const char *name);

/* The i-th entry, best first, supported here or not; NULL past the end. */
const fm_kernels *fm_kernels_at(int i);

/* The int8 product of the active entry: its qgemm_vnni where the CPU runs it, else its
 * qgemm; decided with the entry (fm_init, fm_set_target), one load a call. */
fm_qgemm_fn_t fm_kernels_qgemm(void);
/* The int8 product path called `name`: an entry's name (its qgemm) or the name + "vnni"
 * (its qgemm_vnni), if this CPU runs it; else NULL.  The list of them: fm_kernels_qgemm_list. */
fm_qgemm_fn_t fm_kernels_qgemm_named(const char *name);
const char *fm_kernels_qgemm_list(void);
/* The first vpdpbusd probe this CPU runs, or NULL. */
fm_peak_i8_fn_t fm_kernels_peak_i8(void);

#endif /* FM_KERNELS_H */
