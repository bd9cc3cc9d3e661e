"""The dispatcher: prebuilt kernel tables per device type, overrides, and the opt-in CPU fallback.

Resolution for an op on a device, in order:

1. the kernel in the device type's table (the backend's own, or an override of higher priority);
2. the op's composite implementation in core (ops written in terms of other ops);
3. when the user opted in (:func:`set_fallback`), the cpu backend's kernel, run on copies moved
   to the host and back, warned once per op and counted (:func:`fallback_counts`);
4. otherwise :class:`~ember.errors.KernelNotFoundError` naming the op, the device and the remedies.

Tables are plain dicts built once, when a device type is first used; the per-op path is one
``dict.get``. pluggy is never called per op. Building a table checks it (:func:`check_kernels`):
every name must be one the dispatcher looks up (a primitive, an optional kernel or a namespaced
custom op name such as ``"mylib.scaled_tanh"``) and every kernel callable, so a typo such as
``"sofmax"`` fails the backend loudly, naming the plugin and the closest known name, instead of
never being called. A kernel override is all or nothing: one that cannot be loaded or checked, or
that ties another kernel's priority for an op, is refused whole (the registry drops it with a
recorded error) and the device type works without it.
"""

from __future__ import annotations

import difflib
import os
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import BackendError, KernelNotFoundError
from .plugin_group import describe

__all__ = [
    "KernelTable",
    "KernelTableError",
    "build_kernel_table",
    "check_kernels",
    "known_kernel_names",
    "set_fallback",
    "fallback_counts",
    "kernel_source",
    "resolve_missing",
]


@dataclass
class KernelTable:
    """Op name -> kernel for one device type, and where each kernel came from."""

    device_type: str
    kernels: dict[str, Callable[..., Any]] = field(default_factory=dict)
    #: op name -> (plugin name, priority) of the winning kernel
    sources: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: op name -> every (plugin, priority) that registered a kernel, winner first
    candidates: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


class KernelTableError(BackendError):
    """A kernel table names a kernel no op dispatches to, or maps a name to a non-callable.

    ``reason`` says what is wrong (plugin, distribution, device type, the offending names) and
    ``remedy`` what to change; the registry records both as the backend's failure.
    """

    def __init__(self, reason: str, remedy: str) -> None:
        super().__init__(f"{reason}; remedy: {remedy}")
        self.reason = reason
        self.remedy = remedy


def known_kernel_names() -> frozenset[str]:
    """The names the dispatcher looks kernels up under (besides namespaced custom op names):
    the primitives of :data:`ember.backend.PRIMITIVES` and the optional kernels of
    :data:`ember.ops.catalog.OPTIONAL_KERNELS`."""
    from .backend import PRIMITIVES
    from .ops.catalog import OPTIONAL_KERNELS

    return frozenset(PRIMITIVES) | frozenset(OPTIONAL_KERNELS)


def _plugin_label(plugin: str, distribution: str | None) -> str:
    where = f"distribution {distribution}" if distribution else "registered by hand, no distribution"
    return f"plugin {plugin!r} ({where})"


def check_kernels(
    kernels: Mapping[Any, Any], device_type: str, plugin: str, distribution: str | None, where: str
) -> None:
    """Refuse a kernel table with a name no op dispatches to, or with a non-callable kernel.

    A valid name is a primitive, an optional kernel (:func:`known_kernel_names`) or a custom op
    name, which is namespaced (contains a ``.``, e.g. ``"mylib.scaled_tanh"``, see
    :class:`ember.library.Op`). ``where`` names the table in messages (``"pkg.mod:Backend.kernels"``
    or the ``KernelOverride``'s ``"module:attribute"``).

    Raises :class:`KernelTableError` naming every offending entry, the plugin and its
    distribution, with the closest known name as the remedy for each unknown one.
    """
    known = known_kernel_names()
    unknown = [n for n in kernels if not (isinstance(n, str) and (n in known or "." in n))]
    uncallable = [n for n in kernels if n not in unknown and not callable(kernels[n])]
    if not unknown and not uncallable:
        return
    who = _plugin_label(plugin, distribution)
    reasons: list[str] = []
    remedies: list[str] = []
    if unknown:
        shown = ", ".join(repr(n) for n in unknown)
        noun = "a kernel named" if len(unknown) == 1 else "kernels named"
        reasons.append(
            f"{who} gives device type {device_type!r} {noun} {shown} in {where}, which no op "
            "dispatches to (a kernel name is a primitive of ember.backend.PRIMITIVES, an optional "
            "kernel of ember.ops.catalog.OPTIONAL_KERNELS or a namespaced custom op name such as "
            "'mylib.scaled_tanh'), so Ember would never call it"
        )
        for n in unknown:
            close = difflib.get_close_matches(n, sorted(known), n=1) if isinstance(n, str) else []
            if close:
                remedies.append(f"rename {n!r} to {close[0]!r} in {where}")
            else:
                remedies.append(
                    f"remove {n!r} from {where}, or key it by its custom op's namespaced name "
                    f"('namespace.{n}')"
                )
    if uncallable:
        shown = ", ".join(f"{n!r} -> {type(kernels[n]).__name__}" for n in uncallable)
        reasons.append(
            f"{who} gives device type {device_type!r} kernels that are not callable in {where}: {shown}"
        )
        remedies.append(f"map {', '.join(repr(n) for n in uncallable)} to the kernel function in {where}")
    raise KernelTableError("; ".join(reasons), "; ".join(remedies) + _until_fixed(plugin, distribution))


def _until_fixed(plugin: str, distribution: str | None) -> str:
    if not distribution:
        return ""
    return f" (until {distribution} is fixed: uninstall it, or set EMBER_DISABLE_BACKENDS={plugin})"


def _override_kernels(
    ov: Any, plugin: str, device_type: str, load: Callable[[str], Any], distribution: str | None
) -> dict[Any, Any]:
    """The checked kernel dict of one override; :class:`KernelTableError` when it has no int
    priority, cannot be loaded, is no dict, or :func:`check_kernels` refuses it."""
    who = _plugin_label(plugin, distribution)
    until = _until_fixed(plugin, distribution)
    priority = getattr(ov, "priority", None)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise KernelTableError(
            f"{who} gives device type {device_type!r} the kernel override {ov.kernels!r} with priority "
            f"{priority!r}, which is not an int",
            f"give that KernelOverride an int priority above 0 (the backend's own kernels have 0){until}",
        )
    try:
        kernels = load(ov.kernels)
    except Exception as exc:
        raise KernelTableError(
            f"{who} gives device type {device_type!r} kernels in {ov.kernels!r}, which cannot be "
            f"loaded: {describe(exc)}",
            f"make the KernelOverride's kernels name an importable 'module:attribute'{until}",
        ) from exc
    if not isinstance(kernels, dict):
        raise KernelTableError(
            f"{who} gives device type {device_type!r} kernels in {ov.kernels!r}, which is a "
            f"{type(kernels).__name__}, not a dict[str, Callable]",
            f"make {ov.kernels!r} a dict from op name to kernel{until}",
        )
    check_kernels(kernels, device_type, plugin, distribution, ov.kernels)
    return kernels


def _tie_errors(
    device_type: str,
    own: tuple[str, Mapping[str, Any]],
    usable: list[tuple[Any, str, dict[Any, Any]]],
    dists: Mapping[str, str | None],
) -> dict[int, KernelTableError]:
    """Overrides that give an op a kernel at the priority of another kernel for that op (the
    backend's own at 0, or another override's): each is refused whole, naming the others, so no
    tie is settled by the order plugins were found in. Keyed by ``id(override)``."""
    backend_plugin, own_kernels = own
    at: dict[tuple[str, int], list[tuple[Any, str] | None]] = {}  # None: the backend's own kernel
    for name in own_kernels:
        at.setdefault((name, 0), []).append(None)
    for ov, plugin, kernels in usable:
        for name in kernels:
            at.setdefault((name, ov.priority), []).append((ov, plugin))
    errors: dict[int, KernelTableError] = {}
    for (name, priority), claims in sorted(at.items(), key=lambda kv: kv[0]):
        if len(claims) < 2:
            continue
        for claim in claims:
            if claim is None or id(claim[0]) in errors:
                continue
            ov, plugin = claim
            others = [
                f"the backend's own kernel (plugin {backend_plugin!r})"
                if c is None
                else f"{_plugin_label(c[1], dists.get(c[1]))}'s override {c[0].kernels!r}"
                for c in claims
                if c is not claim
            ]
            fix = (
                "give the override a priority above 0 to replace the backend's kernels"
                if None in claims
                else "give one of the overrides another priority, or uninstall one of their plugins"
            )
            errors[id(ov)] = KernelTableError(
                f"{_plugin_label(plugin, dists.get(plugin))} gives device type {device_type!r} a kernel "
                f"for {name!r} in {ov.kernels!r} at priority {priority}, the priority of "
                f"{' and '.join(others)}, so which one runs would be undecided",
                fix + _until_fixed(plugin, dists.get(plugin)),
            )
    return errors


def build_kernel_table(
    device_type: str,
    backend: Any,
    plugin: str,
    overrides: list[tuple[Any, str]],
    load: Callable[[str], Any],
    distributions: Mapping[str, str | None] | None = None,
    on_refused: Callable[[Any, str, KernelTableError], None] | None = None,
) -> KernelTable:
    """Merge a backend's kernels (priority 0) with the overrides declared for its device type.

    The backend's own table is checked first (:func:`check_kernels`; ``distributions`` maps
    plugin name -> distribution for its messages) and raises :class:`KernelTableError`. Each
    override is all or nothing: it is refused when its priority is no int, its kernels cannot be
    loaded or are no dict, :func:`check_kernels` refuses them, or it gives an op a kernel at the
    priority of another kernel for that op (the backend's own have 0; every override in a tie is
    refused, naming the others). With ``on_refused`` each refused override is reported as
    ``on_refused(override, plugin, error)`` and the table built without it; without, the first
    refusal raises. The highest priority wins per op.
    """
    dists = distributions or {}
    table = KernelTable(device_type)
    own = type(backend)
    where = f"{own.__module__}:{own.__qualname__}.kernels"
    check_kernels(backend.kernels, device_type, plugin, dists.get(plugin), where)
    usable: list[tuple[Any, str, dict[Any, Any]]] = []
    refused: list[tuple[Any, str, KernelTableError]] = []
    for ov, ov_plugin in overrides:
        try:
            kernels = _override_kernels(ov, ov_plugin, device_type, load, dists.get(ov_plugin))
            usable.append((ov, ov_plugin, kernels))
        except KernelTableError as exc:
            refused.append((ov, ov_plugin, exc))
    ties = _tie_errors(device_type, (plugin, backend.kernels), usable, dists)
    refused += [(ov, p, ties[id(ov)]) for ov, p, _ in usable if id(ov) in ties]
    usable = [u for u in usable if id(u[0]) not in ties]
    if refused and on_refused is None:
        raise refused[0][2]
    for ov, ov_plugin, exc in refused:
        on_refused(ov, ov_plugin, exc)  # type: ignore[misc]
    entries: dict[str, list[tuple[int, str, Callable[..., Any]]]] = {}
    for name, fn in backend.kernels.items():
        entries.setdefault(name, []).append((0, plugin, fn))
    for ov, ov_plugin, kernels in usable:
        for name, fn in kernels.items():
            entries.setdefault(name, []).append((ov.priority, ov_plugin, fn))
    for name, cands in entries.items():
        cands.sort(key=lambda c: -c[0])
        prio, who, fn = cands[0]
        table.kernels[name] = fn
        table.sources[name] = (who, prio)
        table.candidates[name] = [(w, p) for p, w, _ in cands]
    return table


# -- the CPU fallback ----------------------------------------------------------------------
_fallback_global = os.environ.get("EMBER_CPU_FALLBACK", "0").strip() in ("1", "true", "yes")
_fallback_devices: set[str] = set()
_fallback_counts: dict[tuple[str, str], int] = {}
_fallback_warned: set[tuple[str, str]] = set()
#: guards the counts and the warned set: ops fall back from several threads at once
_fallback_lock = threading.Lock()


def set_fallback(enabled: bool, device_type: str | None = None) -> None:
    """Opt in to (or out of) running missing kernels on the cpu backend.

    With ``device_type`` the switch applies to that device type only; without it, to all.
    The environment variable ``EMBER_CPU_FALLBACK=1`` turns it on globally at start-up.
    Each op that falls back warns once and is counted (:func:`fallback_counts`).
    """
    global _fallback_global
    if device_type is None:
        _fallback_global = enabled
        if not enabled:
            _fallback_devices.clear()
    elif enabled:
        _fallback_devices.add(device_type)
    else:
        _fallback_devices.discard(device_type)


def fallback_enabled(device_type: str) -> bool:
    """Whether missing kernels on ``device_type`` may run on the cpu backend."""
    return _fallback_global or device_type in _fallback_devices


def fallback_counts() -> dict[str, int]:
    """How many times each ``"op@device_type"`` ran through the CPU fallback (all threads)."""
    with _fallback_lock:
        return {f"{op}@{dt}": n for (op, dt), n in _fallback_counts.items()}


def reset_fallback_counts() -> None:
    """Zero the fallback counters and re-arm the once-per-op warnings."""
    with _fallback_lock:
        _fallback_counts.clear()
        _fallback_warned.clear()


def kernel_source(op: str, device_type: str) -> tuple[str, int] | None:
    """(plugin, priority) of the kernel that runs ``op`` on ``device_type``, or None."""
    from .registry import registry

    backend = registry.load(device_type)
    return backend.kernel_table.sources.get(op)


def _make_fallback(op: str, device: Any) -> Callable[..., Any]:
    from .device import device as get_device

    cpu = get_device("cpu")
    cpu_kernel = cpu.kernels.get(op)
    if cpu_kernel is None:
        raise KernelNotFoundError(
            f"op {op!r} has no kernel on {device.type!r} and none on cpu to fall back to"
        )
    dev_kernels = device.kernels
    to_host = dev_kernels["to_numpy"]
    from_host = dev_kernels["from_numpy"]
    cpu_from = cpu.kernels["from_numpy"]
    cpu_to = cpu.kernels["to_numpy"]
    native = device.backend.native_type()
    key = (op, device.type)

    def is_buffer(a: Any) -> bool:
        if native is not None:
            return isinstance(a, native)
        return not isinstance(a, (int, float, bool, tuple, list, str, type(None))) and hasattr(a, "shape")

    def run(*args: Any) -> Any:
        with _fallback_lock:
            _fallback_counts[key] = _fallback_counts.get(key, 0) + 1
            first = key not in _fallback_warned
            _fallback_warned.add(key)
        if first:
            warnings.warn(
                f"op {op!r} has no kernel on {device.type!r}; running it on cpu (slow: data is "
                "copied to the host and back). Seen once per op; counts in "
                "ember.dispatch.fallback_counts()",
                RuntimeWarning,
                stacklevel=4,
            )
        host_args = [cpu_from(to_host(a), 0) if is_buffer(a) else a for a in args]
        out = cpu_kernel(*host_args)
        if out is None:  # in-place kernels (copy_): write the result back into the device buffer
            for a, h in zip(args, host_args):
                if is_buffer(a):
                    dev_kernels["copy_"](a, from_host(cpu_to(h), device.index))
                    break
            return None
        if isinstance(out, tuple):
            return tuple(from_host(cpu_to(o), device.index) for o in out)
        return from_host(cpu_to(out), device.index)

    return run


def resolve_missing(op: str, device: Any) -> Callable[..., Any]:
    """The kernel to use when ``op`` has no kernel on ``device``'s table and no composite:
    the CPU fallback if enabled, else KernelNotFoundError naming op, device and remedies."""
    if fallback_enabled(device.type) and device.type != "cpu":
        return _make_fallback(op, device)
    raise KernelNotFoundError(
        f"op {op!r} has no kernel on device type {device.type!r} (backend plugin "
        f"{device.backend.kernel_table.sources.get('to_numpy', ('?',))[0]!r}) and no composite "
        "implementation; remedies: move the tensors to a device that has it (x.to('cpu')), "
        f"enable the CPU fallback (ember.dispatch.set_fallback(True, {device.type!r}) or "
        "EMBER_CPU_FALLBACK=1), or add the kernel to the backend"
    )
