#!/usr/bin/env bash
# Build a wheel of every distribution and install them, not editable, into a fresh venv, the way a
# user would (`pip install --find-links DIST 'ember[cpu]'`), then run a small job through the
# installed entry points. Catches files missing from a package and wrong entry points.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
PY=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dists=(. plugins/cpu)
[ -d plugins/opencl ] && dists+=(plugins/opencl)
[ -d plugins/cuda ] && dists+=(plugins/cuda)
[ -d plugins/mpi ] && dists+=(plugins/mpi)
"$PY" -m pip wheel -q --no-deps -w "$work/dist" "${dists[@]}"
ls "$work/dist"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --find-links "$work/dist" 'ember[cpu]'
cd "$work"
"$work/venv/bin/python" - <<'PY'
import ember
x = ember.randn(4, 3, requires_grad=True)
(x.relu() @ ember.ones(3, 2)).sum().backward()
assert x.grad.shape == (4, 3)
recs = {r["name"]: r["status"] for r in ember.backends()}
assert recs.get("cpu") == "available", recs
from ember_cpu import native  # its C source ships in the wheel; built here when a compiler is found
assert native.SOURCE.exists(), native.SOURCE
print("cpu native code:", native.status())
print("wheel smoke run ok:", recs)
PY
if [ -d "$repo/plugins/opencl" ]; then
  "$work/venv/bin/pip" install -q --find-links "$work/dist" 'ember[opencl]'
  "$work/venv/bin/python" -c "
import ember
x = ember.arange(6, device='opencl').reshape(2, 3).float()
assert (x @ x.T).tolist() == [[5.0, 14.0], [14.0, 50.0]]
print('wheel smoke run ok on', x.device)"
fi
if [ -d "$repo/plugins/cuda" ]; then
  # the CuPy wheel is large and useless without a GPU: the plugin alone must register and explain
  "$work/venv/bin/pip" install -q --no-deps --find-links "$work/dist" ember-cuda
  "$work/venv/bin/python" -c "
import ember
rec = [r for r in ember.backends() if r['name'] == 'cuda'][0]
assert rec['status'] in ('unavailable', 'available'), rec
print('cuda plugin registered:', rec['status'], '-', rec.get('reason', ''))"
fi
if [ -d "$repo/plugins/mpi" ]; then
  # mpi4py and Open MPI from PyPI wheels; two ranks through the installed `ember run`
  "$work/venv/bin/pip" install -q --find-links "$work/dist" 'ember[mpi]'
  cat > "$work/allreduce.py" <<'PY'
import ember, ember.distributed as dist
dist.init_process_group()
x = ember.full((3,), float(dist.get_rank() + 1))
dist.all_reduce(x)
assert dist.get_backend() == "mpi" and x.tolist() == [3.0, 3.0, 3.0], x
print("wheel smoke run ok: rank", dist.get_rank(), "of", dist.get_world_size(), "on", dist.get_backend())
PY
  "$work/venv/bin/ember" run -n 2 --timeout 120 "$work/allreduce.py"
fi
"$work/venv/bin/ember" info > "$work/info.txt"
head -20 "$work/info.txt"
