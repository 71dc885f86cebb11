# migrator: the two commands a newcomer needs are `make demo` and `make test`.
SHELL  := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements.lock
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha256sum | cut -c1-12)
PIP    := $(BIN)/python -m pip install -q --disable-pip-version-check

.PHONY: demo test deps system-deps lint typecheck unit bench golden eval eval-mcp docs vcsim clean vendor-web lock

demo: deps                     ## seed the bundled estate into vcsim, discover, plan, land PRs, then serve the dashboard (MIGRATOR_DEMO_SERVE=0: stop)
	$(BIN)/python -m migrator.simulator demo --estate fixtures/estates/demo.yaml --flows fixtures/flows/demo-flows.csv

test: deps lint typecheck      ## everything CI runs
	$(BIN)/python -m pytest -q

deps: system-deps $(STAMP)
	bash scripts/install-llm-server.sh $(BIN)/python

system-deps:
	bash scripts/install-system-deps.sh
	bash scripts/install-mermaid.sh

vendor-web:                    ## re-vendor the dashboard's front-end libraries from npm (pinned) into migrator/web/static/vendor
	bash scripts/vendor-web.sh

# Every machine installs exactly the locked versions (hashes checked), then migrator itself without
# resolving anything: a fresh clone tests what the developer tested. `make lock` refreshes the lock.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --require-hashes -r $(LOCK) 2>&1 | { grep -v 'is ignored: it is neither' || true; }
	$(PIP) --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-* && touch $@

lock: $(STAMP)                 ## re-resolve requirements.lock and scripts/llm-model.lock to the newest versions pyproject.toml allows
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra llm-server --universal --python-version 3.11 \
	    --generate-hashes --upgrade --quiet -o $(LOCK)
	$(BIN)/uv pip compile scripts/llm-model.in --no-deps --universal --python-version 3.11 \
	    --generate-hashes --upgrade --quiet -o scripts/llm-model.lock

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports            # architecture contracts in pyproject.toml [tool.importlinter]

typecheck: $(STAMP)
	$(BIN)/mypy

unit: deps                     ## the fast tests only (no simulator, no PostgreSQL)
	$(BIN)/python -m pytest -q -m "not vcsim and not postgres"

vcsim: deps                    ## build the simulator launcher (also done on demand)
	$(BIN)/python -m migrator.simulator build

bench: deps                    ## performance figures and their targets in one table (not part of `make test`)
	$(BIN)/python benchmarks/report.py

docs: deps                     ## rewrite docs/policies.md from the policy metadata
	$(BIN)/python -m policies.docs > docs/policies.md

eval: deps                     ## golden refinement prompts against the model MIGRATOR_LLM names: pass rates per prompt version
	$(BIN)/python -m agents.eval

eval-mcp: deps                 ## the same golden prompts through `migrator mcp --allow-edits` (propose, preview, apply), the same table
	$(BIN)/python -m agents.eval --via mcp

golden: deps                   ## rewrite the golden plans after an intended change (review the diff)
	UPDATE_GOLDEN=1 $(BIN)/python -m pytest -q tests/test_waves_cli.py tests/test_transpilers.py tests/test_handoff_forklift.py tests/test_handoff_mgn.py -k golden

clean:
	rm -rf $(VENV) .migrator migration .pytest_cache .mypy_cache .ruff_cache
