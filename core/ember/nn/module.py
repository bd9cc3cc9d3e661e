"""``Module``, the base class of every layer, and the containers Sequential, ModuleList, ModuleDict."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .parameter import Parameter, _set_storage

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "IncompatibleKeys"]


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` did not match (with ``strict=False``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class _RemovableHandle:
    """Handle returned by hook registration; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self._hooks = hooks
        self.id = _RemovableHandle._next_id
        _RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook."""
        self._hooks.pop(self.id, None)

    def __enter__(self) -> _RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Module:
    """Base class of all layers and models.

    Subclasses create parameters, buffers and submodules in ``__init__`` (plain attribute
    assignment registers them) and compute in ``forward``; call the module, not ``forward``, so hooks
    run.

    >>> import ember
    >>> class Net(ember.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = ember.nn.Linear(4, 2)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    >>> [name for name, _ in Net().named_parameters()]
    ['fc.weight', 'fc.bias']
    """

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()

    # -- calling -----------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses override it."""
        raise NotImplementedError(
            f"{type(self).__name__}.forward is not implemented: subclasses of "
            "ember.nn.Module must define forward()"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if "_forward_hooks" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() in __init__ before using the module"
            )
        for hook in list(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> _RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces the
        output. Returns a handle with ``remove()``."""
        h = _RemovableHandle(self._forward_hooks)
        self._forward_hooks[h.id] = hook
        return h

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> _RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces the args.
        Returns a handle with ``remove()``."""
        h = _RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[h.id] = hook
        return h

    # -- registration ------------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name)
            params[name] = value
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign submodules before Module.__init__() call")
            self._remove_from(name)
            d["_modules"][name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} (an "
                    "ember.nn.Parameter or None is expected)"
                )
            params[name] = None
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} (an "
                    "ember.nn.Module or None is expected)"
                )
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} (an ember.Tensor "
                    "or None is expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_from(self, name: str) -> None:
        d = self.__dict__
        d.pop(name, None)
        for key in ("_parameters", "_buffers", "_modules"):
            d[key].pop(name, None)
        d["_non_persistent"].discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if name in d[key]:
                del d[key][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        names = set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules)
        return sorted(names)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a declared-but-absent parameter such as a missing bias)."""
        if "." in name or not name:
            raise KeyError(f"register_parameter: parameter name {name!r} can't be empty or contain '.'")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"register_parameter: cannot assign {type(param).__name__} as parameter {name!r} "
                "(wrap it with ember.nn.Parameter)"
            )
        self._remove_from(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not a parameter (e.g. BatchNorm's running mean); it is
        in ``state_dict()`` unless ``persistent=False`` and moves with ``to()``."""
        if "." in name or not name:
            raise KeyError(f"register_buffer: buffer name {name!r} can't be empty or contain '.'")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: cannot assign {type(tensor).__name__} as buffer {name!r} "
                "(an ember.Tensor or None is expected)"
            )
        self._remove_from(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the child ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        if "." in name or not name:
            raise KeyError(f"add_module: module name {name!r} can't be empty or contain '.'")
        self._remove_from(name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` ('' is self)."""
        mod: Module = self
        for part in target.split(".") if target else []:
            if part not in mod._modules or mod._modules[part] is None:
                raise AttributeError(
                    f"{type(mod).__name__} has no submodule {part!r} (looking up {target!r})"
                )
            mod = mod._modules[part]  # type: ignore[assignment]
        return mod

    # -- traversal ---------------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for self and every descendant, each module once."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        """Self and every descendant module."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct children."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct child modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        mods = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        for mod_prefix, mod in mods:
            for name, t in getattr(mod, store).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for every parameter (shared ones once)."""
        yield from self._named_members("_parameters", prefix, recurse)  # type: ignore[misc]

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (shared ones once), e.g. for an optimizer."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` for every buffer."""
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- state -------------------------------------------------------------------------------------
    def state_dict(
        self, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name (detached unless ``keep_vars``)."""
        out: dict[str, Tensor] = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers (in place).

        With ``strict=True`` (the default) missing or unexpected keys raise a RuntimeError that names
        them; shape mismatches always raise, naming the key and both shapes.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for k, target in own.items():
            if k not in state_dict:
                continue
            src = state_dict[k]
            if not isinstance(src, Tensor):
                errors.append(f"for {k!r}: expected a tensor, got {type(src).__name__}")
                continue
            if src.shape != target.shape:
                errors.append(
                    f"size mismatch for {k!r}: copying a param with shape {src.shape} from the "
                    f"checkpoint, the shape in the current model is {target.shape}"
                )
        if strict:
            if missing:
                errors.insert(0, "missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing))
            if unexpected:
                errors.insert(0, "unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected))
        if errors:
            raise RuntimeError(
                f"error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            )
        with no_grad():
            for k, target in own.items():
                if k in state_dict:
                    target.copy_(state_dict[k])
        return IncompatibleKeys(missing, unexpected)

    # -- modes, devices, gradients -----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (affects Dropout, BatchNorm) on self and descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(): mode is expected to be a bool, got {type(mode).__name__}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (``train(False)``); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter; returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to None by default, else to zeros in place)."""
        from .utils import zero_grads_

        zero_grads_(self.parameters(), set_to_none)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant then on self (children first, like PyTorch); returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, fn: Callable[[Tensor], Tensor]) -> Module:
        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is None:
                        continue
                    new = fn(p)
                    if new is not p:
                        _set_storage(p, new)
                    if p.grad is not None:
                        p.grad = fn(p.grad)
                for name, b in list(m._buffers.items()):
                    if b is not None:
                        m._buffers[name] = fn(b)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move parameters and buffers to a device and/or cast floating ones to a dtype, in place
        (Parameters keep their identity, so optimizers stay valid); returns self.

        ``model.to("cpu")``, ``model.to(ember.float64)``, ``model.to(device, dtype)``. PyTorch's
        ``non_blocking`` flag is accepted; ember's copies are synchronous, so it changes nothing.
        """
        from .. import dtypes as _dt

        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("non_blocking", None)  # a scheduling hint only: the result is the same
        if kwargs:
            raise TypeError(f"Module.to: unexpected keyword argument(s) {sorted(kwargs)}")
        for a in args:
            if isinstance(a, bool):  # non_blocking, given positionally as in to(device, dtype, True)
                continue
            if isinstance(a, _dt.DType):
                dtype = a
            elif isinstance(a, str) and hasattr(_dt, a) and isinstance(getattr(_dt, a), _dt.DType):
                dtype = getattr(_dt, a)
            else:
                device = a
        if dtype is not None:
            dtype = _dt.as_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError(f"Module.to: only floating point dtypes are accepted, got {dtype}")

        def fn(t: Tensor) -> Tensor:
            if device is not None:
                t = t.to(device)
            if dtype is not None and t.dtype.is_floating_point:
                t = t.to(dtype)
            return t

        return self._apply_to_tensors(fn)

    def cpu(self) -> Module:
        """Move to the cpu device; returns self."""
        return self.to("cpu")

    def float(self) -> Module:
        """Cast floating parameters and buffers to float32; returns self."""
        from .. import dtypes as _dt

        return self.to(_dt.float32)

    def double(self) -> Module:
        """Cast floating parameters and buffers to float64; returns self."""
        from .. import dtypes as _dt

        return self.to(_dt.float64)

    # -- repr --------------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr (layers override it)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class Sequential(Module):
    """Modules applied in order: ``Sequential(m1, m2)(x) == m2(m1(x))``; also accepts an OrderedDict
    of named modules. Indexing and slicing work like a list."""

    def __init__(self, *args: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], Mapping):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)  # type: ignore[arg-type]

    def forward(self, x: Any) -> Any:
        """Apply each module in turn."""
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]

    def __getitem__(self, idx: int | slice) -> Any:
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        n = len(items)
        if not -n <= idx < n:
            raise IndexError(f"Sequential: index {idx} is out of range for {n} module(s)")
        return items[idx % n][1]

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self


class ModuleList(Module):
    """A list of modules, registered so their parameters are found."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _key(self, idx: int) -> str:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"ModuleList: index {idx} is out of range for {n} module(s)")
        return list(self._modules)[idx % n]

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])  # type: ignore[arg-type]
        return self._modules[self._key(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._key(idx), module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())  # type: ignore[arg-type]

    def append(self, module: Module) -> ModuleList:
        """Add ``module`` at the end; returns self."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append each of ``modules``; returns self."""
        for m in modules:
            self.append(m)
        return self

    def forward(self, *args: Any) -> Any:
        """A ModuleList has no forward of its own: iterate over it."""
        raise NotImplementedError("ModuleList has no forward(); iterate over it and call each module")


class ModuleDict(Module):
    """A dict of modules by name, registered so their parameters are found."""

    def __init__(self, modules: Mapping[str, Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]  # type: ignore[return-value]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self) -> Iterable[str]:
        """The names."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules."""
        return self._modules.values()  # type: ignore[return-value]

    def items(self) -> Iterable[tuple[str, Module]]:
        """``(name, module)`` pairs."""
        return self._modules.items()  # type: ignore[return-value]

    def update(self, modules: Mapping[str, Module]) -> None:
        """Add or replace modules from a mapping."""
        for k, m in modules.items():
            self.add_module(k, m)

    def forward(self, *args: Any) -> Any:
        """A ModuleDict has no forward of its own: look modules up by name."""
        raise NotImplementedError("ModuleDict has no forward(); look modules up by name and call them")
