"""Scheduled runs in a real Odoo process, to be killed with ``kill -9``:
``module.current_test`` is False there, so the cron commits as in
production, on fixtures the test commits through its own cursor."""

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase
from odoo.tools import config

#: what each script starts with: the database's environment as ``env``,
#: the script's own arguments in ``args``
SCRIPT_HEADER = """
import sys
import odoo
from odoo.modules.registry import Registry

rcfile, db, *args = sys.argv[1:]
odoo.tools.config.parse_config(["-c", rcfile, "-d", db, "--log-level=warn", "--no-http"])
registry = Registry(db)
"""


class CronProcessCase(TransactionCase):
    """Runs ``SCRIPT_HEADER`` + a script in a new process; its output goes
    to a log the failures quote."""

    def setUp(self):
        super().setUp()
        handle, self.log = tempfile.mkstemp(prefix="social_crm_cron_", suffix=".log")
        os.close(handle)
        self.addCleanup(os.unlink, self.log)

    @contextmanager
    def committed(self):
        """An environment on a new cursor, committed on exit: what another
        process sees, outside the test's transaction."""
        with self.registry.cursor() as cr:  # commits when the block ends without error
            yield api.Environment(cr, SUPERUSER_ID, {})

    def start_cron(self, script, *args):
        env = {**os.environ, "PYTHONPATH": str(Path(odoo.__file__).resolve().parent.parent)}
        with open(self.log, "ab") as log:
            process = subprocess.Popen(  # pylint: disable=consider-using-with  # killed or waited by the test
                [sys.executable, "-c", SCRIPT_HEADER + script, config.rcfile, self.env.cr.dbname, *map(str, args)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self.addCleanup(lambda: process.poll() is None and process.kill())
        return process

    def output(self):
        return Path(self.log).read_text(encoding="utf-8", errors="replace")[-3000:]
