"""The device registry: plugin discovery with pluggy, lazy backend loading, status reporting.

At ``import ember`` the registry discovers the ``ember.backends`` plugins through a
:class:`~ember.plugin_group.PluginGroup` (honouring the ``EMBER_BACKENDS`` allow-list, the
``EMBER_DISABLE_BACKENDS`` block-list and ``EMBER_BACKEND_AUTOLOAD=0``) and asks each for its
declarations. Nothing heavy is imported: a backend's implementation is imported and constructed
the first time one of its devices is used. Every failure (import, registration, hook, API
version, a device type declared by several plugins, construction, a kernel table naming a kernel
no op dispatches to, a broken kernel override) is recorded with the plugin's name, its
distribution and a remedy, and re-raised when the device is used; no plugin breaks ``import
ember`` or another plugin's device.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import hookspecs
from .backend import Backend, BackendUnavailable
from .errors import BackendError
from .plugin_group import (
    PluginFailure,
    PluginGroup,
    PluginInfo,
    Switches,
    clash_failure,
    describe,
    guarded,
    load_object,
)

__all__ = ["BackendRecord", "Registry", "registry", "backends", "reload", "register_plugin"]

ENTRY_POINT_GROUP = "ember.backends"
#: the switches of ember.backends plugins; EMBER_BACKENDS and EMBER_DISABLE_BACKENDS also name
#: device types
SWITCHES = Switches("EMBER_BACKENDS", "EMBER_DISABLE_BACKENDS", "EMBER_BACKEND_AUTOLOAD")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class BackendRecord:
    """What the registry knows about one plugin or device type.

    status is one of ``"declared"`` (found, not loaded yet), ``"available"``,
    ``"unavailable"`` (the backend says it cannot run here; ``reason`` says why),
    ``"failed"`` (an error; ``reason`` has it) and ``"disabled"`` (switched off by environment).
    init_s: seconds its first use took (importing and constructing the backend, building its
    kernel table); None until then.
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
    init_s: float | None = None

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
        if self.init_s is not None:
            d["init_s"] = self.init_s
        if self.backend is not None:
            b = self.backend
            try:
                d["devices"] = guarded(
                    lambda: [{"index": i, **b.device_properties(i)} for i in range(b.device_count())]
                )
            except Exception as exc:  # a backend that cannot list its devices must not break ember info
                d["devices"] = []
                d["reason"] = f"listing its devices failed: {describe(exc)}"
        return d


def _load_plugin_object(path: str) -> Any:
    """A plugin's ``"module:attribute"``, imported as plugin code (see :func:`guarded`)."""
    return guarded(load_object, path)


class Registry:
    """All discovered backends by device type, plus plugin-level failures."""

    def __init__(self) -> None:
        self.records: dict[str, BackendRecord] = {}
        #: the ember.backends plugins: how each loaded (status, load time) and every failure
        self.plugins = PluginGroup(ENTRY_POINT_GROUP, hookspecs, SWITCHES)
        self.pm = self.plugins.pm
        self._lock = threading.RLock()
        self._pending_overrides: list[tuple[hookspecs.KernelOverride, str]] = []

    @property
    def plugin_failures(self) -> list[PluginFailure]:
        """Every failure recorded against a plugin rather than one of its device types."""
        return self.plugins.failures

    @property
    def _distributions(self) -> dict[str, str | None]:
        """plugin name -> its distribution, for the messages of kernel-table checks"""
        return {name: info.distribution for name, info in self.plugins.plugins.items()}

    # -- discovery ---------------------------------------------------------------------------
    def discover(self) -> None:
        """Load entry points and collect declarations, recording every failure. A device type
        declared by several plugins is refused naming them all, whatever their order."""
        claims: dict[str, list[tuple[hookspecs.BackendDeclaration, PluginInfo]]] = {}
        for info in self.plugins.discover():
            self._collect(info, claims)
        for info in self.plugins.plugins.values():
            if info.status == "disabled":
                self.records.setdefault(
                    info.entry_point,
                    BackendRecord(info.entry_point, info.name, info.distribution, "disabled", info.reason),
                )
        for dtype, dtype_claims in claims.items():
            self._settle(dtype, dtype_claims)

    def register_plugin(self, plugin: object, name: str, distribution: str | None = None) -> None:
        """Register a plugin object (module or instance with hook implementations) and collect
        its declarations. Used directly by tests and embedding applications.

        Raises :class:`~ember.errors.BackendError` with the reason and the remedy when the name
        or the object is registered already, when pluggy refuses a hook implementation, when it
        declares a device type that is declared already (the existing one is kept), and when a
        kernel override for a device type already in use is refused by its table check (the
        device's table is left as it was). Each refusal is also recorded as the plugin's failure.
        """
        refused = self._register(plugin, name, distribution)
        if refused:
            raise BackendError(" | ".join(refused))

    def _register(self, plugin: object, name: str, distribution: str | None) -> list[str]:
        """Register and collect (see :meth:`register_plugin`); returns the messages of refused
        declarations and overrides instead of raising."""
        with self._lock:
            info = self.plugins.register(plugin, name, distribution)
            if info is None:  # blocked by EMBER_DISABLE_BACKENDS
                return []
            claims: dict[str, list[tuple[hookspecs.BackendDeclaration, PluginInfo]]] = {}
            overrides = self._collect(info, claims)
            refused: list[str] = []
            for dtype, dtype_claims in claims.items():
                if dtype in self.records:
                    refused.append(self._refuse_declaration(dtype, info))
                else:
                    self._settle(dtype, dtype_claims)
            for ov in overrides:
                rec = self.records.get(ov.device_type)
                if rec is not None and rec.backend is not None:
                    msg = self._rebuild_table(rec, ov, name)
                    if msg:
                        refused.append(msg)
            return refused

    def _collect(
        self, info: PluginInfo, claims: dict[str, list[tuple[hookspecs.BackendDeclaration, PluginInfo]]]
    ) -> list[hookspecs.KernelOverride]:
        """Ask a plugin for its declarations (added to ``claims`` by device type once the checks
        that need no other plugin pass) and its kernel overrides (queued for their device types,
        and returned)."""
        for decl in self.plugins.call_hook("ember_backends", info):
            dtype = self._checked_device_type(decl, info.name)
            if dtype is not None:
                claims.setdefault(dtype, []).append((decl, info))
        overrides = []
        for ov in self.plugins.call_hook("ember_kernel_overrides", info):
            if not isinstance(ov, hookspecs.KernelOverride):
                self.plugins.record_failure(
                    info.name,
                    f"plugin {info.name!r} returned {ov!r} from ember_kernel_overrides(); "
                    "expected KernelOverride",
                    self.plugins.remedy(info.name, "return a list of ember.KernelOverride"),
                )
                continue
            self._pending_overrides.append((ov, info.name))
            overrides.append(ov)
        return overrides

    def _checked_device_type(self, decl: Any, plugin: str) -> str | None:
        """The device type ``decl`` declares, or None (recorded) if it is no declaration or the
        name is invalid."""
        dtype = getattr(decl, "device_type", None)
        if not isinstance(decl, hookspecs.BackendDeclaration) or not isinstance(dtype, str):
            self.plugins.record_failure(
                plugin,
                f"plugin {plugin!r} returned {decl!r} from ember_backends(); expected BackendDeclaration",
                self.plugins.remedy(plugin, "return a list of ember.BackendDeclaration"),
            )
            return None
        if not _NAME_RE.match(dtype):
            self.plugins.record_failure(
                plugin,
                f"plugin {plugin!r} declares an invalid device type {dtype!r} "
                "(use lowercase letters, digits and _)",
                self.plugins.remedy(plugin, f"rename device type {dtype!r}"),
                name=dtype,
            )
            return None
        return dtype

    def _settle(self, dtype: str, claims: list[tuple[hookspecs.BackendDeclaration, PluginInfo]]) -> None:
        """The record of ``dtype`` from every plugin that declares it: disabled when the switches
        leave none of them on, refused when several are on (naming all, so neither name nor
        install order picks one), refused on an API version mismatch, else declared."""
        allow, block = SWITCHES.allow_list(), SWITCHES.block_list()
        on = [
            (decl, info)
            for decl, info in claims
            if dtype not in block and (allow is None or dtype in allow or SWITCHES.names(allow, info))
        ]
        if not on:
            decl, info = claims[0]
            self.records[dtype] = BackendRecord(
                dtype,
                info.name,
                info.distribution,
                "disabled",
                f"switched off by {SWITCHES.allow}/{SWITCHES.block}",
                "",
                decl,
            )
            return
        if len(on) > 1:
            clash = clash_failure("device type", dtype, [(i.name, i.distribution) for _, i in on], SWITCHES)
            self.records[dtype] = BackendRecord(
                dtype, clash.plugin, clash.distribution, "failed", clash.reason, clash.remedy
            )
            return
        decl, info = on[0]
        plugin, dist = info.name, info.distribution
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
        self.records[dtype] = BackendRecord(dtype, plugin, dist, "declared", "", decl.remedy, decl)

    def _refuse_declaration(self, dtype: str, info: PluginInfo) -> str:
        """A plugin registered by hand declares a device type that exists: the existing one is
        kept (it may be in use); the refusal is recorded and its message returned."""
        existing = self.records[dtype]
        failure = self.plugins.record_failure(
            info.name,
            f"{self.plugins.label(info.name)} declares device type {dtype!r}, which plugin "
            f"{existing.plugin!r} (distribution {existing.distribution}) provides already; "
            f"{info.name!r}'s declaration was refused",
            f"declare another device type, or switch the other plugin off "
            f"({SWITCHES.block}={existing.distribution or existing.plugin}) or uninstall it",
            name=dtype,
        )
        return f"{failure.reason}; remedy: {failure.remedy}"

    def _refuse_override(
        self, dtype: str, ov: hookspecs.KernelOverride, plugin: str, exc: Exception
    ) -> PluginFailure:
        """Withdraw a kernel override its device type's table refused, recorded as ``plugin``'s
        failure; the device type keeps working with its other kernels."""
        from .dispatch import KernelTableError

        self._pending_overrides = [(o, p) for o, p in self._pending_overrides if o is not ov]
        if isinstance(exc, KernelTableError):
            reason, remedy = exc.reason, exc.remedy
        else:
            reason, remedy = describe(exc), self.plugins.remedy(plugin)
        return self.plugins.record_failure(
            plugin,
            f"kernel override {ov.kernels!r} for {dtype!r} refused: {reason}; {dtype!r} works without it",
            remedy,
        )

    def _build_table(
        self, rec: BackendRecord, backend: Backend
    ) -> tuple[Any, list[tuple[Any, str, Exception]]]:
        """The kernel table of ``backend`` with every override queued for its device type, and
        the overrides the build refused (``(override, plugin, error)``), which are left out."""
        from .dispatch import build_kernel_table

        overrides = [(ov, p) for ov, p in self._pending_overrides if ov.device_type == rec.name]
        refused: list[tuple[Any, str, Exception]] = []
        table = guarded(
            lambda: build_kernel_table(
                rec.name,
                backend,
                rec.plugin,
                overrides,
                _load_plugin_object,
                self._distributions,
                on_refused=lambda ov, p, exc: refused.append((ov, p, exc)),
            )
        )
        rec.overrides = [(ov, p) for ov, p in overrides if all(ov is not r[0] for r in refused)]
        return table, refused

    def _rebuild_table(self, rec: BackendRecord, ov: hookspecs.KernelOverride, plugin: str) -> str:
        """Merge a newly declared override into a loaded backend's table, in place: devices (and
        tensors) already made keep working and see the new kernels. An override the table build
        refuses is withdrawn and recorded as ``plugin``'s failure, the table left as it was;
        returns that failure's message ("" when merged)."""
        assert rec.backend is not None
        kept = rec.overrides
        try:
            fresh, refused = self._build_table(rec, rec.backend)
            error = next((exc for o, _, exc in refused if o is ov), None)
        except Exception as exc:
            error = exc
        if error is not None:
            rec.overrides = kept
            failure = self._refuse_override(rec.name, ov, plugin, error)
            return f"{failure.reason}; remedy: {failure.remedy}"
        table = rec.backend.kernel_table
        # update before removing (never clear first): ops running in other threads meanwhile
        # find every kernel, the old one or the new
        table.kernels.update(fresh.kernels)
        for name in [n for n in table.kernels if n not in fresh.kernels]:
            del table.kernels[name]
        table.sources, table.candidates = fresh.sources, fresh.candidates
        return ""

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
                start = time.perf_counter()
                self._construct(rec)
                rec.init_s = time.perf_counter() - start
            if rec.backend is None:
                raise BackendError(self._unusable_message(rec))
            return rec.backend

    def _construct(self, rec: BackendRecord) -> None:
        assert rec.declaration is not None
        try:
            target = _load_plugin_object(rec.declaration.implementation)
            backend = guarded(target)
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
                f"{rec.declaration.implementation}: {describe(exc)}"
            )
            rec.remedy = rec.remedy or self.plugins.remedy(rec.plugin)
            return
        from .dispatch import KernelTableError

        try:
            backend.kernel_table, refused = self._build_table(rec, backend)
        except KernelTableError as exc:  # the backend's own table names a kernel no op dispatches to
            rec.status, rec.reason, rec.remedy = "failed", exc.reason, exc.remedy
            return
        except Exception as exc:
            rec.status, rec.reason = "failed", f"building the kernel table of {rec.name!r}: {describe(exc)}"
            rec.remedy = self.plugins.remedy(rec.plugin)
            return
        for ov, plugin, exc in refused:  # a broken override is dropped; the device works without it
            self._refuse_override(rec.name, ov, plugin, exc)
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
