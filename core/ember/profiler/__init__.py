"""See what ran where: every op with its device, kernel source and plugin, shapes and time.

PyTorch's profiler, in Ember::

    from ember.profiler import profile, ProfilerActivity

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))
    prof.export_chrome_trace("trace.json")      # open in Perfetto or chrome://tracing

Each op (a public function of ``ember`` / ``ember.nn.functional`` or a Tensor method, as the op
records declare them) is one event, and each kernel it ran on a device's table is an event nested
inside it, so a composite shows the kernels it is made of. An op's ``source`` says whether its own
kernel ran (``native``, with the plugin that provided it), it was composed in core
(``composite``), its kernel ran on the cpu backend through the host (``fallback``) or it ran no
kernel at all (``none``). Times are host wall times; a backend that queues work (OpenCL, CUDA)
returns before the device finishes, so its time shows up where the host waits (``item``,
``numpy``, ``synchronize``). With ``ProfilerActivity.DEVICE``, a backend that times its own work
(OpenCL) adds one ``device`` event per command on its device's track, under the host event that
launched it, and the table gets device-time columns.

With no active profile nothing here costs anything: a profile installs its timing wrappers when
it starts and removes them when it ends (see ``ember/profiler/_instrument.py``). One profile is
active at a time, across threads; each thread's events nest on their own track.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable
from contextlib import ContextDecorator
from typing import Any

from . import _instrument
from .events import SORT_KEYS, EventList, FunctionEvent, FunctionEventAvg, key_averages, write_chrome_trace

__all__ = [
    "profile",
    "record_function",
    "schedule",
    "ProfilerActivity",
    "ProfilerAction",
    "FunctionEvent",
    "FunctionEventAvg",
    "EventList",
    "SORT_KEYS",
    "is_profiling",
]


class ProfilerActivity(enum.Enum):
    """What to record. ``CPU``: ops and kernels timed on the host (what Ember records).
    ``DEVICE`` (alias ``CUDA``, PyTorch's name): time measured by the device itself, for backends
    that report it (the optional ``profiler_device_trace``/``profiler_device_events`` methods of
    :class:`ember.backend.Backend`; the OpenCL backend has them); with none the table says so."""

    CPU = "cpu"
    DEVICE = "device"
    CUDA = "device"


class ProfilerAction(enum.Enum):
    """What a schedule asks of a step: nothing, warm up (recorded by nothing here: Ember's
    wrappers need no warm-up), record, or record and then hand the results to ``on_trace_ready``."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(
    *, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0
) -> Callable[[int], ProfilerAction]:
    """PyTorch's profiler schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps, ``repeat`` times (0: until the profile ends).
    The last active step of each cycle hands the cycle's results to ``on_trace_ready``."""
    if wait < 0 or warmup < 0 or repeat < 0 or skip_first < 0 or active < 1:
        raise ValueError(
            f"schedule(wait={wait}, warmup={warmup}, active={active}, repeat={repeat}, "
            f"skip_first={skip_first}): active must be at least 1 and the others at least 0"
        )
    cycle = wait + warmup + active

    def action(step: int) -> ProfilerAction:
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action


def is_profiling() -> bool:
    """Whether a profile is recording now (for a backend that would report extra detail, such as
    the ops a fused kernel contains, only when someone looks)."""
    r = _instrument.active()
    return r is not None and r.recording


_RECORDING = (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)


class profile:
    """Record the ops and kernels that run inside ``with profile(...) as prof:``.

    activities: :class:`ProfilerActivity` values (default ``[CPU]``); ``CPU`` must be among them.
    record_shapes: keep each call's input shapes and dtypes (``key_averages(group_by_input_shape=True)``).
    profile_memory: keep the bytes of the new tensors each op returned.
    with_stack: keep the Python frames (outside Ember) that made each call.
    schedule: a step -> :class:`ProfilerAction` function (see :func:`schedule`), advanced by
        :meth:`step`; without one every step is recorded.
    on_trace_ready: called with this profile when a cycle's results are ready (the last active
        step of a schedule, and the end of the profile).
    """

    def __init__(
        self,
        *,
        activities: Iterable[ProfilerActivity] | None = None,
        schedule: Callable[[int], ProfilerAction] | None = None,
        on_trace_ready: Callable[[profile], Any] | None = None,
        record_shapes: bool = False,
        profile_memory: bool = False,
        with_stack: bool = False,
    ) -> None:
        acts = list(activities) if activities is not None else [ProfilerActivity.CPU]
        for a in acts:
            if not isinstance(a, ProfilerActivity):
                raise TypeError(
                    f"profile(activities=...): {a!r} is not a ProfilerActivity; use "
                    "ember.profiler.ProfilerActivity.CPU (and .DEVICE)"
                )
        if ProfilerActivity.CPU not in acts:
            raise ValueError(
                "profile(activities=[DEVICE]) records nothing: Ember times ops and kernels on the "
                "host, and device events are reported under the host events that launched them; "
                "add ProfilerActivity.CPU"
            )
        self.activities = set(acts)
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.step_num = 0
        self.current_action = ProfilerAction.RECORD
        self._schedule = schedule
        self._on_trace_ready = on_trace_ready
        self._recorder: _instrument.Recorder | None = None
        self._events: list[FunctionEvent] | None = None
        self._start_ns = 0

    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Install the wrappers and start recording (``with profile(...)`` calls this)."""
        if self._recorder is not None:
            raise RuntimeError("ember.profiler.profile.start(): this profile has already started")
        device = ProfilerActivity.DEVICE in self.activities
        r = _instrument.Recorder(self.record_shapes, self.profile_memory, self.with_stack, device)
        _instrument.activate(r)
        self._recorder = r
        self._start_ns = r.start_ns
        self.current_action = self._schedule(0) if self._schedule else ProfilerAction.RECORD
        r.recording = self.current_action in _RECORDING

    def stop(self) -> None:
        """Stop recording, remove the wrappers and hand over the last (possibly partial) cycle."""
        r = self._recorder
        if r is None:
            raise RuntimeError("ember.profiler.profile.stop(): this profile was not started")
        was_recording = r.recording
        _instrument.deactivate(r)
        self._recorder = None
        if was_recording or self._schedule is None:
            self._save(r)

    def step(self) -> None:
        """Mark the end of a step (a training iteration) for the schedule."""
        r = self._recorder
        if r is None:
            raise RuntimeError(
                "ember.profiler.profile.step(): the profile is not running; call step() inside "
                "`with profile(...) as prof:`"
            )
        prev = self.current_action
        self.step_num += 1
        self.current_action = self._schedule(self.step_num) if self._schedule else ProfilerAction.RECORD
        if self._schedule is not None:
            if prev is ProfilerAction.RECORD_AND_SAVE:
                self._save(r)
            elif prev not in _RECORDING or self.current_action not in _RECORDING:
                r.take()  # nothing of a wait or warm-up step is kept (nor its device events)
            r.recording = self.current_action in _RECORDING

    def _save(self, r: _instrument.Recorder) -> None:
        self._events = r.events(r.take())
        if self._on_trace_ready is not None:
            self._on_trace_ready(self)

    # -- results -----------------------------------------------------------------------------------
    def events(self) -> list[FunctionEvent]:
        """Every recorded event of the last finished cycle, ordered by start time."""
        if self._events is None:
            raise RuntimeError(
                "ember.profiler.profile: no results yet; they are ready when the `with profile(...)` "
                "block ends (with a schedule: after each cycle's last active step)"
            )
        return self._events

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """The events added up per name, kind, device and kernel source (and input shapes when
        ``group_by_input_shape``, which needs ``record_shapes=True``); ``.table()`` prints them."""
        if group_by_input_shape and not self.record_shapes:
            raise ValueError(
                "key_averages(group_by_input_shape=True) needs the shapes: profile with record_shapes=True"
            )
        note = ""
        asked = ProfilerActivity.DEVICE in self.activities
        device = asked and any(e.kind == "device" for e in self.events())
        if asked and not device:
            note = (
                "Device time: not reported (no backend used here times its own work); "
                "times are host wall times"
            )
        return key_averages(
            self.events(), group_by_input_shape, memory=self.profile_memory, note=note, device=device
        )

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> None:
        """Write the events as a Chrome trace (JSON), for Perfetto or ``chrome://tracing``."""
        write_chrome_trace(self.events(), self._start_ns, path)


class record_function(ContextDecorator):
    """Label a range of code in the profile (``with record_function("data loading"):``, or as a
    decorator); the ops inside nest under it. ``args`` (JSON values) go into the trace event. Does
    nothing when no profile is recording."""

    def __init__(self, name: str, args: dict[str, Any] | None = None) -> None:
        self.name = name
        self.args = args
        self._frames: list[Any] = []

    def __enter__(self) -> record_function:
        r = _instrument.active()
        frame = _instrument.begin_range(r, self.name, self.args) if r is not None and r.recording else None
        self._frames.append((r, frame))
        return self

    def __exit__(self, *exc: object) -> None:
        r, frame = self._frames.pop()
        if frame is not None:
            r.pop(frame)
