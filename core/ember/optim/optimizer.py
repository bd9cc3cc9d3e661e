"""The :class:`Optimizer` base class: parameter groups, per-parameter state, ``zero_grad`` and
``state_dict``/``load_state_dict`` in PyTorch's layout."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from ..tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Base class: subclasses implement :meth:`step`, reading ``self.param_groups`` (a list of dicts
    with ``"params"`` and hyper-parameters) and ``self.state`` (per-parameter dicts).

    ``params`` is an iterable of tensors or of dicts (parameter groups) whose keys override
    ``defaults``.
    """

    #: hyper-parameters that :meth:`step` reads only through :meth:`_host_scalars` (``ember.compile``
    #: leaves them out of a graph's signature: a replay recomputes the scalars on every call)
    _replayed_hyper: tuple[str, ...] = ()
    #: per-parameter host state that :meth:`_host_scalars` advances (a replay calls it as eager does)
    _replayed_state: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params argument given to the optimizer should be an "
                "iterable of Tensors or dicts, but got a Tensor; use [tensor]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{type(self).__name__}: got an empty parameter list (did the model's "
                "parameters() generator get consumed already?)"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``"params"`` and optional hyper-parameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"{type(self).__name__}: can't optimize a non-leaf Tensor (shape "
                    f"{p.shape}); "
                    "pass the leaf parameters, e.g. model.parameters()"
                )
        group = dict(param_group, params=params)
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError(
                f"{type(self).__name__}: some parameters appear in more than one parameter group"
            )
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all optimized parameters (to None by default, else to zeros)."""
        from ..nn.utils import zero_grads_

        zero_grads_((p for g in self.param_groups for p in g["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once (subclasses implement it); ``closure`` re-evaluates the loss."""
        raise NotImplementedError

    def _host_scalars(self, group: dict[str, Any], state: dict[str, Any]) -> tuple[float, ...]:
        """Advance one parameter's host state by one step (its ``_replayed_state`` keys) and return the
        Python floats the step passes to kernels that depend on that state or on the
        ``_replayed_hyper`` hyper-parameters. ``ember.compile`` records which kernel arguments these
        are and calls this again on every replay, so a replayed step sees the new step count and a
        scheduler's new lr, bitwise as eager."""
        raise NotImplementedError(f"{type(self).__name__} has no host scalars")

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        from ..autograd.grad_mode import enable_grad

        with enable_grad():
            return closure()

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``, parameters
        referred to by their position across groups (PyTorch's layout)."""
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: (v.detach() if isinstance(v, Tensor) else v) for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`: hyper-parameters and per-parameter state (tensors are
        copied to each parameter's device and floating ones to its dtype)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state dict has {len(groups)} "
                f"parameter "
                f"group(s), the optimizer has {len(self.param_groups)}"
            )
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: parameter group {i} has "
                    f"{len(saved['params'])} parameter(s) in the state dict but "
                    f"{len(own['params'])} "
                    "in the optimizer"
                )
        by_index: dict[int, Tensor] = {}
        for saved, own in zip(groups, self.param_groups):
            for idx, p in zip(saved["params"], own["params"]):
                by_index[int(idx)] = p
        self.state = {}
        for idx, st in state_dict["state"].items():
            p = by_index.get(int(idx))
            if p is None:
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: state for parameter index {idx} "
                    f"that "
                    "is in no parameter group"
                )
            new = {}
            for k, v in st.items():
                if isinstance(v, Tensor):
                    v = v.detach().to(p.device)
                    if v.dtype.is_floating_point and k != "step":
                        v = v.to(p.dtype)
                    if v.shape != p.shape and v.ndim:
                        raise ValueError(
                            f"{type(self).__name__}.load_state_dict: state {k!r} of parameter "
                            f"{idx} has shape {v.shape}, the parameter has shape {p.shape}"
                        )
                    v = v.clone()
                new[k] = v
            self.state[p] = new
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = copy.deepcopy(v) if not isinstance(v, Tensor) else v

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)
