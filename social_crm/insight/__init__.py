"""Pure-Python insight layer: language, sentiment and community roles.

Like ``channels/``, nothing below this package imports ``odoo``: the ORM side
(``models/``) gathers the figures in batches and stores what these functions
decide, so the rules can be tested and benchmarked without a database.
"""

from .roles import ROLES, RoleStats, Thresholds, assess, customer_weight
from .sentiment import SUPPORTED_LANGUAGES, Sentiment, analyze, analyze_many, plain_text
