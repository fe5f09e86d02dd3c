# rnnviz: common tasks. `make help` lists them.
PYTHON ?= python3
# scripts/py runs the project .venv when the set-up made one, else $(PYTHON).
PY := PYTHON=$(PYTHON) scripts/py
OUT ?= out
# Material for MkDocs prints a banner about MkDocs 2.0 on every build; it is not about this site.
export NO_MKDOCS_2_WARNING := 1

.PHONY: help install install-test demo test test-fast site serve clean

help:
	@echo "make demo       install everything and draw every bundled example into $(OUT)/"
	@echo "make test       install what the tests need and run the whole test suite"
	@echo "make test-fast  run the tests without the browser checks"
	@echo "make site       build the documentation site into site/ (offline, --strict)"
	@echo "make serve      preview the site at http://127.0.0.1:8000 while editing docs/"
	@echo "make install    only install rnnviz and Graphviz"

install:
	PYTHON=$(PYTHON) scripts/install-deps.sh

install-test:
	PYTHON=$(PYTHON) scripts/install-deps.sh --test

demo: install
	PYTHON=$(PYTHON) OUT=$(OUT) scripts/demo.sh

test: install-test
	$(PY) -m pytest -q -p no:cacheprovider

test-fast:
	$(PY) -m pytest -q -p no:cacheprovider -m "not browser"

site: install
	$(PY) -m mkdocs build --strict

serve: install
	$(PY) -m mkdocs serve -a 127.0.0.1:8000

clean:
	rm -rf site/ $(OUT)/ test-artifacts/
