PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
# The reference partner service (examples/partner_service); load_demo registers its callback there.
PARTNER_PORT ?= 8001
# The reference ERP connector (examples/erp_connector); load_demo points Acme ERP's ERP sync at it.
ERP_PORT ?= 8002
# honcho gives each process its own PORT, so the web port travels as WEB_PORT.
export WEB_PORT := $(PORT)
export SITE_URL
export PARTNER_PORT
export ERP_PORT

.PHONY: run test install migrate demo bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

## Set up and start web, Celery worker, Celery beat and the reference partner service together
## (Ctrl-C stops all).
## DEBUG is off unless asked for (make run DEBUG=1), so the demo shows the real error pages.
run: demo
	DEBUG=$${DEBUG:-0} $(BIN)/python manage.py collectstatic --noinput -v0
	DEBUG=$${DEBUG:-0} $(BIN)/honcho -f Procfile.dev start

## The whole test suite.
test: install
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/pytest

## Load 1,000 published apps into PostgreSQL and measure the store, the login service and the ERP sync
## of 10,002 actors under gunicorn (one section: make bench BENCH_ARGS="--only erp").
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var/broker var/staticfiles
