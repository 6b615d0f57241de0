# Contrat de ville — commandes usuelles.
#   make run      installe, migre, charge les données et sert sur http://127.0.0.1:$(PORT)
#   make test     installe les outils de test et lance toute la suite
#   make install  crée ou met à jour .venv seulement
#   make vnu      installe le validateur HTML Nu des tests navigateur (npm ci, version épinglée)
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO ?= 1
# Adresse des liens envoyés par courriel hors requête (relances, commandes) et affichés par make run :
# suit PORT, sauf si SITE_URL est donné.
SITE_URL ?= http://127.0.0.1:$(PORT)

.PHONY: install install-dev vnu run serve test lint format migrate data clean help

help:
	@grep -E '^#   make' Makefile | sed 's/^#   //'

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Validateur HTML Nu (W3C) des tests navigateur : le paquet npm vnu-jar, version et empreinte
# épinglées par tests/browser/vnu/package-lock.json ; sans ses scripts (il ne télécharge rien d'autre).
# Il lui faut Java (default-jre-headless) ; sans npm, les tests qui l'emploient sont sautés.
VNU_DIR := tests/browser/vnu
VNU_JAR := $(VNU_DIR)/node_modules/vnu-jar/build/dist/vnu.jar

$(VNU_JAR): $(VNU_DIR)/package.json $(VNU_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
		(cd $(VNU_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); \
	else echo "npm absent : validateur HTML Nu non installé (apt-get install npm default-jre-headless)"; fi
	@if [ -f $@ ]; then touch $@; fi

vnu: $(VNU_JAR)

install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

data: migrate
	$(PY) manage.py load_reference_data
	@if [ "$(DEMO)" != "0" ]; then SITE_URL=$(SITE_URL) $(PY) manage.py load_demo_data; fi
	SITE_URL=$(SITE_URL) $(PY) manage.py ensure_pilot

run: data
	@echo "Plateforme servie sur http://127.0.0.1:$(PORT)/ (Ctrl+C pour arrêter)"
	SITE_URL=$(SITE_URL) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install-dev vnu
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(VENV)/bin/pytest --ignore=tests/browser $(PYTEST_ARGS)
	@# Les tests navigateur à part : la boucle asyncio de Playwright ne doit pas croiser l'ORM.
	@if [ "$(SKIP_BROWSER)" != "1" ]; then $(VENV)/bin/pytest tests/browser $(BROWSER_ARGS); fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache $(VNU_DIR)/node_modules
