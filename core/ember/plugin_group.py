"""One entry-point group of plugins: discovery, pluggy registration, guarded calls, failure records.

A :class:`PluginGroup` is the machinery every Ember plugin group shares (the device registry's
``ember.backends`` today; communication backends reuse it with their own group, hookspecs and
switches). It finds the group's entry points, applies its switches, imports each plugin, registers
it with pluggy and calls its hooks, and it guarantees that no plugin can break the caller (``import
ember``, ``ember info``) or another plugin: every failure becomes a :class:`PluginFailure` naming the
plugin, its distribution and a remedy. The rules, also in ``docs/architecture.md`` ("Plugin
discovery"):

- **Plugin names.** A plugin is named by its entry point. When several distributions give the group
  an entry point of one name, each is named ``name@distribution`` (``cpu@ember-cpu``), so no outcome
  depends on the order in which entry points are found.
- **One module, one plugin.** Several entry points naming one module are one plugin: the entry point
  of the distribution that owns the module (its ``top_level.txt``) keeps it, the others are refused;
  when no single one owns it, all are refused.
- **Plugin code is guarded** (:func:`guarded`): an exception, ``SystemExit``, or a
  ``KeyboardInterrupt`` the plugin raises itself, while it is imported, registered, asked its hooks or
  loads its implementation, is recorded and the plugin contributes nothing. A Ctrl-C (SIGINT) pressed
  while plugin code runs still interrupts, as everywhere in Python.
- **Switches** (:class:`Switches`): an allow-list and a block-list name plugins by entry-point name,
  ``name@distribution`` or distribution name; an autoload switch turns discovery off.
- **Load times**: each plugin's import, registration and hook calls are timed
  (:attr:`PluginInfo.load_s`), so a slow plugin is named by ``ember info``.

Reuse for another group::

    group = PluginGroup("ember.example", example_hookspecs,
                        Switches("EMBER_EXAMPLES", "EMBER_DISABLE_EXAMPLES", "EMBER_EXAMPLE_AUTOLOAD"))
    for plugin in group.discover():
        for declaration in group.call_hook("ember_examples", plugin):
            ...  # check it; on a problem: group.record_failure(plugin.name, reason, remedy)
    group.failures   # every PluginFailure, for the caller's status report
    group.summary()  # every plugin with its status and load time
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

import pluggy

from .errors import BackendError

__all__ = [
    "PluginExit",
    "PluginFailure",
    "PluginGroup",
    "PluginInfo",
    "Switches",
    "clash_failure",
    "describe",
    "guarded",
    "load_object",
]

T = TypeVar("T")


# -- running plugin code ----------------------------------------------------------------------------
class PluginExit(Exception):
    """Plugin code raised ``SystemExit``, its own ``KeyboardInterrupt`` or another exception that is
    not an ``Exception``; carried as an ordinary exception so that callers record it."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(describe(original))
        self.original = original


def describe(exc: BaseException) -> str:
    """``"ImportError: no libfoo"``: an exception as failure messages show it (a
    :class:`PluginExit` as the exception it carries)."""
    if isinstance(exc, PluginExit):
        exc = exc.original
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _CtrlC:
    """Notes whether the SIGINT handler raised (a Ctrl-C) while the ``with`` block ran.

    Only the main thread receives signals, and only a Python-level handler raises
    ``KeyboardInterrupt``; elsewhere (other threads, SIGINT ignored) every ``KeyboardInterrupt`` was
    raised by code, so nothing is installed there.
    """

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None
        self._handler: Callable[[int, Any], Any] | None = None

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):
            return self

        def on_sigint(signum: int, frame: Any) -> Any:
            try:
                return previous(signum, frame)
            except BaseException:
                self.pressed = True
                raise

        try:
            signal.signal(signal.SIGINT, on_sigint)
        except (ValueError, OSError):  # signals unavailable in this interpreter
            return self
        self._previous, self._handler = previous, on_sigint
        return self

    def __exit__(self, *exc_info: object) -> None:
        # a plugin that installed its own handler keeps it
        if self._handler is not None and signal.getsignal(signal.SIGINT) is self._handler:
            signal.signal(signal.SIGINT, self._previous)


def guarded(fn: Callable[..., T], *args: Any) -> T:
    """Run plugin code: its ``Exception`` passes through; its ``SystemExit``, its own
    ``KeyboardInterrupt`` or any other ``BaseException`` is raised as :class:`PluginExit`, so a
    plugin cannot end the process. A Ctrl-C pressed while it runs raises ``KeyboardInterrupt``
    (even when the plugin caught it): the user interrupts, as everywhere in Python."""
    with _CtrlC() as ctrl_c:
        try:
            result = fn(*args)
        except BaseException as exc:
            if ctrl_c.pressed:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise KeyboardInterrupt from exc
            if isinstance(exc, Exception):
                raise
            raise PluginExit(exc) from exc
    if ctrl_c.pressed:  # the plugin swallowed the user's Ctrl-C
        raise KeyboardInterrupt
    return result


def load_object(path: str) -> Any:
    """The object a ``"module:attribute.path"`` string names, importing the module (unguarded:
    wrap in :func:`guarded` when the module is a plugin's)."""
    module, _, attr = path.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


# -- records ----------------------------------------------------------------------------------------
@dataclass
class PluginFailure:
    """One recorded failure: the plugin, its distribution, what went wrong and what to do.

    ``name`` is what failed when that is not the plugin itself (a device type it declared).
    """

    plugin: str
    distribution: str | None
    reason: str
    remedy: str
    name: str = ""

    @property
    def status(self) -> str:
        """Always ``"failed"`` (as a :class:`ember.registry.BackendRecord` of a failure)."""
        return "failed"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary, shaped like a failed backend's record."""
        return {
            "name": self.name or self.plugin,
            "plugin": self.plugin,
            "distribution": self.distribution,
            "status": "failed",
            "reason": self.reason,
            "remedy": self.remedy,
        }


@dataclass
class PluginInfo:
    """One plugin of a group: where it came from, its status and how long it took to load.

    status: ``"loaded"`` (registered with pluggy), ``"failed"`` (import or registration failed;
    ``reason`` says why) or ``"disabled"`` (by a switch; ``reason`` says which).
    load_s: seconds spent importing it, registering it and calling its hooks.
    """

    name: str
    entry_point: str
    distribution: str | None
    target: str
    status: str = "found"
    reason: str = ""
    load_s: float = 0.0
    plugin: object | None = field(default=None, repr=False)
    dist: importlib.metadata.Distribution | None = field(default=None, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (``ember info``'s plugin list)."""
        d: dict[str, Any] = {
            "name": self.name,
            "entry_point": self.entry_point,
            "distribution": self.distribution,
            "target": self.target,
            "status": self.status,
            "load_s": self.load_s,
        }
        if self.reason:
            d["reason"] = self.reason
        return d


def _label(plugin: str, distribution: str | None) -> str:
    where = f"distribution {distribution}" if distribution else "registered by hand, no distribution"
    return f"plugin {plugin!r} ({where})"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Switches:
    """The environment variables that select a group's plugins.

    allow: comma-separated allow-list; block: comma-separated block-list; autoload: ``0`` turns
    discovery off. A list names a plugin by its entry-point name, its ``name@distribution`` name or
    its distribution name; a caller may accept other names too (the registry's device types).
    """

    allow: str
    block: str
    autoload: str

    @staticmethod
    def _list(var: str) -> set[str] | None:
        raw = os.environ.get(var)
        if raw is None or not raw.strip():
            return None
        return {x.strip() for x in raw.split(",") if x.strip()}

    def allow_list(self) -> set[str] | None:
        """The allow-list, or None when every plugin is allowed."""
        return self._list(self.allow)

    def block_list(self) -> set[str]:
        """The block-list (empty when unset)."""
        return self._list(self.block) or set()

    def autoloading(self) -> bool:
        """Whether discovery runs (the autoload variable is not ``0``/``false``/``no``)."""
        return os.environ.get(self.autoload, "1").strip().lower() not in ("0", "false", "no")

    @staticmethod
    def names(names: set[str] | None, plugin: PluginInfo) -> bool:
        """Whether ``names`` (an allow- or block-list) names ``plugin``."""
        if not names:
            return False
        dist = _canonical(plugin.distribution) if plugin.distribution else None
        return any(n in (plugin.name, plugin.entry_point) or (dist and _canonical(n) == dist) for n in names)

    def why_disabled(self, plugin: PluginInfo) -> str:
        """Why the switches keep ``plugin`` out ("" when they let it in)."""
        if self.names(self.block_list(), plugin):
            return f"blocked by {self.block}"
        allow = self.allow_list()
        if allow is not None and not self.names(allow, plugin):
            return f"not in {self.allow}={os.environ.get(self.allow)}"
        return ""


def clash_failure(
    kind: str, what: str, claimants: list[tuple[str, str | None]], switches: Switches
) -> PluginFailure:
    """The failure of a name (``kind`` ``"device type"``, ``what`` ``"cpu"``) claimed by several
    plugins (``(plugin, distribution)`` pairs): neither is used, every one is named, and the remedy
    says how to choose: uninstall one, or switch the others off by distribution."""
    claimants = sorted(claimants, key=lambda c: (c[1] or "", c[0]))
    shown = " and ".join(_label(p, d) for p, d in claimants)
    who = [d or p for p, d in claimants]
    choose = ", ".join(
        f"{switches.block}={','.join(o for o in who if o != keep)} uses {keep}'s" for keep in who
    )
    reason = (
        f"{kind} {what!r} is declared by {len(claimants)} plugins: {shown}; Ember does not pick one by "
        f"name or install order, so {kind} {what!r} is refused"
    )
    remedy = f"uninstall all but one of {', '.join(who)}, or choose one with the switches: {choose}"
    return PluginFailure(", ".join(p for p, _ in claimants), ", ".join(who), reason, remedy, name=what)


def _owns(dist: importlib.metadata.Distribution | None, module: str) -> bool:
    """Whether ``dist`` installs the top-level package of ``module`` (its top_level.txt or RECORD)."""
    if dist is None:
        return False
    top = module.split(".")[0]
    try:
        listed = dist.read_text("top_level.txt")
        if listed and top in listed.split():
            return True
        return any(f.parts[0] in (top, f"{top}.py") for f in dist.files or ())
    except Exception:  # unreadable metadata owns nothing
        return False


# -- the group --------------------------------------------------------------------------------------
class PluginGroup:
    """The plugins of one entry-point group, registered with one pluggy ``PluginManager``.

    ``plugins`` maps each plugin's name to its :class:`PluginInfo` (in discovery order),
    ``failures`` lists every :class:`PluginFailure`. Nothing here raises because of a plugin,
    except :meth:`register`, which an application calls for a plugin object of its own.
    """

    def __init__(self, group: str, hookspecs: ModuleType, switches: Switches, project: str = "ember") -> None:
        self.group = group
        self.hookspecs = hookspecs
        self.switches = switches
        self.pm = pluggy.PluginManager(project)
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.failures: list[PluginFailure] = []

    # -- failures -----------------------------------------------------------------------------------
    def distribution(self, plugin: str) -> str | None:
        """The distribution of the plugin named ``plugin`` (None if registered by hand or unknown)."""
        info = self.plugins.get(plugin)
        return info.distribution if info is not None else None

    def label(self, plugin: str) -> str:
        """``"plugin 'x' (distribution x-dist)"``, as failure messages name a plugin."""
        return _label(plugin, self.distribution(plugin))

    def remedy(self, plugin: str, fix: str = "") -> str:
        """What a user can do about a failing plugin: ``fix`` (what its author should change), then
        uninstalling or upgrading it, or switching it off."""
        dist = self.distribution(plugin)
        if dist is None:
            return fix or f"fix the plugin registered by hand as {plugin!r}"
        until = f"upgrade or uninstall {dist}, or set {self.switches.block}={plugin} to skip it"
        return f"{fix} (until {dist} is fixed: {until})" if fix else until

    def record_failure(self, plugin: str, reason: str, remedy: str = "", name: str = "") -> PluginFailure:
        """Record a failure of ``plugin`` (``name``: what failed, if not the plugin itself)."""
        failure = PluginFailure(
            plugin, self.distribution(plugin), reason, remedy or self.remedy(plugin), name
        )
        self.failures.append(failure)
        return failure

    def _fail(self, info: PluginInfo, reason: str, remedy: str = "") -> None:
        info.status, info.reason = "failed", reason
        self.record_failure(info.name, reason, remedy)

    # -- discovery ----------------------------------------------------------------------------------
    def _entry_points(self) -> list[importlib.metadata.EntryPoint]:
        try:
            found = list(importlib.metadata.entry_points(group=self.group))
        except Exception:  # one distribution's unreadable entry_points.txt: read them one by one
            found = self._entry_points_one_by_one()

        def key(ep: importlib.metadata.EntryPoint) -> tuple[str, str]:
            return ep.name, self._dist_name(ep.dist) or ""

        return sorted(found, key=key)

    def _entry_points_one_by_one(self) -> list[importlib.metadata.EntryPoint]:
        found: list[importlib.metadata.EntryPoint] = []
        seen: set[str] = set()
        for dist in importlib.metadata.distributions():
            name = self._dist_name(dist)
            if name is None or _canonical(name) in seen:  # the first on sys.path wins, as in entry_points()
                continue
            seen.add(_canonical(name))
            try:
                found.extend(ep for ep in dist.entry_points if ep.group == self.group)
            except Exception as exc:
                try:
                    ours = f"[{self.group}]" in (dist.read_text("entry_points.txt") or "")
                except Exception:
                    ours = False
                if ours:
                    self.failures.append(
                        PluginFailure(
                            name,
                            name,
                            f"distribution {name} has an entry_points.txt that cannot be read "
                            f"({describe(exc)}), so its {self.group} plugins were not loaded",
                            f"reinstall or uninstall {name}",
                        )
                    )
        return found

    @staticmethod
    def _dist_name(dist: importlib.metadata.Distribution | None) -> str | None:
        try:
            return dist.name if dist is not None else None
        except Exception:  # unreadable METADATA
            return None

    def discover(self) -> list[PluginInfo]:
        """Import and register every plugin of the group the switches let in, recording every
        failure; returns the registered plugins in name order (their hooks not called yet)."""
        if not self.switches.autoloading():
            return []
        eps = self._entry_points()
        shared = Counter(ep.name for ep in eps)
        found: list[tuple[PluginInfo, importlib.metadata.EntryPoint]] = []
        for ep in eps:
            dist = self._dist_name(ep.dist)
            name = f"{ep.name}@{dist or ep.value}" if shared[ep.name] > 1 else ep.name
            info = PluginInfo(name, ep.name, dist, ep.value, dist=ep.dist)
            self.plugins[name] = info
            why = self.switches.why_disabled(info)
            if why:
                info.status, info.reason = "disabled", why
                self.pm.set_blocked(name)
                continue
            found.append((info, ep))
        imported: list[PluginInfo] = []
        for info, ep in found:
            start = time.perf_counter()
            try:
                info.plugin = guarded(ep.load)
                imported.append(info)
            except Exception as exc:  # a broken plugin must not break the caller
                self._fail(
                    info,
                    f"plugin {info.name!r} ({info.distribution}) failed to import: {describe(exc)}",
                    self.remedy(info.name, f"reinstall {info.distribution or info.target}"),
                )
            info.load_s += time.perf_counter() - start
        by_object: dict[int, list[PluginInfo]] = {}
        for info in imported:
            by_object.setdefault(id(info.plugin), []).append(info)
        for infos in by_object.values():
            if len(infos) > 1:
                self._settle_shared_module(infos)
        loaded = []
        for info in imported:
            if info.status != "found":
                continue
            start = time.perf_counter()
            self._register(info)
            info.load_s += time.perf_counter() - start
            if info.status == "loaded":
                loaded.append(info)
        return loaded

    def _settle_shared_module(self, infos: list[PluginInfo]) -> None:
        """Several entry points name one module: its owner's keeps it, the others are refused."""
        plugin = infos[0].plugin
        module = plugin.__name__ if isinstance(plugin, ModuleType) else infos[0].target.partition(":")[0]
        owners = [i for i in infos if _owns(i.dist, module)]
        keep = owners[0] if len(owners) == 1 else None
        others = ", ".join(f"{i.name!r} ({i.distribution})" for i in infos)
        for info in infos:
            if info is keep:
                continue
            if keep is not None:
                reason = (
                    f"plugin {info.name!r} (distribution {info.distribution}) names {info.target} in its "
                    f"{self.group} entry point, the module of plugin {keep.name!r} (distribution "
                    f"{keep.distribution}); one module is one plugin, so {info.name!r} was not registered"
                )
                fix = f"{info.distribution}'s entry point must name a module of its own"
            else:
                reason = (
                    f"entry points {others} of the {self.group} group all name module {module}, which "
                    "none of them alone installs; one module is one plugin, so none was registered"
                )
                fix = "uninstall all but one of those distributions"
            self._fail(info, reason, self.remedy(info.name, fix))

    def _register(self, info: PluginInfo) -> None:
        """Register ``info.plugin`` with pluggy, recording a refusal and unknown hook names."""
        try:
            guarded(self.pm.register, info.plugin, info.name)
        except pluggy.PluginValidationError as exc:
            hook = re.search(r"for hook '(\w+)'", str(exc))
            spec = getattr(self.hookspecs, hook.group(1), None) if hook else None
            params = ", ".join(inspect.signature(spec).parameters) if spec is not None else ""
            fix = (
                f"write it as `def {spec.__name__}({params})` "
                f"({self.hookspecs.__name__} documents every hook)"
                if spec is not None
                else f"match the hooks of {self.hookspecs.__name__}"
            )
            self._fail(
                info,
                f"{self.label(info.name)} implements a hook with a signature pluggy refuses: "
                + "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()),
                self.remedy(info.name, fix),
            )
            return
        except Exception as exc:  # the same object or name twice, or a hostile plugin object
            self._fail(
                info,
                f"{self.label(info.name)} could not be registered: {describe(exc)}",
                self.remedy(info.name),
            )
            return
        info.status = "loaded"

    def register(self, plugin: object, name: str, distribution: str | None = None) -> PluginInfo | None:
        """Register a plugin object by hand (an application's or a test's own); returns its
        :class:`PluginInfo`, or None when the switches block ``name``.

        Raises :class:`~ember.errors.BackendError` when the name or the object is registered
        already, or pluggy refuses a hook implementation (also recorded as a failure).
        """
        if self.pm.is_blocked(name):
            return None
        if self.pm.get_plugin(name) is not None:
            raise BackendError(f"a plugin named {name!r} is already registered")
        info = PluginInfo(name, name, distribution, "registered by hand", plugin=plugin)
        self.plugins[name] = info
        start = time.perf_counter()
        self._register(info)
        info.load_s = time.perf_counter() - start
        if info.status != "loaded":
            del self.plugins[name]
            raise BackendError(f"{info.reason}; remedy: {self.failures[-1].remedy}")
        return info

    # -- hooks --------------------------------------------------------------------------------------
    def call_hook(self, hook: str, info: PluginInfo) -> list[Any]:
        """What ``info``'s implementation of ``hook`` returns (a list; None counts as empty). A
        plugin that raises (anything but a Ctrl-C) or returns something else is recorded as
        failed and contributes nothing; the time taken is added to its load time."""
        start = time.perf_counter()
        out: list[Any] = []
        try:
            for impl in getattr(self.pm.hook, hook).get_hookimpls():
                if impl.plugin is not info.plugin:
                    continue
                try:
                    result = guarded(impl.function)
                except Exception as exc:
                    self.record_failure(
                        info.name,
                        f"plugin {info.name!r} ({info.distribution}) raised in {hook}(): {describe(exc)}",
                    )
                    continue
                if result is None:
                    continue
                if not isinstance(result, (list, tuple)):
                    self.record_failure(
                        info.name,
                        f"{self.label(info.name)} returned {_short(result)} from {hook}(), not a list",
                        self.remedy(info.name, f"return a list from {hook}()"),
                    )
                    continue
                out.extend(result)
        finally:
            info.load_s += time.perf_counter() - start
        return out

    def summary(self) -> list[dict[str, Any]]:
        """Every plugin with its status and load time, in discovery order."""
        return [info.as_dict() for info in self.plugins.values()]


def _short(obj: object) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."
