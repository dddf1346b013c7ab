# Two commands from a fresh clone: `make demo` and `make test`. Both install the missing
# Debian/Ubuntu packages first (as root or with passwordless sudo; otherwise they stop and print
# the one `apt-get install` line), then create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DIST_STAMP := $(VENV)/.dist-stamp
SYSTEM_PACKAGES := bash packaging/linux/ensure-system-packages.sh
# python3-venv joins the list only while there is no venv and this Python cannot make one
# (Debian's python3 lacks ensurepip without it).
NEEDS_VENV_PACKAGE = $(if $(wildcard $(BIN)/python),,$(if $(shell $(PYTHON) -c \
	'import ensurepip, venv' 2>/dev/null && echo ok),,-- python3-venv))

.PHONY: demo demo-terminal test lint bench screenshots dist tarball smoke wheel clean \
	system-app system-test system-dist

system-app:
	@$(SYSTEM_PACKAGES) app $(NEEDS_VENV_PACKAGE)

system-test:
	@$(SYSTEM_PACKAGES) app test $(NEEDS_VENV_PACKAGE)

system-dist:
	@$(SYSTEM_PACKAGES) app dist $(NEEDS_VENV_PACKAGE)

# Order-only: the system check runs every time but does not force a reinstall of the venv.
$(STAMP): pyproject.toml | system-app
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(DIST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,dist]'
	@touch $(DIST_STAMP)

demo: $(STAMP)
	$(BIN)/tickitz-scanner demo

demo-terminal: $(STAMP)
	$(BIN)/tickitz-scanner demo --terminal

lint: $(STAMP)
	$(BIN)/ruff check scanner_app tests bench tools
	$(BIN)/lint-imports
	$(BIN)/vulture

# The suite on every core (pytest-xdist; CI has 2): ~5.5 min there instead of ~10 in one
# process. `make test TEST_WORKERS=0` runs it in one process (a debugger, --pdb).
TEST_WORKERS ?= auto
test: system-test lint
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -n $(TEST_WORKERS)

bench: $(STAMP)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python tools/screenshots.py docs/screenshots

# The one-folder desktop bundle for this OS: dist/tickitz-scanner/tickitz-scanner.
dist: system-dist $(DIST_STAMP)
	$(BIN)/pyinstaller --noconfirm --log-level WARN \
		--distpath dist --workpath build/pyinstaller packaging/tickitz-scanner.spec
	@du -sh dist/tickitz-scanner

# What to ship on Linux (no AppImage: packaging/README.md says why): the bundle folder as one
# archive, exec bits and symlinks kept; unpack it, then ./install.sh inside.
tarball: dist
	@version="$$(dist/tickitz-scanner/tickitz-scanner --version | awk '{print $$NF}')" && \
	archive="dist/tickitz-scanner-$$version-linux-$$(uname -m).tar.gz" && \
	tar -C dist -czf "$$archive" tickitz-scanner && du -h "$$archive"

# The bundle as CI runs it: no Python on PATH, --version, demo to the first verdict, SIGTERM,
# the hub's /v1/openapi.json, start time and RSS.
smoke: dist
	$(PYTHON) tools/smoke_bundle.py dist/tickitz-scanner

# The wheel and sdist in dist/ (what `pipx install dist/tickitz_scanner-*.whl` takes).
wheel: $(DIST_STAMP)
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
