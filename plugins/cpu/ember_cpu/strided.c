/* Strided loops for the cpu backend's compiled graphs (ember_cpu.native builds this file with the
 * system's C compiler on first use and loads it with ctypes).
 *
 * Every kernel takes an n-d iteration over `shape` (nd >= 1 dimensions, the last one innermost),
 * one pointer per operand (`ptr`, the operand's element [0, ..., 0]) and the operands' strides in
 * bytes, laid out dimension by dimension: st[k * NOPS + j] is operand j's stride along dimension k.
 * Operand 0 is the destination. Strides may be negative or zero (a broadcast operand); they are
 * multiples of the element size. The destination never overlaps a source (checked by the caller).
 *
 * The kernels move bits (copy, select) or add with one IEEE operation per element in the same
 * order as numpy's `dst += src`, so their results equal numpy's bit for bit. Compile without
 * floating-point contraction or fast-math (see ember_cpu.native).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

typedef int64_t i64;

#define MAXD 32

typedef struct {
    uint64_t lo, hi;
} u128;

/* The walk over all dimensions but the last: INNER runs one row (n elements, inner strides
 * is[j]) at the pointers p[j], then the pointers move to the next row. The second-last dimension
 * is a plain loop around INNER (rows of a plane, n1 of them, strides s1[j]); the walk over the
 * others runs once a plane: rows are often short (8 floats, an 8 x 8 image's), and the general
 * walk costs more than such a row. */
#define DEFINE_KERNEL(NAME, NOPS, INNER)                                                         \
    void NAME(int nd, const i64 *shape, char *const *ptr, const i64 *st) {                       \
        static const i64 zero[NOPS];                                                              \
        char *p[NOPS], *base[NOPS];                                                               \
        i64 idx[MAXD];                                                                            \
        for (int j = 0; j < NOPS; j++) base[j] = ptr[j];                                          \
        for (int k = 0; k < nd; k++) idx[k] = 0;                                                  \
        const i64 n = shape[nd - 1];                                                              \
        const i64 *is = st + (i64)(nd - 1) * NOPS;                                                \
        const i64 n1 = nd >= 2 ? shape[nd - 2] : 1;                                               \
        const i64 *s1 = nd >= 2 ? st + (i64)(nd - 2) * NOPS : zero;                               \
        i64 planes = 1;                                                                           \
        for (int k = 0; k < nd - 2; k++) planes *= shape[k];                                      \
        for (i64 r = 0; r < planes; r++) {                                                        \
            for (int j = 0; j < NOPS; j++) p[j] = base[j];                                        \
            for (i64 i1 = 0; i1 < n1; i1++) {                                                     \
                INNER                                                                             \
                for (int j = 0; j < NOPS; j++) p[j] += s1[j];                                     \
            }                                                                                     \
            for (int k = nd - 3; k >= 0; k--) {                                                   \
                const i64 *s = st + (i64)k * NOPS;                                                \
                if (++idx[k] < shape[k]) {                                                        \
                    for (int j = 0; j < NOPS; j++) base[j] += s[j];                               \
                    break;                                                                        \
                }                                                                                 \
                idx[k] = 0;                                                                       \
                for (int j = 0; j < NOPS; j++) base[j] -= s[j] * (shape[k] - 1);                  \
            }                                                                                     \
        }                                                                                         \
    }

/* dst ASSIGN src: ASSIGN is = (a copy: the element's bits) or += (an add) */
#define UPDATE_ROW(T, ASSIGN)                                                                     \
    {                                                                                             \
        T *restrict d = (T *)p[0];                                                                \
        const T *restrict s = (const T *)p[1];                                                    \
        const i64 ds = is[0] / (i64)sizeof(T), ss = is[1] / (i64)sizeof(T);                       \
        if (ds == 1 && ss == 1) {                                                                 \
            for (i64 i = 0; i < n; i++) d[i] ASSIGN s[i];                                         \
        } else if (ds == 1 && ss == 0) {                                                          \
            const T v = s[0];                                                                     \
            for (i64 i = 0; i < n; i++) d[i] ASSIGN v;                                            \
        } else {                                                                                  \
            for (i64 i = 0; i < n; i++) d[i * ds] ASSIGN s[i * ss];                               \
        }                                                                                         \
    }
#define COPY_ROW(T) UPDATE_ROW(T, =)
#define ADD_ROW(T) UPDATE_ROW(T, +=)

/* dst = cond ? a : b (cond: one byte per element, numpy's bool, 0 or 1), without branches: a
 * random mask (relu's backward) would mispredict half of them */
#define SELECT(T, c, x, y) ((T)(((x) & (T)(-(T)((c) != 0))) | ((y) & (T)((T)((c) != 0) - 1))))
#define WHERE_ROW(T)                                                                              \
    {                                                                                             \
        T *restrict d = (T *)p[0];                                                                \
        const uint8_t *restrict c = (const uint8_t *)p[1];                                        \
        const T *restrict a = (const T *)p[2];                                                    \
        const T *restrict b = (const T *)p[3];                                                    \
        const i64 ds = is[0] / (i64)sizeof(T), cs = is[1];                                        \
        const i64 as = is[2] / (i64)sizeof(T), bs = is[3] / (i64)sizeof(T);                       \
        if (ds == 1 && cs == 1 && as == 0) {                                                      \
            const T av = a[0];                                                                    \
            for (i64 i = 0; i < n; i++) d[i] = SELECT(T, c[i], av, b[i * bs]);                    \
        } else if (ds == 1 && cs == 1 && bs == 0) {                                               \
            const T bv = b[0];                                                                    \
            for (i64 i = 0; i < n; i++) d[i] = SELECT(T, c[i], a[i * as], bv);                    \
        } else {                                                                                  \
            for (i64 i = 0; i < n; i++) d[i * ds] = SELECT(T, c[i * cs], a[i * as], b[i * bs]);   \
        }                                                                                         \
    }
#define WHERE_ROW_16                                                                              \
    {                                                                                             \
        u128 *restrict d = (u128 *)p[0];                                                          \
        const uint8_t *restrict c = (const uint8_t *)p[1];                                        \
        const u128 *restrict a = (const u128 *)p[2];                                              \
        const u128 *restrict b = (const u128 *)p[3];                                              \
        const i64 ds = is[0] / 16, cs = is[1], as = is[2] / 16, bs = is[3] / 16;                  \
        for (i64 i = 0; i < n; i++) {                                                             \
            const uint8_t ci = c[i * cs];                                                         \
            d[i * ds].lo = SELECT(uint64_t, ci, a[i * as].lo, b[i * bs].lo);                      \
            d[i * ds].hi = SELECT(uint64_t, ci, a[i * as].hi, b[i * bs].hi);                      \
        }                                                                                         \
    }

DEFINE_KERNEL(ember_copy_1, 2, COPY_ROW(uint8_t))
DEFINE_KERNEL(ember_copy_2, 2, COPY_ROW(uint16_t))
DEFINE_KERNEL(ember_copy_4, 2, COPY_ROW(uint32_t))
DEFINE_KERNEL(ember_copy_8, 2, COPY_ROW(uint64_t))
DEFINE_KERNEL(ember_copy_16, 2, COPY_ROW(u128))

DEFINE_KERNEL(ember_add_float32, 2, ADD_ROW(float))
DEFINE_KERNEL(ember_add_float64, 2, ADD_ROW(double))
DEFINE_KERNEL(ember_add_int32, 2, ADD_ROW(int32_t))
DEFINE_KERNEL(ember_add_int64, 2, ADD_ROW(int64_t))

DEFINE_KERNEL(ember_where_1, 4, WHERE_ROW(uint8_t))
DEFINE_KERNEL(ember_where_2, 4, WHERE_ROW(uint16_t))
DEFINE_KERNEL(ember_where_4, 4, WHERE_ROW(uint32_t))
DEFINE_KERNEL(ember_where_8, 4, WHERE_ROW(uint64_t))
DEFINE_KERNEL(ember_where_16, 4, WHERE_ROW_16)

/* out = max of x over the reduced dimensions (rd of them: rshape, x's strides rst in bytes), for
 * each element of the n-d iteration (operands: out, x at its reduced coordinates 0). The running
 * maximum takes each element as numpy's `maximum(r, v)` does: v unless r > v or r is NaN (so a NaN
 * propagates and, of equal values, the later one is kept: numpy's order over a reduced axis). */
#define BETTER_FLOAT(r, v) ((r) > (v) || (r) != (r))
#define BETTER_INT(r, v) ((r) > (v))
#define MAX_CHUNK 256
#define DEFINE_MAX(NAME, T, BETTER)                                                               \
    static inline T NAME##_one(const char *x, int rd, const i64 *rshape, const i64 *rst) {        \
        i64 idx[MAXD], total = 1;                                                                 \
        for (int k = 0; k < rd; k++) {                                                            \
            idx[k] = 0;                                                                           \
            total *= rshape[k];                                                                   \
        }                                                                                         \
        T r = *(const T *)x;                                                                      \
        const char *q = x;                                                                        \
        for (i64 t = 1; t < total; t++) {                                                         \
            for (int k = rd - 1; k >= 0; k--) {                                                   \
                if (++idx[k] < rshape[k]) {                                                       \
                    q += rst[k];                                                                  \
                    break;                                                                        \
                }                                                                                 \
                idx[k] = 0;                                                                       \
                q -= rst[k] * (rshape[k] - 1);                                                    \
            }                                                                                     \
            const T v = *(const T *)q;                                                            \
            r = BETTER(r, v) ? r : v;                                                             \
        }                                                                                         \
        return r;                                                                                 \
    }                                                                                             \
    /* one reduced dimension: a chunk of outputs at a time, the reduced index outermost, so the \
     * selects run across outputs without branches (and vectorise where x's row is contiguous) */ \
    static inline void NAME##_row1(char *o, i64 os, const char *x, i64 xs, i64 n, i64 len,       \
                                   i64 step) {                                                    \
        T acc[MAX_CHUNK];                                                                         \
        for (i64 c0 = 0; c0 < n; c0 += MAX_CHUNK) {                                               \
            const i64 m = n - c0 < MAX_CHUNK ? n - c0 : MAX_CHUNK;                                \
            const char *xc = x + c0 * xs;                                                         \
            if (xs == (i64)sizeof(T)) {                                                           \
                const T *restrict x0 = (const T *)xc;                                             \
                for (i64 i = 0; i < m; i++) acc[i] = x0[i];                                       \
                for (i64 k = 1; k < len; k++) {                                                   \
                    const T *restrict xk = (const T *)(xc + k * step);                            \
                    for (i64 i = 0; i < m; i++) acc[i] = BETTER(acc[i], xk[i]) ? acc[i] : xk[i];  \
                }                                                                                 \
            } else {                                                                              \
                for (i64 i = 0; i < m; i++) acc[i] = *(const T *)(xc + i * xs);                   \
                for (i64 k = 1; k < len; k++) {                                                   \
                    const char *xk = xc + k * step;                                               \
                    for (i64 i = 0; i < m; i++) {                                                 \
                        const T v = *(const T *)(xk + i * xs);                                    \
                        acc[i] = BETTER(acc[i], v) ? acc[i] : v;                                  \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
            char *oc = o + c0 * os;                                                               \
            for (i64 i = 0; i < m; i++) *(T *)(oc + i * os) = acc[i];                             \
        }                                                                                         \
    }                                                                                             \
    void NAME(int nd, const i64 *shape, char *const *ptr, const i64 *st, int rd,                 \
              const i64 *rshape, const i64 *rst) {                                                \
        char *p[2] = {ptr[0], ptr[1]};                                                            \
        i64 idx[MAXD];                                                                            \
        for (int k = 0; k < nd; k++) idx[k] = 0;                                                  \
        const i64 n = shape[nd - 1];                                                              \
        const i64 *is = st + (i64)(nd - 1) * 2;                                                   \
        i64 rows = 1;                                                                             \
        for (int k = 0; k < nd - 1; k++) rows *= shape[k];                                        \
        for (i64 r = 0; r < rows; r++) {                                                          \
            if (rd == 1) {                                                                        \
                NAME##_row1(p[0], is[0], p[1], is[1], n, rshape[0], rst[0]);                      \
            } else {                                                                              \
                for (i64 i = 0; i < n; i++)                                                       \
                    *(T *)(p[0] + i * is[0]) = NAME##_one(p[1] + i * is[1], rd, rshape, rst);     \
            }                                                                                     \
            for (int k = nd - 2; k >= 0; k--) {                                                   \
                const i64 *s = st + (i64)k * 2;                                                   \
                if (++idx[k] < shape[k]) {                                                        \
                    p[0] += s[0];                                                                 \
                    p[1] += s[1];                                                                 \
                    break;                                                                        \
                }                                                                                 \
                idx[k] = 0;                                                                       \
                p[0] -= s[0] * (shape[k] - 1);                                                    \
                p[1] -= s[1] * (shape[k] - 1);                                                    \
            }                                                                                     \
        }                                                                                         \
    }

DEFINE_MAX(ember_max_float32, float, BETTER_FLOAT)
DEFINE_MAX(ember_max_float64, double, BETTER_FLOAT)
DEFINE_MAX(ember_max_int32, int32_t, BETTER_INT)
DEFINE_MAX(ember_max_int64, int64_t, BETTER_INT)

/* Max pooling, PyTorch's max_pool2d: for each window of each (n, c) plane of x (shape n, c, h, w,
 * strides xs in bytes), the maximum of its in-bounds elements (the padding never wins) and its
 * position r * w + q in the plane. Positions run in the window's row-major order; an element
 * replaces the running maximum when it is greater or NaN (so a NaN wins, the last one if several)
 * and the index starts at the first in-bounds element (an all -inf window points there).
 * p = (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow); out and ind are contiguous (n, c, oh, ow). */

/* The 2 x 2, stride 2 pooling without padding (a CNN's usual one): each output on its own, its
 * four elements combined as a tree, (a, b) and (c, d) then the two, where the later of two
 * replaces the earlier when greater or NaN: that rule is associative, so the tree gives the
 * running maximum's value and position (ties: the first; NaN: the last). Outputs do not depend
 * on each other (no chain through a running maximum), and the selects are arithmetic on the
 * values' bits and the positions (no branches). */
#define POOL_TAKE(T, U, take, va, ia, vb, ib)                                                     \
    do {                                                                                          \
        const int t_ = (take); /* once: va changes below */                                      \
        const i64 ib_ = (ib);                                                                     \
        U ua_, ub_;                                                                               \
        memcpy(&ua_, &(va), sizeof(T));                                                           \
        memcpy(&ub_, &(vb), sizeof(T));                                                           \
        /* arithmetic, not a select: compilers turn a select back into a branch */               \
        const U ur_ = ua_ ^ ((ua_ ^ ub_) & (U)(0 - (U)t_));                                       \
        memcpy(&(va), &ur_, sizeof(T));                                                           \
        (ia) += (i64)t_ * (ib_ - (ia));                                                           \
    } while (0)
#define DEFINE_MAX_POOL_2X2(NAME, T, U)                                                           \
    static void NAME##_2x2(const char *x, const i64 *xs, i64 n, i64 c, i64 w, i64 oh, i64 ow,     \
                           T *restrict out, i64 *restrict ind) {                                  \
        const i64 s2 = xs[2], s3 = xs[3];                                                         \
        for (i64 b = 0; b < n; b++)                                                               \
            for (i64 ch = 0; ch < c; ch++) {                                                      \
                const char *plane = x + b * xs[0] + ch * xs[1];                                   \
                for (i64 oi = 0; oi < oh; oi++) {                                                 \
                    const char *r0 = plane + 2 * oi * s2, *r1 = r0 + s2;                          \
                    const i64 p0 = 2 * oi * w;                                                    \
                    for (i64 oj = 0; oj < ow; oj++) {                                             \
                        const i64 q = 2 * oj;                                                     \
                        T va = *(const T *)(r0 + q * s3), vb = *(const T *)(r0 + (q + 1) * s3);   \
                        T vc = *(const T *)(r1 + q * s3), vd = *(const T *)(r1 + (q + 1) * s3);   \
                        i64 ia = p0 + q, ic = p0 + w + q;                                         \
                        POOL_TAKE(T, U, (vb > va) | (vb != vb), va, ia, vb, ia + 1);              \
                        POOL_TAKE(T, U, (vd > vc) | (vd != vd), vc, ic, vd, ic + 1);              \
                        POOL_TAKE(T, U, (vc > va) | (vc != vc), va, ia, vc, ic);                  \
                        *out++ = va;                                                              \
                        *ind++ = ia;                                                              \
                    }                                                                             \
                }                                                                                 \
            }                                                                                     \
    }

/* The general case, per plane: one window position at a time: its elements across the plane's outputs gathered into
 * a contiguous row v (padding as -inf at position -1, which never replaces a maximum nor starts a
 * window), then one contiguous compare-and-select over the row, which compilers vectorise (a
 * select per window in registers chains each compare on the previous one: 3-4x slower). The
 * caller's scratch holds 2 * oh * ow T (v, then the running maxima) and 2 * oh * ow int32 (the
 * positions, then the running ones): positions are int32, the caller checks h * w < 2**31. */
#define DEFINE_MAX_POOL(NAME, T)                                                                  \
    void NAME(const char *x, const i64 *xs, i64 n, i64 c, i64 h, i64 w, const i64 *p, T *out,    \
              i64 *ind, T *scratch, int32_t *iscratch) {                                          \
        const i64 kh = p[0], kw = p[1], sh = p[2], sw = p[3], ph = p[4], pw = p[5];               \
        const i64 dh = p[6], dw = p[7], oh = p[8], ow = p[9], s2 = xs[2], s3 = xs[3];             \
        const i64 m = oh * ow;                                                                    \
        T *restrict v = scratch, *restrict best = scratch + m;                                    \
        int32_t *restrict pos = iscratch, *restrict at = iscratch + m;                            \
        if (kh == 2 && kw == 2 && sh == 2 && sw == 2 && dh == 1 && dw == 1 && ph == 0 && pw == 0 &&  \
            2 * oh <= h && 2 * ow <= w) { /* every window inside (not ceil_mode's last ones) */   \
            NAME##_2x2(x, xs, n, c, w, oh, ow, out, ind);                                         \
            return;                                                                               \
        }                                                                                         \
        for (i64 b = 0; b < n; b++)                                                               \
            for (i64 ch = 0; ch < c; ch++) {                                                      \
                const char *plane = x + b * xs[0] + ch * xs[1];                                   \
                for (i64 k = 0; k < m; k++) {                                                     \
                    best[k] = -(T)INFINITY;                                                       \
                    at[k] = -1;                                                                   \
                }                                                                                 \
                for (i64 i = 0; i < kh; i++)                                                      \
                    for (i64 j = 0; j < kw; j++) {                                                \
                        for (i64 oi = 0; oi < oh; oi++) {                                         \
                            const i64 r = oi * sh - ph + i * dh;                                  \
                            const int rin = r >= 0 && r < h;                                      \
                            for (i64 oj = 0; oj < ow; oj++) {                                     \
                                const i64 q = oj * sw - pw + j * dw;                              \
                                const int in = rin && q >= 0 && q < w;                            \
                                v[oi * ow + oj] = in ? *(const T *)(plane + r * s2 + q * s3)      \
                                                     : -(T)INFINITY;                              \
                                pos[oi * ow + oj] = in ? (int32_t)(r * w + q) : -1;               \
                            }                                                                     \
                        }                                                                         \
                        for (i64 k = 0; k < m; k++) {                                             \
                            /* greater, NaN, or the window's first in-bounds element */           \
                            const T vk = v[k], bk = best[k];                                      \
                            const int take = (vk > bk) | (vk != vk) | ((at[k] < 0) & (pos[k] >= 0)); \
                            best[k] = take ? vk : bk;                                             \
                            at[k] = take ? pos[k] : at[k];                                        \
                        }                                                                         \
                    }                                                                             \
                for (i64 k = 0; k < m; k++) {                                                     \
                    *out++ = best[k];                                                             \
                    *ind++ = at[k];                                                               \
                }                                                                                 \
            }                                                                                     \
    }

/* max_pool2d's gradient: gx (contiguous n, c, h, w, zeroed by the caller) gets each output's
 * gradient g (strides gs in bytes) added at its index (strides is in bytes), outputs in row-major
 * order (as PyTorch, where windows overlap and share a maximum); index -1 (a window of padding
 * alone) takes none. Returns -1 if another index is outside the plane (nothing is written past
 * it), else 0. */
#define DEFINE_MAX_POOL_BACKWARD(NAME, T)                                                         \
    int NAME(T *gx, const char *g, const i64 *gs, const char *ind, const i64 *is, i64 n, i64 c,  \
             i64 oh, i64 ow, i64 hw) {                                                            \
        for (i64 b = 0; b < n; b++)                                                               \
            for (i64 ch = 0; ch < c; ch++) {                                                      \
                T *plane = gx + (b * c + ch) * hw;                                                \
                for (i64 oi = 0; oi < oh; oi++)                                                   \
                    for (i64 oj = 0; oj < ow; oj++) {                                             \
                        const i64 off_g = b * gs[0] + ch * gs[1] + oi * gs[2] + oj * gs[3];       \
                        const i64 off_i = b * is[0] + ch * is[1] + oi * is[2] + oj * is[3];       \
                        const i64 at = *(const i64 *)(ind + off_i);                               \
                        if (at == -1) continue; /* a window of padding alone */                   \
                        if (at < 0 || at >= hw) return -1;                                        \
                        plane[at] += *(const T *)(g + off_g);                                     \
                    }                                                                             \
            }                                                                                     \
        return 0;                                                                                 \
    }

DEFINE_MAX_POOL_2X2(ember_max_pool_float32, float, uint32_t)
DEFINE_MAX_POOL_2X2(ember_max_pool_float64, double, uint64_t)
DEFINE_MAX_POOL(ember_max_pool_float32, float)
DEFINE_MAX_POOL(ember_max_pool_float64, double)
DEFINE_MAX_POOL_BACKWARD(ember_max_pool_backward_float32, float)
DEFINE_MAX_POOL_BACKWARD(ember_max_pool_backward_float64, double)

/* unfold2d's adjoint (col2im): out (contiguous n, c, h, w, zeroed here) gets each element of the
 * contiguous window gradient g (n, c, kh, kw, oh, ow) added at its window position (oi * sh + i *
 * dh, oj * sw + j * dw), kernel positions in row-major order: per element the order of core's
 * composite (one add per kernel position), so the same bits. One plane at a time, which stays in
 * cache across the kernel positions. p = (kh, kw, oh, ow, sh, sw, dh, dw). */
#define DEFINE_FOLD(NAME, T)                                                                      \
    void NAME(const T *g, T *out, i64 n, i64 c, i64 h, i64 w, const i64 *p) {                      \
        const i64 kh = p[0], kw = p[1], oh = p[2], ow = p[3], sh = p[4], sw = p[5];               \
        const i64 dh = p[6], dw = p[7];                                                           \
        for (i64 pl = 0; pl < n * c; pl++) {                                                      \
            T *restrict o = out + pl * h * w;                                                     \
            for (i64 k = 0; k < h * w; k++) o[k] = 0;                                             \
            for (i64 i = 0; i < kh; i++)                                                          \
                for (i64 j = 0; j < kw; j++) {                                                    \
                    const T *restrict src = g + ((pl * kh + i) * kw + j) * oh * ow;               \
                    for (i64 oi = 0; oi < oh; oi++) {                                             \
                        T *restrict row = o + (oi * sh + i * dh) * w + j * dw;                    \
                        const T *restrict s = src + oi * ow;                                      \
                        if (sw == 1) {                                                            \
                            for (i64 oj = 0; oj < ow; oj++) row[oj] += s[oj];                     \
                        } else {                                                                  \
                            for (i64 oj = 0; oj < ow; oj++) row[oj * sw] += s[oj];                \
                        }                                                                         \
                    }                                                                             \
                }                                                                                 \
        }                                                                                         \
    }

DEFINE_FOLD(ember_fold_float32, float)
DEFINE_FOLD(ember_fold_float64, double)

/* Uniform float32 numbers, numpy's exactly: Generator(Philox(key=key, counter=ctr)).random(n,
 * dtype=float32). numpy's Philox is Random123's philox4x64_10 (4 x 64-bit counter, 2 x 64-bit
 * key, 10 rounds); the counter steps (with carry) before each block of four 64-bit words, each
 * word gives two 32-bit draws, low half first, and a float32 is the draw's top 24 bits times
 * 2**-24. Here one tight loop, where numpy calls through its bit generator once a number. */
static inline uint64_t mulhilo64(uint64_t a, uint64_t b, uint64_t *hi) {
#if defined(__SIZEOF_INT128__)
    const __uint128_t p = (__uint128_t)a * b;
    *hi = (uint64_t)(p >> 64);
    return (uint64_t)p;
#else /* four 32 x 32-bit products */
    const uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    const uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    const uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return (mid << 32) | (uint32_t)p00;
#endif
}

static void philox4x64_10(uint64_t c[4], uint64_t k0, uint64_t k1) {
    for (int r = 0; r < 10; r++) {
        if (r) {
            k0 += 0x9E3779B97F4A7C15ULL;
            k1 += 0xBB67AE8584CAA73BULL;
        }
        uint64_t hi0, hi1;
        const uint64_t lo0 = mulhilo64(0xD2E7470EE14C6C93ULL, c[0], &hi0);
        const uint64_t lo1 = mulhilo64(0xCA5A826395121157ULL, c[2], &hi1);
        const uint64_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
    }
}

void ember_philox_uniform_float32(uint64_t k0, uint64_t k1, const uint64_t *counter, i64 n, float *out) {
    uint64_t ctr[4] = {counter[0], counter[1], counter[2], counter[3]};
    const float scale = 1.0f / 16777216.0f;
    i64 i = 0;
    while (i < n) {
        if (++ctr[0] == 0 && ++ctr[1] == 0 && ++ctr[2] == 0) ++ctr[3];
        uint64_t b[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
        philox4x64_10(b, k0, k1);
        for (int j = 0; j < 4 && i < n; j++) {
            out[i++] = (float)((uint32_t)b[j] >> 8) * scale;
            if (i < n) out[i++] = (float)((uint32_t)(b[j] >> 32) >> 8) * scale;
        }
    }
}

/* The kernels' interface version: ember_cpu.native refuses a library that answers another. */
int ember_strided_version(void) { return 10; }
