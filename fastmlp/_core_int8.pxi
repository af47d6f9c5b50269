# Included by _core.pyx: the int8 inference kernels (csrc/qgemm/, fastmlp.h's
# "int8 inference" section).  Shapes are checked here; nothing else.
from libc.stdint cimport int8_t

cdef extern from "fastmlp.h" nogil:
    ctypedef struct fm_qepilogue:
        const int32_t *zp
        const float *xscale
        const int32_t *colsum
        const float *wscale
        const float *bias
        int act
        double slope
        int32_t *out_i32
    ctypedef struct fm_qlayer:
        Py_ssize_t n_in
        Py_ssize_t n_out
        const int8_t *wp
        const int32_t *colsum
        const float *wscale
        const float *bias
        int act
        double slope
        float xscale
        int32_t xzp
    int FM_Q_NR
    int FM_Q_MAX_K
    Py_ssize_t fm_qpack_size(Py_ssize_t n_in, Py_ssize_t n_out)
    void fm_qpack_weights(int8_t *wp, int32_t *colsum, const int8_t *w, Py_ssize_t n_in,
                          Py_ssize_t n_out)
    void fm_quantize_rows_u8(uint8_t *q, Py_ssize_t ldq, float *scale, int32_t *zp,
                             const float *x, Py_ssize_t ldx, Py_ssize_t m, Py_ssize_t k,
                             float static_scale, int32_t static_zp, int n_threads)
    void fm_qgemm(float *c, Py_ssize_t rsc, const uint8_t *q, Py_ssize_t lda, const int8_t *wp,
                  Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const fm_qepilogue *e, int n_threads)
    int fm_qgemm_path(const char *path, float *c, Py_ssize_t rsc, const uint8_t *q,
                      Py_ssize_t lda, const int8_t *wp, Py_ssize_t m, Py_ssize_t n,
                      Py_ssize_t k, const fm_qepilogue *e, int n_threads)
    const char *fm_qgemm_paths()
    Py_ssize_t fm_qnet_workspace_size(const fm_qlayer *layers, int n_layers, Py_ssize_t batch)
    void fm_qnet_forward(float *out, void *work, const fm_qlayer *layers, int n_layers,
                         const float *x, Py_ssize_t n, Py_ssize_t batch, int n_threads)
    double fm_peak_i8(double *sums, Py_ssize_t reps, int n_threads)

Q_NR = FM_Q_NR          # columns per packed weight panel
Q_MAX_K = FM_Q_MAX_K    # the widest input an int8 layer takes (exact int32 sums)


def qpack_size(Py_ssize_t n_in, Py_ssize_t n_out):
    """Bytes of the packed form of an (n_in, n_out) int8 weight matrix."""
    return fm_qpack_size(n_in, n_out)


def qpack(int8_t[::1] wp, int32_t[::1] colsum, const int8_t[:, ::1] w):
    """Pack w (n_in, n_out) into wp (qpack_size bytes); colsum[j] = sum of column j."""
    cdef Py_ssize_t n_in = w.shape[0], n_out = w.shape[1]
    _check(n_in > 0 and n_out > 0, "qpack: empty weights")
    _check(n_in <= FM_Q_MAX_K, f"qpack: at most {FM_Q_MAX_K} inputs")
    _check(wp.shape[0] == fm_qpack_size(n_in, n_out) and colsum.shape[0] == n_out,
           "qpack: wp or colsum size")
    with nogil:
        fm_qpack_weights(&wp[0], &colsum[0], &w[0, 0], n_in, n_out)


def quantize_rows(uint8_t[:, ::1] q, float[::1] scale, int32_t[::1] zp, const float[:, ::1] x,
                  float static_scale=0.0, int32_t static_zp=0, int n_threads=1):
    """q, scale, zp = x's rows as uint8 with a zero point (fm_quantize_rows_u8):
    per row, or with the static scale and zero point when static_scale > 0."""
    cdef Py_ssize_t m = x.shape[0], k = x.shape[1]
    _check(m > 0 and k > 0, "quantize_rows: empty x")
    _check(q.shape[0] == m and q.shape[1] >= (k + 3) // 4 * 4 and q.shape[1] % 4 == 0,
           "quantize_rows: q must be (rows, a multiple of 4 >= k)")
    _check(scale.shape[0] == m and zp.shape[0] == m, "quantize_rows: scale/zp length")
    with nogil:
        fm_quantize_rows_u8(&q[0, 0], q.shape[1], &scale[0], &zp[0], &x[0, 0], k, m, k,
                            static_scale, static_zp, n_threads)


def qgemm(float[:, ::1] c, const uint8_t[:, ::1] q, Py_ssize_t k, const int8_t[::1] wp,
          const int32_t[::1] zp, const float[::1] xscale, const int32_t[::1] colsum,
          const float[::1] wscale, const float[::1] bias, int act=FM_ACT_IDENTITY,
          double slope=0.0, int32_t[:, ::1] out_i32=None, int n_threads=1, str path=""):
    """c = the int8 product's epilogue (fm_qgemm); with out_i32, its integer result
    there instead.  ``path`` '' is the active target's; else one of qgemm_paths()."""
    cdef Py_ssize_t m = q.shape[0], n = c.shape[1]
    cdef fm_qepilogue e
    cdef bytes bpath = path.encode()
    cdef const char *ppath = bpath
    cdef bint table = len(path) == 0
    cdef int rc = 0
    _check(m > 0 and n > 0 and 0 < k <= FM_Q_MAX_K, "qgemm: empty operand or k too large")
    _check(c.shape[0] == m and q.shape[1] >= (k + 3) // 4 * 4 and q.shape[1] % 4 == 0,
           "qgemm: c/q shapes")
    _check(wp.shape[0] == fm_qpack_size(k, n), "qgemm: wp size")
    _check(zp.shape[0] == m and xscale.shape[0] == m, "qgemm: zp/xscale length")
    _check(colsum.shape[0] == n and wscale.shape[0] == n and bias.shape[0] == n,
           "qgemm: colsum/wscale/bias length")
    _check(act != FM_ACT_SOFTMAX, "qgemm: softmax is not an elementwise epilogue")
    e.zp = &zp[0]; e.xscale = &xscale[0]; e.colsum = &colsum[0]; e.wscale = &wscale[0]
    e.bias = &bias[0]; e.act = act; e.slope = slope; e.out_i32 = NULL
    if out_i32 is not None:
        _check(out_i32.shape[0] == m and out_i32.shape[1] == n, "qgemm: out_i32 shape")
        e.out_i32 = &out_i32[0, 0]
    with nogil:
        if table:
            fm_qgemm(&c[0, 0], n, &q[0, 0], q.shape[1], &wp[0], m, n, k, &e, n_threads)
        else:
            rc = fm_qgemm_path(ppath, &c[0, 0], n, &q[0, 0], q.shape[1], &wp[0], m, n, k, &e,
                               n_threads)
    if rc != 0:
        raise ValueError(f"qgemm: path {path!r} cannot run here; paths: {qgemm_paths()}")


def qgemm_paths():
    """The int8 product's paths this CPU runs (fm_qgemm_path's names)."""
    return [t for t in fm_qgemm_paths().decode().split(",") if t]


cdef int _qlayers(list layers, fm_qlayer *out) except -1:
    cdef const int8_t[::1] wp
    cdef const int32_t[::1] cs
    cdef const float[::1] ws, b
    cdef int l
    for l in range(len(layers)):
        d = layers[l]
        wp = d["wp"]; cs = d["colsum"]; ws = d["wscale"]; b = d["bias"]
        out[l].n_in = d["n_in"]; out[l].n_out = d["n_out"]
        _check(0 < out[l].n_in <= FM_Q_MAX_K and out[l].n_out > 0, "qnet: layer widths")
        _check(l == 0 or out[l].n_in == out[l - 1].n_out, "qnet: widths do not chain")
        _check(wp.shape[0] == fm_qpack_size(out[l].n_in, out[l].n_out), "qnet: wp size")
        _check(cs.shape[0] == out[l].n_out and ws.shape[0] == out[l].n_out
               and b.shape[0] == out[l].n_out, "qnet: colsum/wscale/bias length")
        out[l].wp = &wp[0]; out[l].colsum = &cs[0]; out[l].wscale = &ws[0]; out[l].bias = &b[0]
        out[l].act = d["act"]; out[l].slope = d["slope"]
        _check(out[l].act != FM_ACT_SOFTMAX, "qnet: softmax is not an elementwise activation")
        out[l].xscale = d["xscale"]; out[l].xzp = d["xzp"]
    return 0


cdef class QNet:
    """An int8 network prepared once for fm_qnet_forward: its layer table (fm_qlayer) over
    the arrays of ``layers`` (dicts: n_in, n_out, wp, colsum, wscale, bias, act, slope,
    xscale, xzp), which it keeps alive.  A call then costs no per-layer conversion."""
    cdef fm_qlayer *ls
    cdef int L
    cdef list keep
    cdef readonly Py_ssize_t n_in, n_out

    def __cinit__(self, list layers):
        self.L = len(layers)
        _check(self.L > 0, "QNet: no layers")
        self.ls = <fm_qlayer *>malloc(self.L * sizeof(fm_qlayer))
        if self.ls == NULL:
            raise MemoryError()
        _qlayers(layers, self.ls)
        self.keep = [dict(d) for d in layers]
        self.n_in = self.ls[0].n_in
        self.n_out = self.ls[self.L - 1].n_out

    def __dealloc__(self):
        free(self.ls)

    def workspace_size(self, Py_ssize_t batch):
        """Bytes of scratch forward needs for chunks of ``batch`` rows."""
        _check(batch > 0, "QNet.workspace_size: batch must be > 0")
        return fm_qnet_workspace_size(self.ls, self.L, batch)

    def forward(self, float[:, ::1] out, uint8_t[::1] work, const float[:, ::1] x,
                Py_ssize_t batch, int n_threads=1):
        """out = the network on x, ``batch`` rows at a time (fm_qnet_forward)."""
        cdef Py_ssize_t n = x.shape[0]
        cdef Py_ssize_t bs = batch if batch < n else n
        _check(batch > 0 and n > 0, "QNet.forward: no rows or batch")
        _check(x.shape[1] == self.n_in, "QNet.forward: x width")
        _check(out.shape[0] == n and out.shape[1] == self.n_out, "QNet.forward: out shape")
        _check(work.shape[0] >= fm_qnet_workspace_size(self.ls, self.L, bs),
               "QNet.forward: work too small")
        with nogil:
            fm_qnet_forward(&out[0, 0], &work[0], self.ls, self.L, &x[0, 0], n, bs, n_threads)


def peak_i8_run(double[::1] sums, Py_ssize_t reps=1000, int n_threads=1):
    """Run the vpdpbusd-throughput probe once (fm_peak_i8); return the integer
    operations done (2 per product), or -1 without AVX512_VNNI."""
    _check(n_threads >= 1 and sums.shape[0] >= n_threads, "peak_i8_run: sums too short")
    _check(reps >= 1, "peak_i8_run: reps must be >= 1")
    cdef double ops
    with nogil:
        ops = fm_peak_i8(&sums[0], reps, n_threads)
    return ops
