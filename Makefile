# deliberation — two commands do everything: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLE := fixtures/phase-6-2024

.PHONY: demo test check fuzz lint bench clean libreoffice grammalecte chromium bytecode

$(BIN)/deliberation: pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c "import ensurepip" 2>/dev/null || { \
	  echo "Installation de python3-venv…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The package's byte-code, written ahead as pip does for a non-editable install: the install is editable
# and Python writes no byte-code where PYTHONDONTWRITEBYTECODE is set, so each command would compile every
# module again (a quarter of a second of a cold `check`). Only what changed is compiled again; a .pyc whose
# source has changed since is never used (Python compares the source's time and size); __pycache__ is ignored
# by git.
bytecode: $(BIN)/deliberation
	@$(BIN)/python -m compileall -q deliberation

# LibreOffice converts the Word files to PDF (Writer) and recomputes the exported workbook in a test
# (Calc); installed from Debian when missing.
libreoffice:
	@{ command -v soffice >/dev/null 2>&1 && dpkg -s libreoffice-calc-nogui >/dev/null 2>&1; } || { \
	  echo "Installation de LibreOffice (libreoffice-writer-nogui, libreoffice-calc-nogui)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    libreoffice-writer-nogui libreoffice-calc-nogui >/dev/null; }

# Grammalecte, the French grammar checker: its spell checker checks every French text of the dossier and the
# templates (rule orthographe.*, loaded at run time: GPL-3, never vendored), its typographic formatter checks
# the engine's typography in the tests (tests/test_typo.py); installed from Debian when missing (elsewhere,
# check says once that spelling was not checked, and those tests are skipped).
grammalecte:
	@{ dpkg -s python3-grammalecte >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; } || { \
	  echo "Installation de Grammalecte (python3-grammalecte)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-grammalecte >/dev/null; }

# Chromium, the browser the workbench's tests drive (Playwright for Python, launched through Debian's executable:
# no browser is downloaded); installed from Debian when missing.
chromium:
	@{ command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; } || { \
	  echo "Installation de Chromium (chromium)…"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The example's figures, then its bundle: each finding code once, with its count (the findings in full:
# `deliberation check fixtures/phase-6-2024`).
demo: $(BIN)/deliberation bytecode libreoffice grammalecte
	$(BIN)/deliberation figures $(EXAMPLE) --resume
	$(BIN)/deliberation build $(EXAMPLE) -o build/phase-6-2024 --resume
	@echo "Pour ouvrir l'atelier sur l'exemple (http://127.0.0.1:8000/) :"
	@echo "  $(BIN)/deliberation serve $(EXAMPLE) -o build/phase-6-2024"

test: $(BIN)/deliberation bytecode libreoffice grammalecte chromium
	$(BIN)/ruff check deliberation tests bench tools
	$(BIN)/pytest -q

# The fast loop: ruff, then the tests that start no LibreOffice or browser and are not slow (markers in
# pyproject.toml), on two processes (pytest-xdist).
check: $(BIN)/deliberation bytecode
	$(BIN)/ruff check deliberation tests bench tools
	$(BIN)/pytest -q -n 2 -m "not libreoffice and not slow and not browser"

# Thousands of mutated dossiers, amounts and redlined documents (hypothesis profile "fuzz"); codes reached:
# build/fuzz-codes.txt.
fuzz: $(BIN)/deliberation
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -q -s --hypothesis-show-statistics tests/test_fuzz.py tests/test_properties.py \
	  tests/test_tracked.py

bench: $(BIN)/deliberation bytecode
	$(BIN)/python bench/run.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/programme.py --pdf

clean:
	rm -rf build $(VENV)
