#!/usr/bin/env bash
# Check the cuda backend on a GPU machine that already has CuPy, PyTorch, numpy, pluggy,
# scikit-learn and setuptools installed, with no network:
#   1. a venv with --system-site-packages (CuPy/torch stay visible), ember + cpu + cuda + nccl
#      installed from this working tree (pip --no-build-isolation --no-deps --no-index -e)
#   2. a hard check that the cuda backend is available (stops here, clearly, when it is not)
#   3. ember info, the cuda backend tests, ember.compile's tests on cuda, the conformance kit on
#      cuda, the digits example on cuda, benchmarks/bench_cuda.py
#   4. the nccl backend: a check that it is available (CuPy must load NCCL: nvidia-nccl-cu12), its
#      GPU tests (a world of one on one GPU) and a world-of-one DistributedDataParallel run on cuda
# Every step's output is shown; a failing step does not stop the later ones (except 2), and the
# script exits 1 at the end if any failed. Budget: under 7 minutes (per-step timeouts below).
#
#   scripts/gpu_check.sh                 # PYTHON=python3, EPOCHS=3
#   PYTHON=/usr/bin/python3 EPOCHS=2 GPU_CHECK_VENV=/tmp/v scripts/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
EPOCHS=${EPOCHS:-3}
VENV=${GPU_CHECK_VENV:-$(mktemp -d)/venv}
T_TESTS=${T_TESTS:-60}
T_CONFORMANCE=${T_CONFORMANCE:-150}
T_TRAIN=${T_TRAIN:-60}
T_BENCH=${T_BENCH:-60}
T_NCCL=${T_NCCL:-120}
failed=()
start=$SECONDS

step() {  # step NAME TIMEOUT_S COMMAND...
    local name=$1 limit=$2 t0=$SECONDS rc
    shift 2
    echo
    echo "=== [$name] $*"
    if declare -F "$1" >/dev/null; then  # a shell function: it applies its own timeouts
        "$@"
    else
        timeout --kill-after=10 "$limit" "$@"
    fi
    rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "=== [$name] ok ($((SECONDS - t0)) s)"
    else
        [ "$rc" -eq 124 ] && echo "=== [$name] timed out after ${limit} s"
        echo "=== [$name] FAILED (exit $rc, $((SECONDS - t0)) s)"
        failed+=("$name")
    fi
    return "$rc"
}

summary() {
    echo
    echo "=== gpu_check: $((SECONDS - start)) s in all"
    if [ ${#failed[@]} -gt 0 ]; then
        echo "=== gpu_check: FAILED steps: ${failed[*]}"
        exit 1
    fi
    echo "=== gpu_check: all steps passed"
    exit 0
}

if ! command -v "$PY" >/dev/null 2>&1; then
    echo "gpu_check: Python interpreter '$PY' not found (set PYTHON=...)" >&2
    exit 2
fi
step venv 60 "$PY" -m venv --system-site-packages "$VENV" || summary
VPY="$VENV/bin/python"
# When $PY is itself a venv (the GPU image's python3 is /opt/torch/.venv), --system-site-packages
# exposes the base interpreter, not $PY's packages: add $PY's site-packages with a .pth file.
"$PY" -c 'import site; print("\n".join(site.getsitepackages()))' \
    >"$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/_gpu_check_parent.pth"

install_without_build() {  # no setuptools/wheel able to build: source paths + entry-point metadata
    "$VPY" - <<'PY'
import pathlib, sysconfig, tomllib

site = pathlib.Path(sysconfig.get_paths()["purelib"])
root = pathlib.Path.cwd()
paths = []
for proj, src in ((".", "core"), ("plugins/cpu", "plugins/cpu"), ("plugins/cuda", "plugins/cuda"),
                  ("plugins/nccl", "plugins/nccl")):
    meta = tomllib.loads((root / proj / "pyproject.toml").read_text())["project"]
    paths.append(str(root / src))
    info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    eps = "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in table.items())
                  for group, table in meta.get("entry-points", {}).items())
    if "scripts" in meta:
        eps += "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in meta["scripts"].items())
    (info / "entry_points.txt").write_text(eps)
(site / "_ember_sources.pth").write_text("\n".join(paths) + "\n")
print("installed from source paths:", ", ".join(paths))
PY
}
install_tree() {
    timeout 120 "$VPY" -m pip install --no-build-isolation --no-deps --no-index -q \
        -e . -e plugins/cpu -e plugins/cuda -e plugins/nccl && return 0
    echo "gpu_check: pip could not build the packages here (see above); installing from source paths instead"
    install_without_build
}
step install 150 install_tree || summary

# The one fatal check: without CuPy and a GPU nothing below can run.
step cuda-available 60 "$VPY" - <<'PY' || { echo "gpu_check: the cuda backend is not usable here; see above"; summary; }
import sys

try:
    import cupy
except Exception as exc:  # noqa: BLE001
    sys.exit(f"gpu_check: cannot import CuPy ({type(exc).__name__}: {exc}); install cupy-cuda12x or cupy-cuda13x")
print(f"CuPy {cupy.__version__}", end="")
try:
    print(f", {cupy.cuda.runtime.getDeviceCount()} GPU(s)")
except Exception as exc:  # noqa: BLE001
    sys.exit(f"\ngpu_check: CuPy sees no GPU: {type(exc).__name__}: {exc}")
import ember

rec = {r["name"]: r for r in ember.backends()}.get("cuda")
if rec is None or rec["status"] != "available":
    sys.exit(f"gpu_check: ember's cuda backend is not available: {rec}")
print("ember cuda devices:", [d.get("name") for d in rec.get("devices", [])])
PY

step "ember info" 60 "$VPY" -m ember info
step "cuda tests" "$T_TESTS" "$VPY" -m pytest plugins/cuda/tests -q -rs
step "ember.compile on cuda" "$T_TESTS" "$VPY" -m pytest tests/test_compile.py -q -rs -k cuda
step "conformance on cuda" "$T_CONFORMANCE" "$VPY" -m pytest --pyargs ember.testing --ember-device=cuda -q
if [ -f examples/train_digits.py ]; then
    step "train digits on cuda" "$T_TRAIN" "$VPY" examples/train_digits.py --device cuda --epochs "$EPOCHS" --quiet
else
    echo "=== [train digits on cuda] skipped: examples/train_digits.py not found"
fi
step "bench_cuda" "$T_BENCH" "$VPY" benchmarks/bench_cuda.py --require-gpu

# The nccl backend (not fatal: the cuda steps above stand on their own).
step "nccl available" 60 "$VPY" - <<'PY'
import sys

from ember.distributed.backends import communication_backends

rec = communication_backends().summary()
nccl = {r.get("name"): r for r in rec}.get("nccl")
if nccl is None or nccl["status"] != "available":
    sys.exit(f"gpu_check: ember's nccl backend is not available: {nccl}")
from cupy.cuda import nccl as lib

print(f"nccl backend available (NCCL {lib.get_version()})")
PY
step "nccl tests" "$T_NCCL" "$VPY" -m pytest plugins/nccl/tests/test_nccl_gpu.py -q -rs
step "ddp on cuda with nccl" "$T_TRAIN" "$VPY" plugins/nccl/tests/scripts/ddp_one_gpu.py
summary
