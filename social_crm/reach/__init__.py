"""Pure-Python text tools for reaching customers: placeholders rendered
safely in tailored messages, and ideas told apart and grouped in what
customers write. Nothing here imports ``odoo``, so each rule is tested
without a database (``tests/test_reach_*.py``)."""

from .ideas import IdeaRule, keywords, match_rule, similarity, strip_trigger
from .placeholders import PlaceholderError, check_template, render

__all__ = [
    "IdeaRule",
    "PlaceholderError",
    "check_template",
    "keywords",
    "match_rule",
    "render",
    "similarity",
    "strip_trigger",
]
