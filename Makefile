# The two commands: `make demo` (set up + run the main job) and `make test` (set up + lint + tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-deps lint install bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Trazo needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

install: $(STAMP)

# The kernels are compiled before the demo plans: compiled during a plan, in the thread of
# site selection's bound, numba's warning handling can undo rasterio's (Python's
# catch_warnings is not thread-safe) and a NotGeoreferencedWarning reaches the terminal.
demo: $(STAMP)
	$(BIN)/python tests/compile_kernels.py
	$(BIN)/trazo demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# numba compiles the planner's kernels once per checkout (about 45 s of one core on a fresh
# clone): tests/compile_kernels.py fills numba's on-disk cache in the background while lint
# and the installs run, and pytest (with every server and worker it starts) loads them.
# The suite runs in TEST_WORKERS pytest-xdist workers (CI machines have two cores);
# --dist loadgroup keeps each test file in one worker, so a module's fixtures (servers,
# stores, the demo run) are set up once, and the readers of the planned scenarios in one
# worker, so they are planned once; the bundle is loaded once for both workers, and
# --no-loadscope-reorder keeps the order tests/conftest.py gives: heaviest groups first.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python tests/compile_kernels.py & compiling=$$!; \
	$(MAKE) --no-print-directory lint test-deps; ready=$$?; \
	wait $$compiling && [ $$ready -eq 0 ]
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# The inner loop while developing: every test not marked slow (the national bundle, planned
# scenarios, browsers on real maps, PostGIS clusters, wheel builds), without lint or
# installs (about 160 s of CPU: 1.5 minutes on an idle two-core machine). `make test` runs
# everything.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow" -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

# What the tests need besides Python packages: Chromium, PostgreSQL with PostGIS, QGIS.
test-deps:
	./.ci/install-browser.sh
	./.ci/install-postgis.sh
	./.ci/install-qgis.sh

# Benchmarks (not tests): each prints a table with a same-run baseline. The OR-Library
# instances come from the shared benchmark folder beside the repository (STEINER_DIR).
STEINER_DIR ?= ../shared/benchmarks/steiner
bench: $(STAMP)
	$(BIN)/python bench/steiner.py $(STEINER_DIR)/*.txt
	$(BIN)/python bench/steiner_large.py
	$(BIN)/python bench/ring.py $(STEINER_DIR)/steinb10.txt --random 12
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/distributed.py
	$(BIN)/python bench/roads.py bundled
	$(BIN)/python bench/roads.py synthetic --segments 1000000
	$(BIN)/python bench/roads.py synthetic --segments 3000000
	$(BIN)/python bench/roads.py service --segments 1000000
	$(BIN)/python bench/store_backends.py

clean:
	rm -rf $(VENV) .trazo .mypy_cache .ruff_cache .pytest_cache
