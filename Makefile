# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv on first use.
VENV := .venv
PY := $(VENV)/bin/python
DOT_HELP := Graphviz's dot program is missing. Install it - Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | conda: conda install -c conda-forge graphviz

.PHONY: demo test lint bench dot clean notebooks notebook notebook-number

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

# Every demo as an executed notebook (outputs kept) in out/notebooks/, plus an HTML copy of each. Full settings by
# default, so the notebooks show the numbers the lesson is about; `make notebooks QUICK=1` for the fast settings.
# jupytext turns the percent script into .ipynb; nbconvert runs it in ipykernel's "python3" kernel, which
# jupyter_client starts with this venv's python. MICRORNN_QUICK/OUT reach the kernel through the environment.
# The second nbconvert pass folds a progress bar's refreshes (\r) into its last line (nbconvert coalesces
# streams before it executes, so it cannot happen in the same pass).
NB := out/notebooks
QUICK ?= 0
# The HTML copy is written by scripts/offline_html.py, not nbconvert's --to html: its formulas are MathML made
# at build time (latex2mathml) and it loads no script from a CDN, so it reads on a laptop with no network.
define NOTEBOOK
name=$$(basename $(1) .py); \
$(VENV)/bin/jupytext --quiet --to ipynb --output $(NB)/$$name.ipynb $(1) || exit 1; \
PYTHONPATH=$(CURDIR) MICRORNN_QUICK=$(QUICK) MICRORNN_OUT=$(CURDIR)/$(NB)/$$name $(VENV)/bin/jupyter nbconvert \
  --log-level=ERROR --to notebook --execute --inplace --ExecutePreprocessor.timeout=120 \
  $(NB)/$$name.ipynb || exit 1; \
$(VENV)/bin/jupyter nbconvert --log-level=ERROR --to notebook --inplace \
  --CoalesceStreamsPreprocessor.enabled=True $(NB)/$$name.ipynb || exit 1; \
$(PY) scripts/offline_html.py $(NB)/$$name.ipynb > /dev/null || exit 1; \
echo "$(NB)/$$name.ipynb"
endef

notebooks: $(VENV)/.installed dot
	@mkdir -p $(NB)
	@for demo in demos/[0-9][0-9]_*.py; do $(call NOTEBOOK,$$demo); done

# One demo: `make notebook N=05` (its number) builds out/notebooks/05_many_to_many.ipynb and .html
notebook: notebook-number $(VENV)/.installed dot
	@mkdir -p $(NB); demo=$$(ls demos/$(N)_*.py | head -1); $(call NOTEBOOK,$$demo)

notebook-number:  # checked before anything is installed
	@test -n "$(N)" || { echo "make notebook N=05: N is the demo's two-digit number (ls demos/)"; exit 2; }
	@ls demos/$(N)_*.py >/dev/null 2>&1 || { echo "no demo numbered $(N) in demos/ (N=05, two digits)"; exit 2; }

bench: $(VENV)/.installed dot
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_charrnn.py
	$(PY) benchmarks/bench_viz.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
