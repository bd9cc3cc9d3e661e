"""Differential tests against PyTorch of packed sequences (``ember.nn.utils.rnn`` and the recurrent
layers over a PackedSequence), bicubic interpolation, RReLU and alpha dropout.

The pattern of ``test_nn_more_torch_parity.py``: float64 inputs, the same weights copied into both
modules, forward values and the gradients of the inputs, initial states and parameters compared
(rtol 1e-10); errors where PyTorch raises. For the random ops the draws differ between the two
libraries, so what is compared is what does not depend on the draw: eval values, the affine
constants (Ember's formula applied with PyTorch's own mask gives PyTorch's output), and the
statistics. The helpers count the comparisons they make, and the module's last test checks that a
whole run made at least MIN_COMPARISONS of them. Without PyTorch the module fails to collect,
unless EMBER_ALLOW_NO_TORCH=1 turns that into a skip."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import ember
import ember.nn as nn
import ember.nn.functional as F
import numpy as np
import pytest
from ember.nn.utils import rnn as R
from torch_required import require_torch

torch = require_torch()
TF = torch.nn.functional
TR = torch.nn.utils.rnn

RTOL, ATOL = 1e-10, 1e-12

# The fewest comparisons with torch a whole run of this module makes (see the last test): a full run
# with torch 2.13.0 counted 923 (237 values, 540 gradients, 114 indices, 14 statistics, 13 errors, 5
# reprs), the same on every run. Raise it when adding comparisons; lower it
# only when removing some on purpose.
MIN_COMPARISONS = 923
COMPARED: Counter[str] = Counter()


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy() if isinstance(t, ember.Tensor | torch.Tensor) else np.asarray(t)


def close(e: Any, t: Any, what: str, rtol: float = RTOL, atol: float = ATOL, kind: str = "values") -> None:
    """Ember's ``e`` equals torch's ``t`` within rtol / atol: one comparison of ``kind``."""
    np.testing.assert_allclose(_np(e), _np(t), rtol=rtol, atol=atol, err_msg=what)
    COMPARED[kind] += 1


def same_list(e: Any, t: Any, what: str) -> None:
    """Equal integer tensors (or None on both sides): one comparison."""
    assert (e is None) == (t is None), f"{what}: ember {e}, torch {t}"
    if e is not None:
        assert e.tolist() == t.tolist(), f"{what}: ember {e.tolist()}, torch {t.tolist()}"
    COMPARED["indices"] += 1


def raises_like(fe: Any, ft: Any, match: str, error: type[BaseException] | None = None) -> None:
    """Both raise: Ember ``error`` (default: PyTorch's exception type) with a message matching
    ``match``. Ember raises ValueError for a bad argument where PyTorch has RuntimeError or
    NotImplementedError; those calls name the type."""
    with pytest.raises(Exception) as te:
        ft()
    with pytest.raises(error or te.type, match=match):
        fe()
    COMPARED["errors"] += 1


def _pair(x: np.ndarray, grad: bool = True) -> tuple[Any, Any]:
    return ember.tensor(x).requires_grad_(grad), torch.tensor(x).requires_grad_(grad)


# -- packing and padding -----------------------------------------------------------------------------
CASES = [
    ((5, 4, 3), [5, 3, 3, 1], True, False),
    ((5, 4, 3), [2, 5, 1, 4], False, False),
    ((6, 4, 2), [1, 4, 4, 2], False, True),
    ((6, 3, 2, 2), [6, 6, 2], True, True),
    ((7, 3, 2), [3, 2, 1], True, False),  # trailing padding beyond the longest sequence
    ((3, 1, 2), [3], True, False),
]


@pytest.mark.parametrize("shape,lengths,enforce_sorted,batch_first", CASES)
def test_pack_and_pad_round_trip(
    shape: tuple, lengths: list[int], enforce_sorted: bool, batch_first: bool
) -> None:
    """pack_padded_sequence's data, batch_sizes and indices, pad_packed_sequence's padded tensor
    (padding_value, total_length, batch_first) and lengths, and the gradients through both."""
    x = np.random.default_rng(len(lengths)).standard_normal(shape)
    if batch_first:
        x = np.swapaxes(x, 0, 1).copy()
    ex, tx = _pair(x)
    pe = R.pack_padded_sequence(ex, lengths, batch_first, enforce_sorted)
    pt = TR.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    assert isinstance(pe, R.PackedSequence) and isinstance(pe, tuple)
    close(pe.data, pt.data, "packed data")
    same_list(pe.batch_sizes, pt.batch_sizes, "batch_sizes")
    assert pe.batch_sizes.device == ember.device("cpu") and pe.batch_sizes.dtype == ember.int64
    same_list(pe.sorted_indices, pt.sorted_indices, "sorted_indices")
    same_list(pe.unsorted_indices, pt.unsorted_indices, "unsorted_indices")
    for kw in ({}, {"padding_value": -2.5}, {"total_length": shape[0] + 2}):
        ye, le = R.pad_packed_sequence(pe, batch_first, **kw)
        yt, lt = TR.pad_packed_sequence(pt, batch_first, **kw)
        close(ye, yt, f"padded {kw}")
        same_list(le, lt, f"lengths {kw}")
    g = np.random.default_rng(7).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    close(ex.grad, tx.grad, "gradient through pack and pad", kind="gradients")
    for a, b in zip(R.unpack_sequence(pe), TR.unpack_sequence(pt), strict=True):
        close(a, b, "unpack_sequence")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_and_unpad(batch_first: bool, padding_side: str) -> None:
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((n, 2, 3)) for n in (3, 5, 1, 5)]
    es = [ember.tensor(a).requires_grad_() for a in arrays]
    ts = [torch.tensor(a).requires_grad_() for a in arrays]
    ye = R.pad_sequence(es, batch_first, 1.5, padding_side)
    yt = TR.pad_sequence(ts, batch_first, 1.5, padding_side)
    close(ye, yt, "pad_sequence")
    g = rng.standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(es, ts, strict=True):
        close(a.grad, b.grad, "pad_sequence gradient", kind="gradients")
    if padding_side == "right":
        lengths = [3, 5, 1, 5]
        for a, b in zip(
            R.unpad_sequence(ye, lengths, batch_first),
            TR.unpad_sequence(yt, torch.tensor(lengths), batch_first),
            strict=True,
        ):
            close(a, b, "unpad_sequence")


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence(enforce_sorted: bool) -> None:
    rng = np.random.default_rng(4)
    ns = (4, 3, 3, 1) if enforce_sorted else (2, 4, 1, 3)
    arrays = [rng.standard_normal((n, 3)) for n in ns]
    pe = R.pack_sequence([ember.tensor(a) for a in arrays], enforce_sorted)
    pt = TR.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted)
    close(pe.data, pt.data, "pack_sequence")
    same_list(pe.batch_sizes, pt.batch_sizes, "batch_sizes")
    same_list(pe.sorted_indices, pt.sorted_indices, "sorted_indices")
    pe32 = pe.to(ember.float32)
    assert pe32.data.dtype == ember.float32 and pe.to("cpu") is pe and pe.double().data.dtype == ember.float64
    close(pe32.data, pt.to(torch.float32).data, "PackedSequence.to(float32)", rtol=1e-6, atol=1e-7)
    same_list(pe32.unsorted_indices, pt.to(torch.float32).unsorted_indices, "unsorted_indices after .to")


def test_packing_errors() -> None:
    x = np.ones((3, 2, 2))
    ex, tx = ember.tensor(x), torch.tensor(x)
    raises_like(
        lambda: R.pack_padded_sequence(ex, [2, 3]),
        lambda: TR.pack_padded_sequence(tx, [2, 3]),
        r"pack_padded_sequence: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
        r"True, got \[2, 3\]\. You can pass `enforce_sorted=False`",
    )
    raises_like(
        lambda: R.pack_padded_sequence(ex, [3, 0]),
        lambda: TR.pack_padded_sequence(tx, [3, 0]),
        r"pack_padded_sequence: Length of all samples has to be greater than 0.*\(lengths \[3, 0\]\)",
    )
    raises_like(
        lambda: R.pack_padded_sequence(ex, [3, 2, 1]),
        lambda: TR.pack_padded_sequence(tx, [3, 2, 1]),
        r"pack_padded_sequence: Expected `len\(lengths\)` to be equal to batch_size, but got 3 "
        r"\(batch_size=2\)",
    )
    # PyTorch reads past the input here; Ember refuses, naming the lengths and the input's steps
    with pytest.raises(RuntimeError, match=r"lengths \[4, 2\] has a length 4 longer than the input's 3 time"):
        R.pack_padded_sequence(ex, [4, 2])
    pe, pt = R.pack_padded_sequence(ex, [3, 2]), TR.pack_padded_sequence(tx, [3, 2])
    raises_like(
        lambda: R.pad_packed_sequence(pe, total_length=2),
        lambda: TR.pad_packed_sequence(pt, total_length=2),
        r"pad_packed_sequence: Expected total_length to be at least the length of the longest sequence in "
        r"input, but got total_length=2 and max sequence length being 3",
    )
    raises_like(
        lambda: R.pad_sequence([ember.ones(2)], padding_side="middle"),
        lambda: TR.pad_sequence([torch.ones(2)], padding_side="middle"),
        "pad_sequence: Expected padding_side to be one of left or right, but got middle",
        ValueError,
    )


# -- recurrent layers over packed sequences ----------------------------------------------------------
def _twins(kind: str, **kw: Any) -> tuple[Any, Any]:
    torch.manual_seed(0)
    t = getattr(torch.nn, kind)(3, 4, **kw).double()
    e = getattr(nn, kind)(3, 4, dtype=ember.float64, **kw)
    with torch.no_grad(), ember.no_grad():
        for name, p in t.named_parameters():
            getattr(e, name).copy_(ember.tensor(p.detach().numpy()))
    return e, t


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    "lengths,enforce_sorted,batch_first",
    [([6, 4, 4, 1], True, False), ([2, 6, 1, 5], False, True), ([3, 1, 3], False, False)],
)
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layer_over_packed_sequence(
    kind: str,
    bidirectional: bool,
    lengths: list[int],
    enforce_sorted: bool,
    batch_first: bool,
    with_state: bool,
) -> None:
    """Output data, h_n (and c_n), and the gradients of the input, the initial states and every
    parameter equal PyTorch's, two layers deep."""
    e, t = _twins(kind, num_layers=2, bidirectional=bidirectional, batch_first=batch_first)
    rng = np.random.default_rng(len(lengths) + bidirectional)
    steps, batch = max(lengths) + 1, len(lengths)
    x = rng.standard_normal((batch, steps, 3) if batch_first else (steps, batch, 3))
    ex, tx = _pair(x)
    states_e: list[Any] = []
    states_t: list[Any] = []
    if with_state:
        for _ in range(2 if kind == "LSTM" else 1):
            h = rng.standard_normal(((2 if bidirectional else 1) * 2, batch, 4))
            a, b = _pair(h)
            states_e.append(a)
            states_t.append(b)
    hx_e = (tuple(states_e) if kind == "LSTM" else states_e[0]) if with_state else None
    hx_t = (tuple(states_t) if kind == "LSTM" else states_t[0]) if with_state else None
    pe = R.pack_padded_sequence(ex, lengths, batch_first, enforce_sorted)
    pt = TR.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted)
    oe, he = e(pe, hx_e)
    ot, ht = t(pt, hx_t)
    assert isinstance(oe, R.PackedSequence)
    close(oe.data, ot.data, "packed output")
    same_list(oe.batch_sizes, ot.batch_sizes, "output batch_sizes")
    same_list(oe.unsorted_indices, ot.unsorted_indices, "output unsorted_indices")
    he_list = list(he) if kind == "LSTM" else [he]
    ht_list = list(ht) if kind == "LSTM" else [ht]
    for a, b in zip(he_list, ht_list, strict=True):
        close(a, b, "final state")
    padded_e = R.pad_packed_sequence(oe, batch_first)[0]
    padded_t = TR.pad_packed_sequence(ot, batch_first)[0]
    close(padded_e, padded_t, "padded output")
    g = rng.standard_normal(tuple(padded_t.shape))
    loss_e = (padded_e * ember.tensor(g)).sum() + sum((s * s).sum() for s in he_list)
    loss_t = (padded_t * torch.tensor(g)).sum() + sum((s * s).sum() for s in ht_list)
    loss_e.backward()
    loss_t.backward()
    close(ex.grad, tx.grad, "input gradient", kind="gradients")
    for a, b in zip(states_e, states_t, strict=True):
        close(a.grad, b.grad, "initial state gradient", kind="gradients")
    pe_params = dict(e.named_parameters())
    for name, p in t.named_parameters():
        close(pe_params[name].grad, p.grad, name, kind="gradients")


def test_packed_state_shape_error() -> None:
    e, t = _twins("GRU")
    pe = R.pack_sequence([ember.ones((3, 3)), ember.ones((2, 3))])
    pt = TR.pack_sequence([torch.ones((3, 3)), torch.ones((2, 3))])
    raises_like(
        lambda: e(pe.double(), ember.zeros((1, 3, 4), dtype=ember.float64)),
        lambda: t(pt.double(), torch.zeros((1, 3, 4), dtype=torch.float64)),
        r"GRU: expected hx of shape \(1, 2, 4\)",
        ValueError,
    )


# -- bicubic -----------------------------------------------------------------------------------------
BICUBIC = [
    ((1, 2, 4, 5), {"scale_factor": 2}),
    ((1, 2, 4, 5), {"scale_factor": 2, "align_corners": True}),
    ((2, 3, 7, 9), {"size": (3, 4)}),
    ((2, 3, 7, 9), {"size": (3, 4), "align_corners": True}),
    ((1, 2, 8, 8), {"scale_factor": 0.5}),
    ((1, 1, 5, 6), {"scale_factor": (1.7, 0.6)}),
    ((1, 1, 5, 6), {"scale_factor": 2.3, "recompute_scale_factor": True}),
    ((1, 1, 6, 5), {"scale_factor": 1.5, "align_corners": False}),
    ((2, 2, 1, 3), {"size": (4, 1)}),
    ((1, 1, 2, 2), {"size": (9, 7), "align_corners": True}),
    ((1, 2, 5, 5), {"size": (5, 5)}),
]


@pytest.mark.parametrize("shape,kw", BICUBIC)
def test_bicubic_interpolate(shape: tuple, kw: dict) -> None:
    """Values and input gradients of interpolate(mode='bicubic') equal PyTorch's (float64), and
    float32 within float tolerance; nn.Upsample(mode='bicubic') the same."""
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    ex, tx = _pair(x)
    ye = F.interpolate(ex, mode="bicubic", **kw)
    yt = TF.interpolate(tx, mode="bicubic", **kw)
    close(ye, yt, f"bicubic {kw}")
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    close(ex.grad, tx.grad, f"bicubic gradient {kw}", kind="gradients")
    y32 = F.interpolate(ember.tensor(x.astype(np.float32)), mode="bicubic", **kw)
    t32 = TF.interpolate(torch.tensor(x.astype(np.float32)), mode="bicubic", **kw)
    assert y32.dtype == ember.float32
    close(y32, t32, f"bicubic float32 {kw}", rtol=1e-5, atol=1e-5)
    if "recompute_scale_factor" not in kw:
        ue = nn.Upsample(mode="bicubic", **kw)
        ut = torch.nn.Upsample(mode="bicubic", **kw)
        close(ue(ember.tensor(x)), ut(torch.tensor(x)), f"Upsample bicubic {kw}")


def test_bicubic_errors() -> None:
    raises_like(
        lambda: F.interpolate(ember.ones((1, 1, 4)), size=3, mode="bicubic"),
        lambda: TF.interpolate(torch.ones((1, 1, 4)), size=3, mode="bicubic"),
        r"interpolate: mode 'bicubic' needs a 4-D \(N, C, H, W\) input, got shape \(1, 1, 4\)",
        ValueError,
    )


# -- rrelu ---------------------------------------------------------------------------------------------
def _signed(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.where(np.abs(x) < 1e-3, 0.5, x)


@pytest.mark.parametrize("lower,upper", [(1 / 8, 1 / 3), (0.05, 0.6), (0.3, 0.3)])
def test_rrelu_eval_equals_torch(lower: float, upper: float) -> None:
    x = _signed((4, 5))
    ex, tx = _pair(x)
    ye, yt = F.rrelu(ex, lower, upper), TF.rrelu(tx, lower, upper)
    close(ye, yt, "rrelu eval")
    ye.sum().backward()
    yt.sum().backward()
    close(ex.grad, tx.grad, "rrelu eval gradient", kind="gradients")
    me, mt = nn.RReLU(lower, upper).eval(), torch.nn.RReLU(lower, upper).eval()
    close(me(ember.tensor(x)), mt(torch.tensor(x)), "RReLU.eval()")
    assert repr(me) == repr(mt)
    COMPARED["reprs"] += 1
    ie, it = ember.tensor(x), torch.tensor(x)
    assert F.rrelu_(ie, lower, upper) is ie
    TF.rrelu_(it, lower, upper)
    close(ie, it, "rrelu_ eval")


def test_rrelu_training() -> None:
    """Training: positive elements pass, negative ones are scaled by a slope in [lower, upper] that is
    also their gradient; the slopes' mean and variance are U(lower, upper)'s (as PyTorch's); a seeded
    generator reproduces the draw."""
    lower, upper = 0.1, 0.4
    x = -np.abs(_signed((200_000,), seed=2))
    ex, tx = _pair(x)
    ye = F.rrelu(ex, lower, upper, training=True)
    yt = TF.rrelu(tx, lower, upper, training=True)
    se, st = _np(ye) / x, _np(yt) / x
    assert se.min() >= lower - 1e-12 and se.max() <= upper + 1e-12
    for stat, ref in ((np.mean, (lower + upper) / 2), (np.var, (upper - lower) ** 2 / 12)):
        close(stat(se), stat(st), f"slope {stat.__name__} against torch's", rtol=0.02, kind="statistics")
        close(stat(se), ref, f"slope {stat.__name__} against U(lower, upper)", rtol=0.02, kind="statistics")
    ye.sum().backward()
    np.testing.assert_allclose(_np(ex.grad), se, rtol=1e-12)
    pos = np.abs(_signed((50,), seed=3))
    close(F.rrelu(ember.tensor(pos), training=True), TF.rrelu(torch.tensor(pos), training=True), "positive")
    g1, g2 = ember.Generator("cpu", 11), ember.Generator("cpu", 11)
    small = ember.tensor(_signed((30,)))
    np.testing.assert_array_equal(
        _np(F.rrelu(small, training=True, generator=g1)), _np(F.rrelu(small, training=True, generator=g2))
    )
    m = nn.RReLU(lower, upper)
    out = _np(m(ember.tensor(x[:1000])))
    assert len(np.unique(out / x[:1000])) > 900, "RReLU in training mode drew one slope for every element"


def test_rrelu_errors() -> None:
    raises_like(
        lambda: F.rrelu(ember.ones(3), 0.5, 0.2),
        lambda: TF.rrelu(torch.ones(3), 0.5, 0.2),
        r"rrelu: lower \(0.5\) must be less than or equal to upper \(0.2\)",
    )


# -- alpha dropout ---------------------------------------------------------------------------------------
ALPHA_PRIME = 1.7580993408473766


@pytest.mark.parametrize("feature", [False, True])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_alpha_dropout_affine_equals_torch(feature: bool, p: float) -> None:
    """Ember's kept and dropped values, applied with PyTorch's own mask, give PyTorch's output; the
    gradient is ``a`` where kept and 0 where dropped, as PyTorch's."""
    fe, ft = (
        (F.feature_alpha_dropout, TF.feature_alpha_dropout)
        if feature
        else (F.alpha_dropout, TF.alpha_dropout)
    )
    x = np.random.default_rng(5).standard_normal((8, 6, 5))
    tx = torch.tensor(x, requires_grad=True)
    yt = ft(tx, p, True)
    a = 1 / math.sqrt((ALPHA_PRIME**2 * p + 1) * (1 - p))
    b = ALPHA_PRIME * a * p
    dropped_value = -ALPHA_PRIME * a + b
    keep_t = np.abs(_np(yt) - (x * a + b)) < 1e-12
    close(np.where(keep_t, x * a + b, dropped_value), yt, "the affine with torch's mask")
    ex = ember.tensor(x, requires_grad=True)
    ye = fe(ex, p, True)
    keep_e = np.abs(_np(ye) - (x * a + b)) < 1e-12
    assert np.all(keep_e | (np.abs(_np(ye) - dropped_value) < 1e-12))
    if feature:
        assert np.all(keep_e.all(axis=2) | (~keep_e).all(axis=2)), "a channel was partly dropped"
    yt.sum().backward()
    ye.sum().backward()
    close(_np(tx.grad), np.where(keep_t, a, 0.0), "torch's gradient is a * mask", kind="gradients")
    close(ex.grad, np.where(keep_e, a, 0.0), "ember's gradient is a * mask", kind="gradients")


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_selu_statistics(feature: bool) -> None:
    """On standard normal input (SELU's fixed point) the output keeps zero mean and unit variance, as
    PyTorch's; the drop rate is p."""
    p = 0.3
    fe, ft = (
        (F.feature_alpha_dropout, TF.feature_alpha_dropout)
        if feature
        else (F.alpha_dropout, TF.alpha_dropout)
    )
    shape = (400, 500, 2) if feature else (400_000,)
    x = np.random.default_rng(6).standard_normal(shape)
    ye, yt = _np(fe(ember.tensor(x), p, True)), _np(ft(torch.tensor(x), p, True))
    tol = 0.03 if feature else 0.01
    for stat, ref in ((np.mean, 0.0), (np.var, 1.0)):
        close(stat(ye), ref, f"{stat.__name__}", atol=tol, rtol=0, kind="statistics")
        close(stat(ye), stat(yt), f"{stat.__name__} against torch's", atol=2 * tol, rtol=0, kind="statistics")
    a = 1 / math.sqrt((ALPHA_PRIME**2 * p + 1) * (1 - p))
    dropped = np.isclose(ye, -ALPHA_PRIME * a + ALPHA_PRIME * a * p, rtol=0, atol=1e-12)
    close(dropped.mean(), p, "drop rate", atol=tol, rtol=0, kind="statistics")


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_eval_and_edges(feature: bool) -> None:
    fe, ft = (
        (F.feature_alpha_dropout, TF.feature_alpha_dropout)
        if feature
        else (F.alpha_dropout, TF.alpha_dropout)
    )
    me, mt = (
        (nn.FeatureAlphaDropout, torch.nn.FeatureAlphaDropout)
        if feature
        else (nn.AlphaDropout, torch.nn.AlphaDropout)
    )
    x = np.random.default_rng(8).standard_normal((3, 4, 5))
    for p, training in ((0.5, False), (0.0, True), (1.0, True)):
        close(
            fe(ember.tensor(x), p, training), ft(torch.tensor(x), p, training), f"p={p} training={training}"
        )
    close(me(0.4).eval()(ember.tensor(x)), mt(0.4).eval()(torch.tensor(x)), "module in eval")
    assert repr(me(0.4)) == repr(mt(0.4))
    COMPARED["reprs"] += 1
    g1, g2 = ember.Generator("cpu", 3), ember.Generator("cpu", 3)
    ex = ember.tensor(x)
    np.testing.assert_array_equal(_np(fe(ex, 0.5, True, generator=g1)), _np(fe(ex, 0.5, True, generator=g2)))
    ie, it = ember.tensor(x), torch.tensor(x)
    assert fe(ie, 1.0, True, inplace=True) is ie
    ft(it, 1.0, True, inplace=True)
    close(ie, it, "inplace p=1")
    name = "feature_alpha_dropout" if feature else "alpha_dropout"
    for p in (-0.1, 1.5):
        raises_like(
            lambda p=p: fe(ember.tensor(x), p, True),
            lambda p=p: ft(torch.tensor(x), p, True),
            rf"{name}: dropout probability has to be between 0 and 1, but got {p}",
        )
    if feature:
        raises_like(
            lambda: fe(ember.ones(4), 0.5, True),
            lambda: ft(torch.ones(4), 0.5, True),
            "feature_alpha_dropout: Feature dropout requires at least 2 dimensions in the input",
        )


# -- last: the count ---------------------------------------------------------------------------------
def test_the_whole_module_compared_with_torch(incomplete_module_run: str | None) -> None:
    """Written last, so that it runs last: a test that compares nothing passes, so the helpers count
    what they compare and a whole run must reach MIN_COMPARISONS."""
    if incomplete_module_run:
        pytest.skip(f"the comparison count is checked on whole runs of this module: {incomplete_module_run}")
    made = sum(COMPARED.values())
    detail = ", ".join(f"{n} {kind}" for kind, n in sorted(COMPARED.items()))
    assert made >= MIN_COMPARISONS, (
        f"{__name__}: a whole run compared Ember with torch {made} times ({detail or 'nothing'}), fewer than "
        f"MIN_COMPARISONS = {MIN_COMPARISONS}; find the test that lost comparisons and restore them, or "
        "lower MIN_COMPARISONS if they were removed on purpose"
    )
