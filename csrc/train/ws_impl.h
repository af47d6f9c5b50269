/*
 * ws_impl.h -- a training call's scratch, carved from the caller's `work`
 * (included per dtype; sizes in fm_workspace_size, train/net.c).
 *
 * For batches of up to B rows:
 *   a[0] (B, s0) gathered inputs | a[1..L] (B, s_l) dense outputs
 *   yb (B, K) gathered targets   | swb (B) gathered sample weights
 *   d, dn (B, maxw) ping-pong deltas of the backward pass
 *   hd[1..L-1] (B, s_l) dropped-out copies of the hidden outputs (a[l] keeps
 *   the undropped a_l, which act' reads)
 *   z[0..L-2] (B, s_{l+1}) the z = x.W_l + b_l of hidden layer l (buffer 2L+l)
 *   when its activation is not fused into its DENSE layer (train/net.h)
 *   lu[l] (FM_LOWRANK_MAX, s_l), lg[l] (FM_LOWRANK_MAX, s_{l+1}) for each
 *   layer with fm_lowrank_room: its deferred terms (fast/lowrank_impl.h)
 *   pz, pxb: layer 0's products made ahead and their rows (fast/ahead0_impl.h)
 *   nz[l] (B, s_{l+1}), ns[l] (2 max(B, s_{l+1})) for each normalised hidden
 *   layer l: its normalised z (buffer 3L-1+l, when an ACT layer follows the
 *   NORM layer) and the mean and rstd its NORM layer saves for the backward
 *   (after everything above)
 */

typedef struct {
    const FM_T *x0;        /* buffer 0: the step's input rows (a[0] or the data in place) */
    FM_T *a[FM_MAX_LAYERS + 1];
    FM_T *hd[FM_MAX_LAYERS + 1];
    FM_T *z[FM_MAX_LAYERS];
    FM_T *yb, *swb, *d, *dn;
    int L;
    FM_T *lu[FM_MAX_LAYERS], *lg[FM_MAX_LAYERS]; /* deferred terms U_l, G_l (NULL: no room) */
    int lk[FM_MAX_LAYERS];                       /* how many are pending */
    /* layer 0's x.W_0 for the rows [pz_lo, pz_hi) (pz_hi = 0: none held);
     * pz_next: the first row new ones may be made for; cur_lo: this step's
     * first row */
    FM_T *pz, *pxb;
    ptrdiff_t pz_lo, pz_hi, pz_next, cur_lo;
    FM_T *nz[FM_MAX_LAYERS], *ns[FM_MAX_LAYERS]; /* normalised layers (NULL: none) */
    /* CSR input (xs != NULL): buffer 0 is the CSR rows xs_sel[xs_lo + i] (or
     * xs_lo + i when xs_sel is NULL), read in place by layer 0's CSR kernels;
     * x0 is then unused */
    const fm_csr *xs;
    const int64_t *xs_sel;
    ptrdiff_t xs_lo;
} FM_FN(fm_ws);

static void FM_FN(fm_ws_carve)(FM_FN(fm_ws) *ws, FM_T *work, const fm_net *net, ptrdiff_t B)
{
    int l, L = net->n_layers;
    ptrdiff_t maxw = 1;
    ws->L = L;
    ws->x0 = NULL;
    ws->xs = NULL;
    ws->xs_sel = NULL;
    ws->xs_lo = 0;
    for (l = 0; l <= L; l++) {
        ws->a[l] = work;
        work += B * net->sizes[l];
        if (l > 0) maxw = FM_MAX(maxw, (ptrdiff_t)net->sizes[l]);
    }
    ws->yb = work; work += B * net->sizes[L];
    ws->swb = work; work += B;
    ws->d = work; work += B * maxw;
    ws->dn = work; work += B * maxw;
    ws->hd[0] = ws->hd[L] = NULL;
    for (l = 1; l < L; l++) {
        ws->hd[l] = work;
        work += B * net->sizes[l];
    }
    for (l = 0; l < L; l++) {
        ws->z[l] = l < L - 1 ? work : NULL;
        if (l < L - 1) work += B * net->sizes[l + 1];
    }
    for (l = 0; l < L; l++) {
        ws->lk[l] = 0;
        ws->lu[l] = ws->lg[l] = NULL;
        if (fm_lowrank_room(B, net->sizes[l], net->sizes[l + 1])) {
            ws->lu[l] = work;
            work += FM_LOWRANK_MAX * net->sizes[l];
            ws->lg[l] = work;
            work += FM_LOWRANK_MAX * net->sizes[l + 1];
        }
    }
    ws->pz = ws->pxb = NULL;
    ws->pz_lo = ws->pz_hi = ws->pz_next = ws->cur_lo = 0;
    if (ws->lu[0]) { /* fm_workspace_size counts this room once more */
        ws->pz = work;
        work += FM_LOWRANK_MAX * net->sizes[1];
        ws->pxb = work;
        work += FM_LOWRANK_MAX * net->sizes[0];
    }
    for (l = 0; l < L; l++) {
        ws->nz[l] = ws->ns[l] = NULL;
        if (net->norms && l < L - 1 && net->norms[l] != FM_NORM_NONE) {
            ws->nz[l] = work;
            work += B * net->sizes[l + 1];
            ws->ns[l] = work;
            work += 2 * FM_MAX(B, (ptrdiff_t)net->sizes[l + 1]);
        }
    }
}

/* Buffer `id` of the step (train/net.h's numbering), to read / to write. */
static FM_T *FM_FN(fm_buf_out)(FM_FN(fm_ws) *ws, int id)
{
    const int L = ws->L;
    return id <= L ? ws->a[id] : id < 2 * L ? ws->hd[id - L]
         : id < FM_BUF_N(L, 0) ? ws->z[id - FM_BUF_Z(L, 0)] : ws->nz[id - FM_BUF_N(L, 0)];
}

static const FM_T *FM_FN(fm_buf_in)(const FM_FN(fm_ws) *ws, int id)
{
    return id == 0 ? ws->x0 : FM_FN(fm_buf_out)((FM_FN(fm_ws) *)ws, id);
}

/* The deltas after a layer wrote its dL/dx into dn: dn becomes d. */
static void FM_FN(fm_ws_swap)(FM_FN(fm_ws) *ws)
{
    FM_T *t = ws->d;
    ws->d = ws->dn;
    ws->dn = t;
}
