"""Community roles: who speaks most, who complains lastingly, who helps
other customers and who praises, each weighted by what the customer is worth.

Pure rules over figures that the ORM gathers in batches (``RoleStats``); the
thresholds come from the settings (``Thresholds``, with the defaults below).
"""

import math
from dataclasses import dataclass, fields

ROLES = ("power_user", "detractor", "helper", "advocate")


@dataclass(frozen=True)
class Thresholds:
    """The rules' settings; each name is also the settings key after
    ``social_crm.role_``."""

    #: only messages this recent count (days)
    window_days: int = 90
    power_min_messages: int = 20
    power_min_reach: int = 1000
    #: average sentiment at or below this, over enough negative messages
    #: spread over enough days, makes a detractor: one bad day does not
    detractor_max_sentiment: float = -0.25
    detractor_min_negative: int = 3
    detractor_min_days: int = 7
    helper_min_replies: int = 3
    advocate_min_sentiment: float = 0.3
    advocate_min_positive: int = 3
    advocate_min_reach: int = 100

    @classmethod
    def from_params(cls, get_param):
        """Thresholds read through ``get_param(key)`` (strings or None);
        an empty or unreadable setting keeps its default."""
        values = {}
        for field in fields(cls):
            raw = get_param(f"social_crm.role_{field.name}")
            if raw in (None, False, ""):
                continue
            try:
                values[field.name] = type(field.default)(raw)
            except (TypeError, ValueError):
                continue
        return cls(**values)


@dataclass(frozen=True)
class RoleStats:
    """One identity's or contact's figures over the window."""

    messages: int = 0
    #: followers, plus likes and reposts their messages received
    reach: int = 0
    scored: int = 0
    sentiment_sum: float = 0.0
    positive: int = 0
    negative: int = 0
    #: days between their first and last negative message
    negative_days: float = 0.0
    #: public replies to another customer's post in an open thread
    helper_replies: int = 0

    @property
    def sentiment(self):
        return self.sentiment_sum / self.scored if self.scored else 0.0


def customer_weight(revenue):
    """1 for an unknown customer, growing with the log of won revenue
    (10,000 -> 5, 1,000,000 -> 7): a large customer ranks above an anonymous
    one with the same voice, without drowning every other signal."""
    return 1.0 + math.log10(1.0 + max(revenue or 0.0, 0.0))


def assess(stats, thresholds, revenue=0.0):
    """``{role: weighted score}`` for the roles ``stats`` earn (others absent)."""
    reach_factor = math.log10(10 + stats.reach)
    scores = {}
    if stats.messages >= thresholds.power_min_messages and stats.reach >= thresholds.power_min_reach:
        scores["power_user"] = stats.messages * reach_factor
    if (
        stats.scored
        and stats.sentiment <= thresholds.detractor_max_sentiment
        and stats.negative >= thresholds.detractor_min_negative
        and stats.negative_days >= thresholds.detractor_min_days
    ):
        scores["detractor"] = stats.negative * -stats.sentiment
    if stats.helper_replies >= thresholds.helper_min_replies:
        scores["helper"] = float(stats.helper_replies)
    if (
        stats.scored
        and stats.sentiment >= thresholds.advocate_min_sentiment
        and stats.positive >= thresholds.advocate_min_positive
        and stats.reach >= thresholds.advocate_min_reach
    ):
        scores["advocate"] = stats.positive * stats.sentiment * reach_factor
    weight = customer_weight(revenue)
    return {role: round(score * weight, 2) for role, score in scores.items()}
