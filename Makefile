# kvcomplete — the two commands of the README: `make demo` and `make test`.
VENV        ?= .venv
PYTHON      ?= python3
PY          := $(VENV)/bin/python
# The torch the venv gets when it has none. A venv that already holds a (CUDA) torch keeps it.
TORCH_SPEC  ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: setup model demo test clean

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

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
