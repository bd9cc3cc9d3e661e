"""What a profile recorded: one :class:`FunctionEvent` per op, kernel or labelled range, their
averages per name (:class:`EventList.table`), and the Chrome trace event format.

Times are host wall times (``time.perf_counter_ns``), kept in nanoseconds and shown in
microseconds, as PyTorch's profiler shows them; the attribute names are PyTorch's
(``cpu_time_total``, ``self_cpu_time_total``) so code written against it reads the same. Device
events (``kind="device"``, reported by a backend that times its own work) are placed on the same
clock; their time is device time (``device_time_total``), never host time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FunctionEvent", "FunctionEventAvg", "EventList", "SORT_KEYS", "chrome_trace", "format_time"]

#: what ``EventList.table(sort_by=...)`` accepts, and what each sorts by (descending)
SORT_KEYS = {
    "cpu_time_total": "host time including everything the op called",
    "self_cpu_time_total": "host time of the op itself, less the ops and kernels it called",
    "cpu_time": "average host time per call",
    "self_cpu_time": "average self host time per call",
    "count": "number of calls",
    "memory_usage": "bytes of the new tensors the op returned (profile_memory=True)",
    "device_time_total": "device time of the commands the call launched (ProfilerActivity.DEVICE)",
    "device_time": "average device time per call",
}


@dataclass
class FunctionEvent:
    """One recorded call: an op (``kind="op"``: a public function or Tensor method), a kernel of a
    device's table (``kind="kernel"``) or a range labelled with :class:`ember.profiler.record_function`
    (``kind="user"``).

    ``source`` says how the op ran on its device: ``"native"`` (its own kernel ran; ``plugin`` is
    the plugin that provided it, as :func:`ember.dispatch.kernel_source` reports), ``"fallback"``
    (its kernel ran on the cpu backend through the host), ``"composite"`` (core composed it from
    other ops and kernels) or ``"none"`` (it ran no kernel: metadata only). A kernel's source is
    ``"native"`` or ``"fallback"``. ``parent`` is the id of the event that called this one on the
    same thread (None at the top).

    A device event (``kind="device"``) is one command a device ran (a kernel, a fill, a
    transfer), on its device's own track (``thread``), timed by the device; its parent is the host
    event that was open on the enqueuing thread when it was enqueued. ``device_ns`` is its
    duration, and for a host event the device time of the device events under it.
    """

    id: int
    name: str
    kind: str
    start_ns: int
    end_ns: int
    thread: int
    parent: int | None = None
    depth: int = 0
    device: str = ""
    source: str = ""
    plugin: str = ""
    self_ns: int = 0
    input_shapes: list[Any] | None = None
    input_dtypes: list[str] | None = None
    memory_bytes: int | None = None
    stack: tuple[str, ...] = ()
    args: dict[str, Any] = field(default_factory=dict)
    device_ns: int = 0

    @property
    def cpu_time_total(self) -> float:
        """Host wall time of the call in microseconds, including what it called (0 for a device
        event)."""
        return 0.0 if self.kind == "device" else (self.end_ns - self.start_ns) / 1000

    @property
    def device_time_total(self) -> float:
        """Device time in microseconds: a device event's own, a host event's commands'."""
        return self.device_ns / 1000

    @property
    def self_cpu_time_total(self) -> float:
        """Host wall time in microseconds less that of the ops and kernels it called directly."""
        return self.self_ns / 1000

    @property
    def source_label(self) -> str:
        """``source`` with the plugin, as the table shows it: ``"native (cpu)"``."""
        return f"{self.source} ({self.plugin})" if self.plugin else self.source


@dataclass
class FunctionEventAvg:
    """The events of one key (name, kind, device, source and plugin; with input shapes when
    grouped by them) added up. Times in microseconds."""

    key: str
    kind: str
    device: str
    source: str
    plugin: str
    input_shapes: str = ""
    count: int = 0
    cpu_time_total: float = 0.0
    self_cpu_time_total: float = 0.0
    memory_usage: int = 0
    device_time_total: float = 0.0

    @property
    def device_time(self) -> float:
        """Average device time per call in microseconds."""
        return self.device_time_total / self.count if self.count else 0.0

    @property
    def cpu_time(self) -> float:
        """Average host time per call in microseconds."""
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self) -> float:
        """Average self host time per call in microseconds."""
        return self.self_cpu_time_total / self.count if self.count else 0.0

    @property
    def source_label(self) -> str:
        """``source`` with the plugin: ``"native (cpu)"``."""
        return f"{self.source} ({self.plugin})" if self.plugin else self.source

    def add(self, e: FunctionEvent) -> None:
        """Count one more event of this key."""
        self.count += 1
        self.cpu_time_total += e.cpu_time_total
        self.self_cpu_time_total += e.self_cpu_time_total
        self.memory_usage += e.memory_bytes or 0
        self.device_time_total += e.device_time_total


def format_time(us: float) -> str:
    """Microseconds as PyTorch's table writes them: ``"12.345us"``, ``"1.234ms"``, ``"2.000s"``."""
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_bytes(n: int) -> str:
    for unit, size in (("Gb", 1 << 30), ("Mb", 1 << 20), ("Kb", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} b"


class EventList(list):
    """A list of :class:`FunctionEventAvg` (from :meth:`ember.profiler.profile.key_averages`)
    that prints as a table."""

    def __init__(
        self,
        rows: Iterable[FunctionEventAvg] = (),
        *,
        memory: bool = False,
        shapes: bool = False,
        note: str = "",
        device: bool = False,
    ) -> None:
        super().__init__(rows)
        self._memory = memory
        self._shapes = shapes
        self._note = note
        self._device = device

    @property
    def self_cpu_time_total(self) -> float:
        """The sum of every row's self host time in microseconds: the time the profile saw."""
        return sum(r.self_cpu_time_total for r in self)

    @property
    def device_time_total(self) -> float:
        """The device time of every device event in microseconds."""
        return sum(r.device_time_total for r in self if r.kind == "device")

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55) -> str:
        """The rows as a fixed-width table, largest ``sort_by`` first (see :data:`SORT_KEYS`;
        None keeps the order of first appearance), at most ``row_limit`` rows (-1: all), then the
        total self host time of all rows (the shown and the cut ones). With device events, the
        device time of each row (``Device total``, ``Device time avg``) and in all."""
        rows = list(self)
        if sort_by is not None:
            if sort_by not in SORT_KEYS:
                raise ValueError(
                    f"table(sort_by={sort_by!r}): unknown sort key; use one of "
                    + ", ".join(repr(k) for k in SORT_KEYS)
                )
            rows.sort(key=lambda r: getattr(r, sort_by), reverse=True)
        if row_limit >= 0:
            rows = rows[:row_limit]
        total = self.self_cpu_time_total
        pct = lambda v: f"{100 * v / total:.2f}%" if total else "0.00%"  # noqa: E731
        header = ["Name", "Kind", "Device", "Source", "Self CPU %", "Self CPU", "CPU total %"]
        header += ["CPU total", "CPU time avg"]
        if self._device:
            header += ["Device total", "Device time avg"]
        if self._memory:
            header.append("Mem")
        if self._shapes:
            header.append("Input Shapes")
        header.append("# of Calls")
        body = []
        for r in rows:
            name = (
                r.key if len(r.key) <= max_name_column_width else r.key[: max_name_column_width - 3] + "..."
            )
            line = [name, r.kind, r.device, r.source_label, pct(r.self_cpu_time_total)]
            line += [format_time(r.self_cpu_time_total), pct(r.cpu_time_total)]
            line += [format_time(r.cpu_time_total), format_time(r.cpu_time)]
            if self._device:
                line += [format_time(r.device_time_total), format_time(r.device_time)]
            if self._memory:
                line.append(_format_bytes(r.memory_usage))
            if self._shapes:
                line.append(r.input_shapes)
            line.append(str(r.count))
            body.append(line)
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
        rule = "  ".join("-" * w for w in widths)
        fmt = lambda cells: "  ".join(  # noqa: E731
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )
        out = [rule, fmt(header), rule, *(fmt(b) for b in body), rule]
        out.append(f"Self CPU time total: {format_time(total)}")
        if self._device:
            out.append(f"Device time total: {format_time(self.device_time_total)}")
        if self._note:
            out.append(self._note)
        return "\n".join(out) + "\n"

    def __str__(self) -> str:
        return self.table()


def key_averages(
    events: list[FunctionEvent],
    group_by_input_shape: bool = False,
    memory: bool = False,
    note: str = "",
    device: bool = False,
) -> EventList:
    """Events added up per (name, kind, device, source, plugin), in order of first appearance;
    ``device``: the table shows device time."""
    rows: dict[tuple[Any, ...], FunctionEventAvg] = {}
    for e in events:
        shapes = str(e.input_shapes) if group_by_input_shape and e.input_shapes is not None else ""
        key = (e.name, e.kind, e.device, e.source, e.plugin, shapes)
        row = rows.get(key)
        if row is None:
            row = rows[key] = FunctionEventAvg(e.name, e.kind, e.device, e.source, e.plugin, shapes)
        row.add(e)
    return EventList(rows.values(), memory=memory, shapes=group_by_input_shape, note=note, device=device)


_CATEGORY = {"op": "ember_op", "kernel": "kernel", "user": "user_annotation", "device": "device"}


def chrome_trace(events: list[FunctionEvent], start_ns: int) -> dict[str, Any]:
    """The events in the Chrome trace event format (complete ``"X"`` events, microseconds from
    the profile's start, one track per thread and one per device that reported device events),
    as Perfetto and ``chrome://tracing`` read it."""
    pid = os.getpid()
    trace: list[dict[str, Any]] = []
    for e in events:
        args: dict[str, Any] = {"id": e.id, "parent": e.parent, "device": e.device, "source": e.source}
        if e.plugin:
            args["plugin"] = e.plugin
        if e.input_shapes is not None:
            args["input_shapes"] = e.input_shapes
            args["input_dtypes"] = e.input_dtypes
        if e.memory_bytes is not None:
            args["memory_bytes"] = e.memory_bytes
        if e.stack:
            args["stack"] = list(e.stack)
        if e.device_ns:
            args["device_time_us"] = e.device_ns / 1000
        args.update(e.args)
        trace.append(
            {
                "name": e.name,
                "cat": _CATEGORY[e.kind],
                "ph": "X",
                "pid": pid,
                "tid": e.thread,
                "ts": (e.start_ns - start_ns) / 1000,
                "dur": (e.end_ns - e.start_ns) / 1000,
                "args": args,
            }
        )
    tracks = {e.thread: f"{e.device} (device)" for e in events if e.kind == "device"}
    threads = sorted({e.thread for e in events})
    meta = [{"name": "process_name", "ph": "M", "pid": pid, "tid": 0, "args": {"name": "ember"}}]
    meta += [
        {
            "name": "thread_name",
            "ph": "M",
            "pid": pid,
            "tid": t,
            "args": {"name": tracks.get(t, f"thread {t}")},
        }
        for t in threads
    ]
    return {"traceEvents": meta + trace, "displayTimeUnit": "ms"}


def write_chrome_trace(events: list[FunctionEvent], start_ns: int, path: str | os.PathLike[str]) -> None:
    """Write :func:`chrome_trace` of ``events`` as JSON to ``path``."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(chrome_trace(events, start_ns), f)
