"""The ``torchcpu`` device: :class:`ember.array_backend.ArrayBackend` on PyTorch CPU tensors.

``ArrayBackend`` speaks to torch through ``array_api_compat``'s standard namespace for it. PyTorch
has an erf, so the device passes it; it has no negative strides (Ember's flipped views need
them), so its buffers keep Ember's layouts over flat tensors, as for any namespace without
numpy-style views.
"""

from __future__ import annotations

from ember.array_backend import ArrayBackend


class TorchBackend(ArrayBackend):
    """PyTorch CPU tensors as Ember buffers (one device, ``torchcpu``)."""

    device_type = "torchcpu"

    def __init__(self) -> None:
        import torch

        super().__init__(torch, erf=torch.special.erf)
