"""The dropout layers, active in training and the identity in eval: :class:`Dropout`, the channel variants
:class:`Dropout1d`, :class:`Dropout2d`, :class:`Dropout3d`, and the SELU-preserving
:class:`AlphaDropout` and :class:`FeatureAlphaDropout`."""

from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..module import Module


class Dropout(Module):
    """Zero elements with probability ``p`` while training (scaling the rest by 1/(1-p))."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Dropout in training, identity in eval."""
        return F.dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) with probability ``p`` while training."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel dropout in training, identity in eval."""
        return F.dropout1d(x, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) with probability ``p`` while training."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel dropout in training, identity in eval."""
        return F.dropout2d(x, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) with probability ``p`` while training."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel dropout in training, identity in eval."""
        return F.dropout3d(x, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Alpha dropout while training (SELU networks keep zero mean and unit variance), identity in
    eval."""

    def forward(self, x: Tensor) -> Tensor:
        """Alpha dropout in training, identity in eval."""
        return F.alpha_dropout(x, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels of (N, C, *) while training, identity in eval."""

    def forward(self, x: Tensor) -> Tensor:
        """Channel alpha dropout in training, identity in eval."""
        return F.feature_alpha_dropout(x, self.p, self.training, self.inplace)
