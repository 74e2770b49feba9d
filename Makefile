# Entry points; the work is done by the scripts in tools/ (settings: tools/env.sh).
#   make demo   Odoo with social_crm_demo (social_crm, demo sources, fake platform servers)
#               at http://127.0.0.1:8069 (admin / admin)
#   make test   every test suite; ends with the line `N passed, N failed`
#   make stop   stop what `make demo` / `make test` left running
#   make bench  the ingestion benchmark (5,000 posts from the fake X and Mastodon servers), then
#               the recompute of sentiment and roles over 10,000 and 50,000 messages
# Settings such as ODOO_SRC, PG_PORT or HTTP_PORT can be given on the command
# line (`make test ODOO_SRC=/srv/odoo18`) or in the environment.

.PHONY: demo test stop bench venv clean

demo:
	@tools/demo.sh

test:
	@tools/test.sh

stop:
	@tools/stop.sh

bench:
	@tools/bench.sh

# Only builds or refreshes .venv.
venv:
	@tools/venv.sh

# Stops everything, then deletes .run/: the cluster, databases and logs.
clean: stop
	@tools/clean.sh
