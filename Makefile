# Strata: the two commands of the README are `make aio` (deploy the lab cloud) and `make test`.
SHELL := /bin/bash
VENV := .venv/bin
export PATH := $(CURDIR)/.venv/bin:$(PATH)
# Every scenario under molecule/ (the _shared directory holds what they share).
SCENARIOS ?= $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))

.PHONY: bootstrap lint unit molecule test aio aio-down bench

bootstrap:
	./scripts/bootstrap

lint: bootstrap
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/yamllint -s .
	$(VENV)/ansible-lint -q

unit: bootstrap
	$(VENV)/pytest -q tests/unit

# Each scenario creates its own hosts in the lab and removes them; all run, failures are summed.
molecule: bootstrap
	@failed=""; for s in $(SCENARIOS); do \
	  echo "=== molecule scenario $$s"; \
	  $(VENV)/molecule test -s $$s || failed="$$failed $$s"; \
	done; \
	if [ -n "$$failed" ]; then echo "molecule: failed:$$failed"; exit 1; fi

test: lint unit molecule

bench: bootstrap
	@for b in bench/*.py; do echo "=== $$b"; $(VENV)/python $$b || exit 1; done
