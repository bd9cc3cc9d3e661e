"""The activation layers: the parameterless ones made by ``_activation`` (:class:`ReLU`, :class:`Tanh`,
:class:`Sigmoid`, ...), those with arguments or parameters (:class:`GELU`, :class:`LeakyReLU`,
:class:`PReLU`, :class:`Hardtanh`, :class:`Threshold`, :class:`GLU`, :class:`Hardshrink`, ...) and the
softmax family (:class:`Softmax`, :class:`LogSoftmax`, :class:`Softmin`, :class:`Softmax2d`)."""

from __future__ import annotations

import warnings
from typing import Any

from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module
from ._parameters import _empty


def _activation(name: str, fn: Any, doc: str, inplace: bool = False) -> type[Module]:
    """A parameterless activation module applying ``fn``; with ``inplace`` its constructor takes
    PyTorch's ``inplace=False`` flag and passes it on."""
    if inplace:

        def init(self: Module, inplace: bool = False) -> None:
            Module.__init__(self)
            self.inplace = inplace

        def forward(self: Module, x: Tensor) -> Tensor:
            return fn(x, inplace=self.inplace)

        def extra_repr(self: Module) -> str:
            return "inplace=True" if self.inplace else ""

        body = {"__init__": init, "forward": forward, "extra_repr": extra_repr}
    else:

        def init(self: Module) -> None:
            Module.__init__(self)

        def forward(self: Module, x: Tensor) -> Tensor:
            return fn(x)

        body = {"__init__": init, "forward": forward}
    forward.__doc__ = "Apply the activation."
    for attr, fn_ in body.items():
        fn_.__name__, fn_.__qualname__ = attr, f"{name}.{attr}"
    return type(name, (Module,), {**body, "__doc__": doc})


ReLU = _activation("ReLU", F.relu, "max(x, 0).", inplace=True)
Tanh = _activation("Tanh", F.tanh, "Hyperbolic tangent.")
Sigmoid = _activation("Sigmoid", F.sigmoid, "The logistic function.")
SiLU = _activation("SiLU", F.silu, "x * sigmoid(x).", inplace=True)
ReLU6 = _activation("ReLU6", F.relu6, "min(max(x, 0), 6).", inplace=True)
SELU = _activation("SELU", F.selu, "scale * elu(x, alpha), self-normalising.", inplace=True)
Mish = _activation("Mish", F.mish, "x * tanh(softplus(x)).", inplace=True)
Hardswish = _activation("Hardswish", F.hardswish, "x * relu6(x + 3) / 6.", inplace=True)
Hardsigmoid = _activation("Hardsigmoid", F.hardsigmoid, "relu6(x + 3) / 6.", inplace=True)
LogSigmoid = _activation("LogSigmoid", F.logsigmoid, "log(sigmoid(x)), computed stably.")
Softsign = _activation("Softsign", F.softsign, "x / (1 + |x|).")
Tanhshrink = _activation("Tanhshrink", F.tanhshrink, "x - tanh(x).")


class CELU(Module):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.celu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """x clamped to [min_val, max_val]."""

    def __init__(
        self,
        min_val: float = -1.0,
        max_val: float = 1.0,
        inplace: bool = False,
        min_value: float | None = None,
        max_value: float | None = None,
    ) -> None:
        super().__init__()
        if min_value is not None or max_value is not None:
            warnings.warn(
                "Hardtanh: keyword arguments min_value and max_value are deprecated; use min_val and max_val",
                DeprecationWarning,
                stacklevel=2,
            )
            min_val = min_val if min_value is None else min_value
            max_val = max_val if max_value is None else max_value
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val}); swap them")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class Threshold(Module):
    """x where x > threshold, else ``value``."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """Gated linear unit along ``dim``: first half times the sigmoid of the second."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply the gate."""
        return F.glu(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """x where x > 0, a * x elsewhere, with a learned ``weight`` of ``num_parameters`` slopes (1, or
    one per channel), all starting at ``init``."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = _empty((num_parameters,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set every slope to ``init``, as PyTorch."""
        init.constant_(self.weight, self.init)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GELU(Module):
    """Gaussian error linear unit (``approximate='tanh'`` for the tanh form)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class RReLU(Module):
    """Randomized leaky ReLU: x for x > 0, a * x otherwise, a drawn per element from
    U(lower, upper) while training and (lower + upper) / 2 in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        if lower > upper:
            raise ValueError(
                f"RReLU: lower ({lower}) must be less than or equal to upper ({upper}); swap them or pass "
                "lower <= upper"
            )
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation (random slopes in training)."""
        return F.rrelu(x, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.elu(x, self.alpha, self.inplace)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.softplus(x, self.beta, self.threshold)


class Softmax(Module):
    """Softmax along ``dim`` (None: PyTorch's deprecated implicit choice, see
    :func:`ember.nn.functional.softmax`)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax."""
        return F.softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably (None: PyTorch's deprecated implicit choice,
    see :func:`ember.nn.functional.softmax`)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply log-softmax."""
        return F.log_softmax(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Hardshrink(Module):
    """x where |x| > lambd, else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.hardshrink(x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """x - lambd above lambd, x + lambd below -lambd, 0 between."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the activation."""
        return F.softshrink(x, self.lambd)


class Softmin(Module):
    """softmax(-x) along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmin."""
        return F.softmin(x, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W) (dim -3)."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax over the channels."""
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D or 4-D input, got shape {tuple(x.shape)}")
        return F.softmax(x, -3)
