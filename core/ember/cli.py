"""The ``ember`` command line: ``ember info [--json]`` and ``ember new-backend NAME``."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
from typing import Any

#: every set environment variable with this prefix is shown: the core's switches (EMBER_BACKENDS,
#: EMBER_DISABLE_BACKENDS, EMBER_BACKEND_AUTOLOAD, EMBER_DEVICE, EMBER_CPU_FALLBACK) and the
#: backends' own (EMBER_<TYPE>_...)
SWITCH_PREFIX = "EMBER_"


def _version(dist: str | None) -> str | None:
    if not dist:
        return None
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def collect_info() -> dict[str, Any]:
    """Everything ``ember info`` shows, as a JSON-friendly dict."""
    import ember
    from ember.dispatch import fallback_enabled
    from ember.ops.catalog import coverage
    from ember.registry import registry

    backends = ember.backends()
    for b in backends:
        b["version"] = _version(b.get("distribution"))
    matrix: dict[str, dict[str, str]] = {}
    winners: dict[str, dict[str, list[Any]]] = {}
    for name, rec in sorted(registry.records.items()):
        if rec.backend is None:
            continue
        table = rec.backend.kernel_table
        matrix[name] = coverage(table.kernels, fallback_enabled(name))
        winners[name] = {op: c for op, c in table.candidates.items() if len(c) > 1}
    return {
        "ember": ember.__version__,
        "python": sys.version.split()[0],
        "backends": backends,
        "switches": {k: v for k, v in sorted(os.environ.items()) if k.startswith(SWITCH_PREFIX)},
        "coverage": matrix,
        "overrides": winners,
    }


def _print_info(info: dict[str, Any]) -> None:
    print(f"Ember {info['ember']} (Python {info['python']})")
    print("\nBackends:")
    for b in info["backends"]:
        ver = f" {b['version']}" if b.get("version") else ""
        print(f"  {b['name']:<10} {b['status']:<12} plugin {b['plugin']!r} ({b.get('distribution')}{ver})")
        if b.get("reason"):
            print(f"             reason: {b['reason']}")
        if b.get("remedy") and b["status"] != "available":
            print(f"             remedy: {b['remedy']}")
        for d in b.get("devices", []):
            props = ", ".join(f"{k}={v}" for k, v in d.items() if k != "index")
            print(f"             {b['name']}:{d['index']}  {props}")
    print("\nSwitches:", ", ".join(f"{k}={v}" for k, v in info["switches"].items()) or "none set")
    if info["coverage"]:
        types = list(info["coverage"])
        ops = sorted({op for cov in info["coverage"].values() for op in cov})
        print("\nKernel coverage (native / composite / fallback / missing):")
        print("  " + f"{'op':<16}" + "".join(f"{t:<12}" for t in types))
        for op in ops:
            print("  " + f"{op:<16}" + "".join(f"{info['coverage'][t].get(op, '-'):<12}" for t in types))
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
    new = sub.add_parser("new-backend", help="write a backend plugin package that passes the conformance kit")
    new.add_argument("name", help="the device type, e.g. mydev")
    new.add_argument("--dest", default=".", help="folder to create the package in (default: here)")
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
                _print_info(data)
            sys.stdout.flush()
        except BrokenPipeError:  # `ember info | head`: the reader left; not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
