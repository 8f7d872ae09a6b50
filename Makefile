# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv on first use.
VENV := .venv
PY := $(VENV)/bin/python
DOT_HELP := Graphviz's dot program is missing. Install it - Debian/Ubuntu: sudo apt-get install graphviz | macOS: brew install graphviz | conda: conda install -c conda-forge graphviz

.PHONY: demo test lint bench dot clean

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

bench: $(VENV)/.installed dot
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_charrnn.py
	$(PY) benchmarks/bench_viz.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
