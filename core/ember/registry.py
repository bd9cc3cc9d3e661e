"""The device registry: plugin discovery with pluggy, lazy backend loading, status reporting.

At ``import ember`` the registry loads every ``ember.backends`` entry point (honouring the
``EMBER_BACKENDS`` allow-list, the ``EMBER_DISABLE_BACKENDS`` block-list and
``EMBER_BACKEND_AUTOLOAD=0``), registers each module with pluggy and asks it for its
declarations. Nothing heavy is imported: a backend's implementation is imported and constructed
the first time one of its devices is used. Every failure (import, hook, API version, name clash,
construction, a kernel table naming a kernel no op dispatches to) is recorded and re-raised,
with the plugin's name and a remedy, when the device is used; it never breaks ``import ember``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from . import hookspecs
from .backend import Backend, BackendUnavailable
from .errors import BackendError

__all__ = ["BackendRecord", "Registry", "registry", "backends", "reload", "register_plugin"]

ENTRY_POINT_GROUP = "ember.backends"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class BackendRecord:
    """What the registry knows about one plugin or device type.

    status is one of ``"declared"`` (found, not loaded yet), ``"available"``,
    ``"unavailable"`` (the backend says it cannot run here; ``reason`` says why),
    ``"failed"`` (an error; ``reason`` has it) and ``"disabled"`` (switched off by environment).
    """

    name: str
    plugin: str
    distribution: str | None
    status: str
    reason: str = ""
    remedy: str = ""
    declaration: hookspecs.BackendDeclaration | None = None
    backend: Backend | None = None
    overrides: list[tuple[hookspecs.KernelOverride, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (used by ``ember.backends()`` and ``ember info``)."""
        d: dict[str, Any] = {
            "name": self.name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "status": self.status,
        }
        if self.reason:
            d["reason"] = self.reason
        if self.remedy:
            d["remedy"] = self.remedy
        if self.declaration is not None:
            d["description"] = self.declaration.description
        if self.backend is not None:
            b = self.backend
            d["devices"] = [{"index": i, **b.device_properties(i)} for i in range(b.device_count())]
        return d


def _env_list(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    return {x.strip() for x in raw.split(",") if x.strip()}


def _load_object(path: str) -> Any:
    module, _, attr = path.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


class Registry:
    """All discovered backends by device type, plus plugin-level failures."""

    def __init__(self) -> None:
        self.records: dict[str, BackendRecord] = {}
        self.plugin_failures: list[BackendRecord] = []
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._lock = threading.RLock()
        self._pending_overrides: list[tuple[hookspecs.KernelOverride, str]] = []
        #: plugin name -> its distribution, for the messages of kernel-table checks
        self._distributions: dict[str, str | None] = {}

    # -- discovery ---------------------------------------------------------------------------
    def discover(self) -> None:
        """Load entry points and collect declarations, recording every failure."""
        allow = _env_list("EMBER_BACKENDS")
        block = _env_list("EMBER_DISABLE_BACKENDS") or set()
        if os.environ.get("EMBER_BACKEND_AUTOLOAD", "1").strip() in ("0", "false", "no"):
            return
        for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else None
            if ep.name in block or (allow is not None and ep.name not in allow):
                self.pm.set_blocked(ep.name)
                why = (
                    "blocked by EMBER_DISABLE_BACKENDS"
                    if ep.name in block
                    else f"not in EMBER_BACKENDS={os.environ.get('EMBER_BACKENDS')}"
                )
                self.records.setdefault(ep.name, BackendRecord(ep.name, ep.name, dist, "disabled", why))
                continue
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not break import ember
                self.plugin_failures.append(
                    BackendRecord(
                        ep.name,
                        ep.name,
                        dist,
                        "failed",
                        f"plugin {ep.name!r} ({dist}) failed to import: {type(exc).__name__}: {exc}",
                        f"reinstall or uninstall {dist or ep.value}",
                    )
                )
                continue
            self._register(module, ep.name, dist)

    def register_plugin(self, plugin: object, name: str, distribution: str | None = None) -> None:
        """Register a plugin object (module or instance with hook implementations) and collect
        its declarations. Used directly by tests and embedding applications.

        A kernel override for a device type already in use is merged at once; one that its
        table check refuses is recorded as the plugin's failure, leaves the device's table as it
        was, and raises :class:`~ember.errors.BackendError` with the reason and the remedy.
        """
        refused = self._register(plugin, name, distribution)
        if refused:
            raise BackendError(" | ".join(refused))

    def _register(self, plugin: object, name: str, distribution: str | None) -> list[str]:
        """Register and collect (see :meth:`register_plugin`); returns the messages of refused
        overrides instead of raising, so discovery never raises for them."""
        with self._lock:
            if self.pm.is_blocked(name):
                return []
            if self.pm.get_plugin(name) is not None:
                raise BackendError(f"a plugin named {name!r} is already registered")
            self.pm.register(plugin, name=name)
            self._distributions[name] = distribution
            return self._collect(plugin, name, distribution)

    def _hook_results(self, hook: str, plugin: object, name: str, dist: str | None) -> list[Any]:
        """What ``plugin``'s implementation of ``hook`` returns; a raising plugin is recorded as
        failed (its error never propagates) and contributes nothing."""
        out: list[Any] = []
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            if impl.plugin is not plugin:
                continue
            try:
                out.extend(impl.function() or [])
            except Exception as exc:
                reason = f"plugin {name!r} ({dist}) raised in {hook}(): {type(exc).__name__}: {exc}"
                self.plugin_failures.append(BackendRecord(name, name, dist, "failed", reason))
        return out

    def _collect(self, plugin: object, name: str, dist: str | None) -> list[str]:
        """Collect ``plugin``'s declarations and overrides; returns the messages of overrides
        refused for device types already in use (each also recorded as a plugin failure)."""
        allow = _env_list("EMBER_BACKENDS")
        block = _env_list("EMBER_DISABLE_BACKENDS") or set()
        refused: list[str] = []
        for decl in self._hook_results("ember_backends", plugin, name, dist):
            self._add_declaration(decl, name, dist, allow, block)
        for ov in self._hook_results("ember_kernel_overrides", plugin, name, dist):
            self._pending_overrides.append((ov, name))
            rec = self.records.get(ov.device_type)
            if rec is not None and rec.backend is not None:
                msg = self._rebuild_table(rec, ov, name, dist)
                if msg:
                    refused.append(msg)
        return refused

    def _rebuild_table(
        self, rec: BackendRecord, ov: hookspecs.KernelOverride, plugin: str, dist: str | None
    ) -> str:
        """Merge a newly declared override into a loaded backend's table, in place: devices (and
        tensors) already made keep working and see the new kernels. An override the table build
        refuses is withdrawn and recorded as ``plugin``'s failure, the table left as it was;
        returns that failure's message ("" when merged)."""
        from .dispatch import KernelTableError, build_kernel_table

        assert rec.backend is not None
        overrides = [(o, p) for o, p in self._pending_overrides if o.device_type == rec.name]
        try:
            fresh = build_kernel_table(
                rec.name, rec.backend, rec.plugin, overrides, _load_object, self._distributions
            )
        except Exception as exc:
            self._pending_overrides = [(o, p) for o, p in self._pending_overrides if o is not ov]
            reason = exc.reason if isinstance(exc, KernelTableError) else f"{type(exc).__name__}: {exc}"
            remedy = exc.remedy if isinstance(exc, KernelTableError) else ""
            reason = f"kernel override {ov.kernels!r} for {rec.name!r} refused: {reason}"
            self.plugin_failures.append(BackendRecord(plugin, plugin, dist, "failed", reason, remedy))
            return reason + (f"; remedy: {remedy}" if remedy else "")
        rec.overrides = overrides
        table = rec.backend.kernel_table
        table.kernels.clear()
        table.kernels.update(fresh.kernels)
        table.sources, table.candidates = fresh.sources, fresh.candidates

    def _add_declaration(
        self,
        decl: hookspecs.BackendDeclaration,
        plugin: str,
        dist: str | None,
        allow: set[str] | None,
        block: set[str],
    ) -> None:
        dtype = getattr(decl, "device_type", None)
        if not isinstance(decl, hookspecs.BackendDeclaration) or not isinstance(dtype, str):
            self.plugin_failures.append(
                BackendRecord(
                    plugin,
                    plugin,
                    dist,
                    "failed",
                    f"plugin {plugin!r} returned {decl!r} from ember_backends(); expected BackendDeclaration",
                )
            )
            return
        if not _NAME_RE.match(dtype):
            self.plugin_failures.append(
                BackendRecord(
                    dtype,
                    plugin,
                    dist,
                    "failed",
                    f"plugin {plugin!r} declares an invalid device type {dtype!r} "
                    "(use lowercase letters, digits and _)",
                )
            )
            return
        if decl.api_version != hookspecs.BACKEND_API_VERSION:
            self.records[dtype] = BackendRecord(
                dtype,
                plugin,
                dist,
                "failed",
                f"plugin {plugin!r} ({dist}) was written for Ember backend API "
                f"{decl.api_version}, this Ember speaks API {hookspecs.BACKEND_API_VERSION}",
                f"upgrade {dist or plugin} (or Ember) so both speak the same API",
                decl,
            )
            return
        existing = self.records.get(dtype)
        if existing is not None and existing.declaration is not None:
            reason = (
                f"device type {dtype!r} is declared by two plugins: {existing.plugin!r} "
                f"(distribution {existing.distribution}) and {plugin!r} (distribution {dist}); "
                "the second was refused"
            )
            self.plugin_failures.append(
                BackendRecord(
                    dtype, plugin, dist, "failed", reason, f"uninstall one of {existing.distribution}, {dist}"
                )
            )
            return
        if dtype in block or (allow is not None and dtype not in allow):
            self.records[dtype] = BackendRecord(
                dtype,
                plugin,
                dist,
                "disabled",
                "switched off by EMBER_BACKENDS/EMBER_DISABLE_BACKENDS",
                "",
                decl,
            )
            return
        self.records[dtype] = BackendRecord(dtype, plugin, dist, "declared", "", decl.remedy, decl)

    # -- loading -----------------------------------------------------------------------------
    def load(self, device_type: str) -> Backend:
        """The backend implementation for ``device_type``, importing it on first use.

        Raises :class:`ember.errors.BackendError` naming the plugin, the reason and the remedy.
        """
        rec = self.records.get(device_type)
        if rec is not None and rec.backend is not None:
            return rec.backend
        with self._lock:
            if rec is None:
                raise BackendError(self._unknown_message(device_type))
            if rec.status == "declared" or (rec.status == "available" and rec.backend is None):
                self._construct(rec)
            if rec.backend is None:
                raise BackendError(self._unusable_message(rec))
            return rec.backend

    def _construct(self, rec: BackendRecord) -> None:
        assert rec.declaration is not None
        try:
            target = _load_object(rec.declaration.implementation)
            backend = target()
            if not isinstance(backend, Backend):
                raise TypeError(
                    f"{rec.declaration.implementation} made a {type(backend).__name__}, "
                    "not an ember.backend.Backend"
                )
        except BackendUnavailable as exc:
            rec.status, rec.reason = "unavailable", exc.reason
            rec.remedy = exc.remedy or rec.remedy
            return
        except Exception as exc:
            rec.status = "failed"
            rec.reason = (
                f"plugin {rec.plugin!r} ({rec.distribution}) failed to initialise "
                f"{rec.declaration.implementation}: {type(exc).__name__}: {exc}"
            )
            return
        from .dispatch import KernelTableError, build_kernel_table

        rec.overrides = [(ov, p) for ov, p in self._pending_overrides if ov.device_type == rec.name]
        try:
            backend.kernel_table = build_kernel_table(
                rec.name, backend, rec.plugin, rec.overrides, _load_object, self._distributions
            )
        except KernelTableError as exc:  # a name no op dispatches to, or a non-callable kernel
            rec.status, rec.reason, rec.remedy = "failed", exc.reason, exc.remedy
            return
        except Exception as exc:
            rec.status, rec.reason = "failed", f"building the kernel table of {rec.name!r}: {exc}"
            return
        rec.backend = backend
        rec.status = "available"

    def _unknown_message(self, device_type: str) -> str:
        known = ", ".join(sorted(self.records)) or "none"
        extra = {"cpu": "cpu", "opencl": "opencl", "cuda": "cuda"}.get(device_type)
        remedy = (
            f"install it with: pip install 'ember[{extra}]'"
            if extra
            else "install the plugin package that provides it"
        )
        msg = f"unknown device type {device_type!r}; installed backends: {known}; {remedy}"
        fails = [f.reason for f in self.plugin_failures]
        if fails:
            msg += "; plugin errors: " + " | ".join(fails)
        return msg

    def _unusable_message(self, rec: BackendRecord) -> str:
        what = {"unavailable": "is unavailable", "failed": "failed", "disabled": "is disabled"}.get(
            rec.status, rec.status
        )
        msg = f"backend {rec.name!r} (plugin {rec.plugin!r}) {what}: {rec.reason}"
        if rec.remedy:
            msg += f"; remedy: {rec.remedy}"
        return msg

    def summary(self, load: bool = True) -> list[dict[str, Any]]:
        """Every backend's record as a dict; with ``load`` each declared backend is constructed
        first so its status is known."""
        out = []
        for name in sorted(self.records):
            rec = self.records[name]
            if load and rec.status == "declared":
                try:
                    self.load(name)
                except BackendError:
                    pass
            out.append(rec.as_dict())
        out.extend(f.as_dict() for f in self.plugin_failures)
        return out


registry = Registry()


def reload() -> Registry:
    """Discard all state and discover plugins again (for tests and after installing a plugin)."""
    global registry
    from . import device as _device

    registry = Registry()
    registry.discover()
    _device.clear_cache()
    return registry


def get_registry() -> Registry:
    """The current registry."""
    return registry


def register_plugin(plugin: object, name: str, distribution: str | None = None) -> None:
    """Register a plugin object by hand (outside entry points). Its device types become usable,
    and its kernel overrides take effect at once, also for devices already in use."""
    registry.register_plugin(plugin, name, distribution)


def backends() -> list[dict[str, Any]]:
    """Every discovered backend with its status (available / unavailable / failed / disabled),
    reason, remedy and devices. Loads each declared backend to learn its status."""
    return registry.summary(load=True)
