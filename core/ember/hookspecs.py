"""The plugin contract: every hook an Ember backend plugin may implement.

Plugins are found through the ``ember.backends`` entry-point group and registered with pluggy.
Hooks are called **once**, when Ember builds its registry (at ``import ember`` or on
:func:`ember.registry.reload`). They only *declare* things and must be cheap: no heavy imports
(cupy, pyopencl) and no device work. The heavy part of a backend is named by a
``"module:attribute"`` string and imported on first use of its device.

No per-op path goes through a hook: kernels end up in plain dictionaries (see
:mod:`ember.dispatch`). What a backend implementation may offer besides its kernels (device
queries, the profiler's device trace, ``compile_graph`` for ``ember.compile``'s captured graphs)
are optional methods of :class:`ember.backend.Backend`, documented there, not hooks. A hook
that raises (``SystemExit`` and ``KeyboardInterrupt`` included) or returns something other than
a list is recorded as the plugin's failure and contributes nothing; it never breaks ``import
ember`` (see :mod:`ember.plugin_group`).

A minimal plugin module::

    import ember

    @ember.hookimpl
    def ember_backends():
        return [ember.BackendDeclaration(
            device_type="mydev",
            api_version=ember.BACKEND_API_VERSION,
            implementation="my_package.backend:MyBackend",
            remedy="pip install my-package",
        )]

and in its ``pyproject.toml``::

    [project.entry-points."ember.backends"]
    mydev = "my_package.plugin"
"""

from __future__ import annotations

from dataclasses import dataclass

import pluggy

PROJECT_NAME = "ember"
#: The plugin API version this core speaks. A declaration with another version is refused.
BACKEND_API_VERSION = 1

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@dataclass(frozen=True)
class BackendDeclaration:
    """What a plugin says about one device type it provides.

    device_type: the name users write (``"cpu"``, ``"opencl"``); lowercase letters, digits, ``_``.
    api_version: the :data:`BACKEND_API_VERSION` the plugin was written against.
    implementation: ``"module:attribute"``; the attribute is a :class:`ember.backend.Backend`
        subclass (or a zero-argument callable returning an instance). Imported on first use.
    remedy: what to tell a user when the backend cannot be used (e.g. ``"pip install ember[opencl]"``).
    description: one line shown by ``ember.backends()``.
    """

    device_type: str
    api_version: int
    implementation: str
    remedy: str = ""
    description: str = ""


@dataclass(frozen=True)
class KernelOverride:
    """Kernels a plugin adds to, or replaces on, a device type (possibly another plugin's).

    device_type: the device type the kernels are for.
    kernels: ``"module:attribute"`` naming a ``dict[str, Callable]`` from op name to kernel,
        imported when that device type is first used. Kernels follow the contract of
        :mod:`ember.backend` for that op.
    priority: an int; a backend's own kernels have priority 0; the highest priority wins per op.

    An override is all or nothing: when its kernels cannot be imported or are no dict, a name
    or kernel fails the table check, or it gives an op a kernel at the priority of another
    kernel for that op (the backend's own, or another override's: every override in the tie),
    it is dropped with a recorded error naming its plugin, and the device type works without it.
    """

    device_type: str
    kernels: str
    priority: int = 100


@hookspec
def ember_backends() -> list[BackendDeclaration]:
    """Declare the device types this plugin provides.

    Called once at registry build. Return a list of :class:`BackendDeclaration`; an empty list
    is allowed. Must not import the backend's array library or touch devices. A
    ``device_type`` declared by two plugins is refused for both (naming both distributions and
    how to choose one), whatever order the plugins are found in.
    """


@hookspec
def ember_kernel_overrides() -> list[KernelOverride]:
    """Declare kernels this plugin adds to or overrides on a device type.

    Called once at registry build. Return a list of :class:`KernelOverride`. The kernel
    dictionaries are imported lazily, when the device type is first used; the winner of each
    op is visible through ``ember.dispatch.kernel_source(op, device_type)`` and ``ember info``.
    """
