/*
 * qgemm.c -- int8 inference entry points (fastmlp.h): the weight packing,
 * fm_qgemm and fm_quantize_rows_u8 through the kernel table (one lookup a
 * call), fm_qgemm_path for tests, and fm_qnet_forward, a whole network
 * chunk by chunk in one team of threads (core/team.h).
 */
#include <string.h>
#include "core/fm_internal.h"
#include "core/kernels.h"
#include "core/team.h"
#include "qgemm/qgemm.h"

ptrdiff_t fm_qpack_size(ptrdiff_t n_in, ptrdiff_t n_out)
{
    return (n_out + FM_Q_NR - 1) / FM_Q_NR * ((n_in + 3) / 4) * FM_Q_GROUP;
}

void fm_qpack_weights(int8_t *wp, int32_t *colsum, const int8_t *w, ptrdiff_t n_in,
                      ptrdiff_t n_out)
{
    const ptrdiff_t kq = (n_in + 3) / 4;
    ptrdiff_t i, j;
    memset(wp, 0, (size_t)fm_qpack_size(n_in, n_out));
    for (j = 0; j < n_out; j++) colsum[j] = 0;
    for (i = 0; i < n_in; i++)
        for (j = 0; j < n_out; j++) {
            int8_t v = w[i * n_out + j];
            wp[(j / FM_Q_NR) * kq * FM_Q_GROUP + (i / 4) * FM_Q_GROUP + (j % FM_Q_NR) * 4 +
               i % 4] = v;
            colsum[j] += v;
        }
}

void fm_qgemm(float *c, ptrdiff_t rsc, const uint8_t *q, ptrdiff_t lda, const int8_t *wp,
              ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const fm_qepilogue *e, int n_threads)
{
    fm_kernels_qgemm()(c, rsc, q, lda, wp, m, n, k, e, n_threads);
}

void fm_quantize_rows_u8(uint8_t *q, ptrdiff_t ldq, float *scale, int32_t *zp, const float *x,
                         ptrdiff_t ldx, ptrdiff_t m, ptrdiff_t k, float static_scale,
                         int32_t static_zp, int n_threads)
{
    fm_kernels_active()->qrows(q, ldq, scale, zp, x, ldx, m, k, static_scale, static_zp,
                               n_threads);
}

/* ---- the paths by name (tests; named by the kernel table) ---------------- */
int fm_qgemm_path(const char *path, float *c, ptrdiff_t rsc, const uint8_t *q, ptrdiff_t lda,
                  const int8_t *wp, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                  const fm_qepilogue *e, int n_threads)
{
    fm_qgemm_fn_t fn = fm_kernels_qgemm_named(path);
    if (!fn) return -1;
    fn(c, rsc, q, lda, wp, m, n, k, e, n_threads);
    return 0;
}

const char *fm_qgemm_paths(void) { return fm_kernels_qgemm_list(); }

/* ---- a whole network -----------------------------------------------------
 * Rows go through all the layers in blocks of at most FM_Q_NET_ROWS: a
 * block's hidden activations (256 x 2048 floats, 2 MiB) stay in the caches
 * between the product that writes them and the quantiser that reads them,
 * instead of a round trip through memory (docs/performance.md, "Quantised
 * inference"). */
#define FM_Q_NET_ROWS 256
#define FM_Q_ALIGN(x) (((x) + 63) / 64 * 64)

/* Row stride of a layer's quantised input: a multiple of 64 bytes. */
static ptrdiff_t fm_q_ldq(ptrdiff_t n_in) { return FM_Q_ALIGN(n_in); }

/* Scratch offsets: q (batch x ldq), scale, zp, two hidden buffers. */
typedef struct {
    ptrdiff_t q, scale, zp, h0, h1, total;
} fm_q_ws;

static fm_q_ws fm_q_carve(const fm_qlayer *layers, int n_layers, ptrdiff_t batch)
{
    ptrdiff_t ldq = 0, wmax = 1;
    fm_q_ws w;
    int l;
    for (l = 0; l < n_layers; l++) {
        ldq = FM_MAX(ldq, fm_q_ldq(layers[l].n_in));
        if (l + 1 < n_layers) wmax = FM_MAX(wmax, layers[l].n_out);
    }
    w.q = 0;
    w.scale = FM_Q_ALIGN(w.q + batch * ldq);
    w.zp = FM_Q_ALIGN(w.scale + batch * (ptrdiff_t)sizeof(float));
    w.h0 = FM_Q_ALIGN(w.zp + batch * (ptrdiff_t)sizeof(int32_t));
    w.h1 = FM_Q_ALIGN(w.h0 + batch * wmax * (ptrdiff_t)sizeof(float));
    w.total = FM_Q_ALIGN(w.h1 + batch * wmax * (ptrdiff_t)sizeof(float)) + 64;
    return w;
}

ptrdiff_t fm_qnet_workspace_size(const fm_qlayer *layers, int n_layers, ptrdiff_t batch)
{
    return fm_q_carve(layers, n_layers, FM_MIN(batch, FM_Q_NET_ROWS)).total;
}

typedef struct {
    float *out;
    unsigned char *work;
    const fm_qlayer *layers;
    const float *x;
    ptrdiff_t n, batch;
    int n_layers, n_threads;
} fm_qnet_args;

static void fm_qnet_loop(void *arg)
{
    const fm_qnet_args *t = (const fm_qnet_args *)arg;
    const fm_kernels *kt = fm_kernels_active();
    const fm_qgemm_fn_t qgemm = fm_kernels_qgemm();
    const fm_q_ws w = fm_q_carve(t->layers, t->n_layers, t->batch);
    /* 64-byte aligned base (the caller's buffer has 64 bytes of slack) */
    unsigned char *base = t->work + (64 - (uintptr_t)t->work % 64) % 64;
    uint8_t *q = base + w.q;
    float *scale = (float *)(base + w.scale), *h[2];
    int32_t *zp = (int32_t *)(base + w.zp);
    const ptrdiff_t K = t->layers[t->n_layers - 1].n_out;
    ptrdiff_t lo;
    int l;
    h[0] = (float *)(base + w.h0);
    h[1] = (float *)(base + w.h1);
    for (lo = 0; lo < t->n; lo += t->batch) {
        const ptrdiff_t rows = FM_MIN(t->batch, t->n - lo);
        const float *in = t->x + lo * t->layers[0].n_in;
        for (l = 0; l < t->n_layers; l++) {
            const fm_qlayer *L = &t->layers[l];
            const ptrdiff_t ldq = fm_q_ldq(L->n_in);
            float *o = l + 1 == t->n_layers ? t->out + lo * K : h[l % 2];
            fm_qepilogue e;
            kt->qrows(q, ldq, scale, zp, in, L->n_in, rows, L->n_in, L->xscale, L->xzp,
                      t->n_threads);
            e.zp = zp; e.xscale = scale; e.colsum = L->colsum; e.wscale = L->wscale;
            e.bias = L->bias; e.act = L->act; e.slope = L->slope; e.out_i32 = NULL;
            qgemm(o, L->n_out, q, ldq, L->wp, rows, L->n_out, L->n_in, &e, t->n_threads);
            in = o;
        }
    }
}

void fm_qnet_forward(float *out, void *work, const fm_qlayer *layers, int n_layers,
                     const float *x, ptrdiff_t n, ptrdiff_t batch, int n_threads)
{
    fm_qnet_args t;
    ptrdiff_t big = 0, rows;
    batch = FM_MIN(batch, FM_Q_NET_ROWS);
    rows = FM_MIN(n, batch);
    int l;
    for (l = 0; l < n_layers; l++)
        big = FM_MAX(big, rows * layers[l].n_in * layers[l].n_out / 4);
    t.out = out; t.work = (unsigned char *)work; t.layers = layers; t.x = x; t.n = n;
    t.batch = batch; t.n_layers = n_layers; t.n_threads = n_threads;
    fm_team_run(big >= FM_TEAM_MIN_WORK ? n_threads : 1, fm_qnet_loop, &t);
}
