.PHONY: run test lint bench
run:   ## install and run everything with an embedded Valkey and demo data
	./scripts/run
test:  ## install and run lint, types and tests
	./scripts/test
lint:
	.venv/bin/ruff check . && .venv/bin/mypy
bench:
	.venv/bin/python -m bench.streamer && .venv/bin/python -m bench.ingress && .venv/bin/python -m bench.workers
