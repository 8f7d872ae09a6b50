# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv on first use.
VENV := .venv
PY := $(VENV)/bin/python
DOT_HELP := Graphviz's dot program is missing. Install it - Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | conda: conda install -c conda-forge graphviz

.PHONY: demo test lint bench dot clean notebooks

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# The system `dot` binary: installed with apt-get when we are root on Debian, otherwise one line of advice.
dot:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's graphviz (for the dot binary) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else echo "$(DOT_HELP)"; fi; }

demo: $(VENV)/.installed dot
	$(VENV)/bin/micrornn tour --out out/tour

test: $(VENV)/.installed dot
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# Every demo as an executed notebook (quick mode, outputs kept) in out/notebooks/, plus an HTML copy of each.
# jupytext turns the percent script into .ipynb; nbconvert runs it in ipykernel's "python3" kernel, which
# jupyter_client starts with this venv's python. MICRORNN_QUICK/OUT reach the kernel through the environment.
# The second nbconvert pass folds a progress bar's refreshes (\r) into its last line (nbconvert coalesces
# streams before it executes, so it cannot happen in the same pass).
NB := out/notebooks
notebooks: $(VENV)/.installed dot
	@mkdir -p $(NB)
	@for demo in demos/[0-9][0-9]_*.py; do \
	  name=$$(basename $$demo .py); \
	  $(VENV)/bin/jupytext --quiet --to ipynb --output $(NB)/$$name.ipynb $$demo || exit 1; \
	  PYTHONPATH=$(CURDIR) MICRORNN_QUICK=1 MICRORNN_OUT=$(CURDIR)/$(NB)/$$name $(VENV)/bin/jupyter nbconvert \
	    --log-level=ERROR --to notebook --execute --inplace --ExecutePreprocessor.timeout=120 \
	    $(NB)/$$name.ipynb || exit 1; \
	  $(VENV)/bin/jupyter nbconvert --log-level=ERROR --to notebook --inplace \
	    --CoalesceStreamsPreprocessor.enabled=True $(NB)/$$name.ipynb || exit 1; \
	  $(VENV)/bin/jupyter nbconvert --log-level=ERROR --to html $(NB)/$$name.ipynb || exit 1; \
	  echo "$(NB)/$$name.ipynb"; \
	done

bench: $(VENV)/.installed dot
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_charrnn.py
	$(PY) benchmarks/bench_viz.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
