"""Root tests need no Odoo: they import the addon's pure-Python packages
(``channels``, ``loopback``) directly from ``social_crm/``."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "social_crm"))
