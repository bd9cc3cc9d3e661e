"""``docs/pytorch-coverage.md`` is the one list of what Ember has of PyTorch's commonly used surface
and what is missing; this module reads it and checks it against both libraries, so the page cannot
go stale:

* every name under "Available" resolves in Ember in its heading's namespace, and in PyTorch;
* every name under "Missing" (a full PyTorch name) exists in PyTorch and does not resolve in Ember;
* every name of the commonly used surface issue (issue 13; the lists below) is listed as available;
* no name is listed twice, and the page lists at least 300 available names.

Without PyTorch the module fails to collect, unless EMBER_ALLOW_NO_TORCH=1 turns that into a skip.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import ember
import pytest
from torch_required import require_torch

torch = require_torch()

DOC = Path(__file__).resolve().parents[1] / "docs" / "pytorch-coverage.md"

#: PyTorch namespaces whose Ember counterpart is not ``ember`` + the same path
NAMESPACES = {"torch.utils.data": "ember.data", "torch.utils.checkpoint": "ember.utils.checkpoint"}

#: the names of the commonly used surface issue (issue 13), by PyTorch namespace
ISSUE_13 = {
    "torch": """
        sort argsort topk kthvalue unique unique_consecutive searchsorted bucketize median nanmedian
        quantile mode msort cumprod cummax cummin logcumsumexp diff tan asin acos atan atan2 sinh cosh
        asinh acosh atanh hypot copysign fmod frac lerp logaddexp logit xlogy erfc erfinv lgamma digamma
        exp2 sgn signbit nan_to_num clamp_min clamp_max isclose allclose equal isposinf isneginf
        heaviside bitwise_left_shift bitwise_right_shift nansum nanmean count_nonzero aminmax var_mean
        std_mean bincount histc cov corrcoef trace roll diag diagonal diag_embed tile repeat_interleave
        meshgrid tensordot einsum kron cross hstack vstack dstack column_stack atleast_1d atleast_2d
        atleast_3d rot90 swapaxes moveaxis movedim tril_indices triu_indices take_along_dim scatter
        scatter_reduce index_add index_copy index_fill index_put masked_scatter put addmm addmv baddbmm
        addcmul addcdiv normal bernoulli multinomial poisson inference_mode""",
    "torch.Tensor": """
        unfold squeeze_ unsqueeze_ new_zeros new_ones new_full new_empty new_tensor uniform_ normal_
        bernoulli_ exponential_ random_ scatter_""",
    "torch.nn": """
        ConvTranspose1d ConvTranspose2d Conv3d MaxPool1d AvgPool1d AdaptiveMaxPool2d AdaptiveAvgPool1d
        Upsample PixelShuffle Unfold Fold ZeroPad2d ReflectionPad2d ReplicationPad2d RNN LSTM GRU RNNCell
        LSTMCell GRUCell TransformerEncoderLayer TransformerEncoder TransformerDecoderLayer Transformer
        RMSNorm InstanceNorm1d InstanceNorm2d LocalResponseNorm EmbeddingBag Bilinear PReLU SELU CELU Mish
        Hardswish Hardsigmoid Hardtanh ReLU6 LogSigmoid Softsign Tanhshrink Threshold GLU KLDivLoss
        HuberLoss SoftMarginLoss MultiLabelSoftMarginLoss MarginRankingLoss TripletMarginLoss
        CosineEmbeddingLoss PoissonNLLLoss GaussianNLLLoss CTCLoss CosineSimilarity PairwiseDistance
        ParameterList ParameterDict RReLU AlphaDropout FeatureAlphaDropout""",
    "torch.nn.functional": "interpolate grid_sample rrelu alpha_dropout feature_alpha_dropout",
    "torch.nn.utils": "clip_grad_value_ parameters_to_vector vector_to_parameters",
    "torch.nn.utils.rnn": """
        PackedSequence pack_padded_sequence pad_packed_sequence pack_sequence pad_sequence unpad_sequence
        unpack_sequence""",
    "torch.utils.checkpoint": "checkpoint",
    "torch.optim": "Adagrad Adamax NAdam RAdam LBFGS",
    "torch.optim.lr_scheduler": """
        OneCycleLR CosineAnnealingWarmRestarts CyclicLR LinearLR SequentialLR ChainedScheduler LambdaLR
        MultiplicativeLR PolynomialLR""",
}

_HEADING_AVAILABLE = re.compile(r"^### `(torch[\w.]*)` → `(ember[\w.]*)`\s*$")
_BLOCK = re.compile(r"^```text\n(.*?)^```", re.S | re.M)


def ember_namespace(torch_namespace: str) -> str:
    """The Ember namespace of a PyTorch one: ``torch.nn`` -> ``ember.nn`` unless NAMESPACES says."""
    for prefix, target in NAMESPACES.items():
        if torch_namespace == prefix or torch_namespace.startswith(prefix + "."):
            return target + torch_namespace[len(prefix) :]
    return "ember" + torch_namespace.removeprefix("torch")


def resolves(path: str) -> bool:
    """Whether the dotted ``path`` names something: attributes, importing submodules on the way."""
    parts = path.split(".")
    try:
        obj = importlib.import_module(parts[0])
    except ImportError:
        return False
    for i, part in enumerate(parts[1:], start=2):
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            return False
    return True


def _sections() -> tuple[str, str]:
    text = DOC.read_text(encoding="utf-8")
    assert "\n## Available\n" in text and "\n## Missing\n" in text, f"{DOC}: no '## Available' / '## Missing'"
    available = text.split("\n## Available\n", 1)[1].split("\n## Missing\n", 1)[0]
    missing = text.split("\n## Missing\n", 1)[1]
    return available, missing


def _groups(section: str) -> list[tuple[str, str, list[str]]]:
    """(heading, prose, names) for each ``###`` group of a section."""
    out = []
    for chunk in re.split(r"^(?=### )", section, flags=re.M):
        if not chunk.startswith("### "):
            continue
        heading = chunk.splitlines()[0]
        names = [n for block in _BLOCK.findall(chunk) for n in block.split()]
        prose = _BLOCK.sub("", chunk[len(heading) :]).strip()
        out.append((heading, prose, names))
    return out


def available() -> dict[str, tuple[str, list[str]]]:
    """PyTorch namespace -> (Ember namespace as the heading says, names)."""
    out: dict[str, tuple[str, list[str]]] = {}
    for heading, _, names in _groups(_sections()[0]):
        m = _HEADING_AVAILABLE.match(heading)
        assert m, f"{DOC}: an Available heading must read '### `torch.X` → `ember.X`', got {heading!r}"
        assert m.group(1) not in out, f"{DOC}: namespace {m.group(1)} has two Available headings"
        out[m.group(1)] = (m.group(2), names)
    return out


def missing() -> dict[str, list[str]]:
    """Group title -> full PyTorch names."""
    return {heading.removeprefix("### "): names for heading, _, names in _groups(_sections()[1])}


def test_the_page_has_its_lists() -> None:
    """Enough available names to be the commonly used surface, and every missing group says what is
    planned."""
    total = sum(len(names) for _, names in available().values())
    assert total >= 300, f"{DOC} lists {total} available names; the commonly used surface is at least 300"
    groups = _groups(_sections()[1])
    assert len(groups) >= 10, f"{DOC}: {len(groups)} missing groups"
    for heading, prose, _ in groups:
        assert prose, f"{DOC}: the missing group {heading!r} has no line on what is planned"


def test_headings_map_namespaces_as_the_test_does() -> None:
    wrong = [(t, e) for t, (e, _) in available().items() if e != ember_namespace(t)]
    assert not wrong, f"{DOC}: headings whose Ember namespace differs from the mapping: {wrong}"


@pytest.mark.parametrize("torch_ns", sorted(available()))
def test_available_names_resolve_in_ember_and_torch(torch_ns: str) -> None:
    ember_ns, names = available()[torch_ns]
    not_ember = [n for n in names if not resolves(f"{ember_ns}.{n}")]
    assert not not_ember, (
        f"{DOC} lists as available in {ember_ns}, but Ember has no {not_ember}: move them to a Missing group "
        "(as full torch names) or restore them"
    )
    not_torch = [n for n in names if not resolves(f"{torch_ns}.{n}")]
    assert not not_torch, f"{DOC} lists {not_torch} under {torch_ns}, which PyTorch does not have"


@pytest.mark.parametrize("group", sorted(missing()))
def test_missing_names_are_pytorch_names_ember_lacks(group: str) -> None:
    names = missing()[group]
    malformed = [n for n in names if not n.startswith("torch.")]
    assert not malformed, f"{DOC}: missing names are full torch names, got {malformed} in {group!r}"
    not_torch = [n for n in names if not resolves(n)]
    assert not not_torch, f"{DOC} lists {not_torch} as missing in {group!r}, but PyTorch has no such names"
    present = []
    for n in names:
        ns, _, leaf = n.rpartition(".")
        if resolves(f"{ember_namespace(ns)}.{leaf}"):
            present.append(f"{n} (as {ember_namespace(ns)}.{leaf})")
    assert not present, (
        f"{DOC} lists as missing in {group!r} what Ember now has: {present}; move them to the Available "
        "list of their namespace"
    )


@pytest.mark.parametrize("torch_ns", sorted(ISSUE_13))
def test_issue_13_names_are_listed_as_available(torch_ns: str) -> None:
    listed = set(available().get(torch_ns, ("", []))[1])
    absent = [n for n in ISSUE_13[torch_ns].split() if n not in listed]
    assert not absent, f"{DOC}: the surface issue's names {absent} are not listed under {torch_ns}"
    ember_ns = ember_namespace(torch_ns)
    unresolved = [n for n in ISSUE_13[torch_ns].split() if not resolves(f"{ember_ns}.{n}")]
    assert not unresolved, f"Ember lacks the surface issue's {ember_ns}.{unresolved}"


def test_no_name_is_listed_twice() -> None:
    seen: dict[str, str] = {}
    twice = []
    for torch_ns, (_, names) in available().items():
        for n in names:
            full = f"{torch_ns}.{n}"
            if full in seen:
                twice.append(full)
            seen[full] = "available"
    for group, names in missing().items():
        for n in names:
            if n in seen:
                twice.append(f"{n} ({seen[n]} and {group!r})")
            seen[n] = group
    assert not twice, f"{DOC} lists these names twice: {twice}"


def test_the_resolver_tells_present_from_absent() -> None:
    """The check above cannot pass by a resolver that finds everything or nothing."""
    assert resolves("ember.nn.functional.interpolate") and resolves("ember.nn.utils.rnn.PackedSequence")
    assert resolves("torch.fft.rfft") and resolves("ember.Tensor.new_zeros")
    assert not resolves("ember.stft") and not resolves("ember.nn.NoSuchLayer")
    assert not resolves("ember.Tensor.no_such_method") and not resolves("no_such_package.x")
    assert ember_namespace("torch.utils.data") == "ember.data" and ember_namespace("torch.nn") == "ember.nn"
    assert ember.nn.utils.rnn.pad_sequence is not None
