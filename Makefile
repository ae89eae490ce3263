run:
	scripts/run

test:
	scripts/test

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

.PHONY: run test lint
