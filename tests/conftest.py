"""Root tests need no Odoo: they import the addon's pure-Python ``channels``
from ``social_crm/`` and the fake platform servers ``fake_platforms`` from
``social_crm_demo/`` directly."""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "social_crm"), str(REPO / "social_crm_demo")]
