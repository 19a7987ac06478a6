# Two commands do all the set-up on a fresh machine (Python 3.10-3.13 with venv, and npm):
#   make book   -- build (execute) the whole book into _build/html
#   make test   -- run the whole test suite
# Both create and reuse a virtual environment in .venv (excluded from the book's sources).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/vendor/mathjax/tex-svg-full.js

.PHONY: book test venv vendor browser clean export assignments bench bench-full bench-book gpu-check

venv: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# MathJax is served from the book's own static files (the site must work offline).
vendor: $(MATHJAX)

$(MATHJAX):
	@mkdir -p $(dir $(MATHJAX)) _build/vendor
	cd _build/vendor && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null
	tar -xzf _build/vendor/mathjax-$(MATHJAX_VERSION).tgz -C _build/vendor package/es5/tex-svg-full.js
	cp _build/vendor/package/es5/tex-svg-full.js $(MATHJAX)

book: venv vendor
	$(VENV)/bin/jupyter-book build . --builder html -W --keep-going
	@echo "The book is in _build/html: open _build/html/index.html in a browser."

# Headless Chromium for the browser test, from Debian's packages (no browser download).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) for the browser test."; fi; \
	fi

test: venv vendor browser
	$(PY) -m pytest

export: venv
	$(PY) -m klviz.export --out _build/editions

# Graded assignments (otter-grader, no PDFs): _build/assignments/<chapter>/{student,autograder}.
# Grade a submission without Docker: $(VENV)/bin/otter run -a <autograder zip> -o DIR submission.ipynb
assignments: venv
	$(PY) -m klviz.quiz.assign --out _build/assignments

bench: venv
	$(PY) benchmarks/run.py --quick

bench-full: venv
	$(PY) benchmarks/run.py

bench-book: venv vendor
	$(PY) benchmarks/book_build.py

# GPU readiness (benchmarks/gpu_check.py): the system python3 with its own torch, numpy and
# scikit-learn, the working tree on the import path; no virtual environment, no installs.
GPU_PYTHON ?= python3
gpu-check:
	PYTHONPATH=. $(GPU_PYTHON) benchmarks/gpu_check.py

clean:
	rm -rf _build
