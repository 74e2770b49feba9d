from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError
from odoo.modules import module
from odoo.tools import SQL

from ..insight import ROLES, RoleStats, Thresholds, assess
from .cron_batches import run_in_batches
from .social_sentiment_mixin import USERS

#: identities or contacts per batch: one set of grouped queries each
ROLE_BATCH = 1000
#: batches per cron call; the cron runner calls again while some remain
ROLE_BATCHES_PER_RUN = 10
#: roles computed more recently than this are left alone by the cron
ROLE_REFRESH = timedelta(hours=12)
ROLE_FIELDS = {"social_role_ids", "social_roles_at", *(f"social_{role}_score" for role in ROLES)}



class SocialCommunityMixin(models.AbstractModel):
    """Community roles of an identity or a contact, recomputed on schedule
    from its messages, with a score per role weighted by the won revenue of
    the customer (the contact's commercial entity) to sort on."""

    _name = "social.community.mixin"
    _description = "Community Roles"

    social_role_ids = fields.Many2many("social.role", string="Community roles", readonly=True, groups=USERS)
    social_power_user_score = fields.Float(
        "Power user score", readonly=True, digits=(16, 2), aggregator="max", groups=USERS
    )
    social_detractor_score = fields.Float(
        "Detractor score", readonly=True, digits=(16, 2), aggregator="max", groups=USERS
    )
    social_helper_score = fields.Float(
        "Helper score", readonly=True, digits=(16, 2), aggregator="max", groups=USERS
    )
    social_advocate_score = fields.Float(
        "Advocate score", readonly=True, digits=(16, 2), aggregator="max", groups=USERS
    )
    social_roles_at = fields.Datetime("Roles computed on", readonly=True, copy=False, groups=USERS)

    def write(self, vals):
        """Roles and their scores are the rules' to set, never a user's."""
        if not self.env.su and ROLE_FIELDS.intersection(vals):
            raise AccessError(self.env._("Community roles are computed on schedule; they cannot be set by hand."))
        return super().write(vals)

    def _social_role_candidates(self):
        """The domain of the records that may hold a role."""
        raise NotImplementedError

    def _social_followers(self):
        """``{id: followers}`` of ``self``."""
        raise NotImplementedError

    def _social_commercial_partners(self):
        """``{id: commercial partner}`` of each of ``self`` (an empty
        recordset when none), whose won revenue weighs on the roles."""
        raise NotImplementedError

    def _after_social_roles(self):
        """Hook once the roles of ``self`` are stored."""

    @api.model
    def _cron_compute_social_roles(self, stale_before=None, commit=None):
        """Recompute the roles of the records not recomputed since
        ``stale_before`` (by default ``ROLE_REFRESH`` ago), batch by batch."""
        if commit is None:
            commit = not module.current_test
        stale_before = stale_before or fields.Datetime.now() - ROLE_REFRESH
        domain = self._social_role_candidates() + [
            "|",
            ("social_roles_at", "=", False),
            ("social_roles_at", "<", stale_before),
        ]
        thresholds = Thresholds.from_params(self.env["ir.config_parameter"].sudo().get_param)
        return run_in_batches(
            self,
            domain,
            lambda records: records._compute_social_roles(thresholds),
            ROLE_BATCH,
            ROLE_BATCHES_PER_RUN,
            commit,
        )

    def _compute_social_roles(self, thresholds):
        """Compute and store the roles of ``self``: a constant number of
        queries whatever its size."""
        now = fields.Datetime.now()
        stats = self._social_role_stats(now - timedelta(days=thresholds.window_days))
        followers = self._social_followers()
        commercial = self._social_commercial_partners()
        revenue = self._social_won_revenue(self.env["res.partner"].union(*commercial.values()))
        roles = {role.code: role for role in self.env["social.role"].search([])}
        by_roles = defaultdict(self.browse)
        for record in self:
            figures = stats.get(record.id, RoleStats())
            figures = replace(figures, reach=figures.reach + followers.get(record.id, 0))
            scores = assess(figures, thresholds, revenue.get(commercial[record.id].id, 0.0))
            record.write(
                {f"social_{role}_score": scores.get(role, 0.0) for role in ROLES} | {"social_roles_at": now}
            )
            by_roles[frozenset(scores) & set(roles)] |= record
        for held, records in by_roles.items():
            records.write({"social_role_ids": [Command.set([roles[code].id for code in held])]})
        self._after_social_roles()

    def _social_role_stats(self, since):
        """``{id: RoleStats}`` from one grouped query over the inbound
        messages of ``self`` since ``since``. A helper reply answers another
        customer's inbound post in a public thread of several people: a reply
        to our own account (outbound) or to oneself does not count."""
        # the message field that points at the record, as for the sentiment roll-ups
        key = SQL.identifier("m", self._social_message_key)
        self.env["social.message"].flush_model()
        self.env["social.conversation"].flush_model(["kind"])
        negative = SQL("m.sentiment_label = 'negative'")
        self.env.cr.execute(
            SQL(
                """
                SELECT %(key)s,
                       count(*),
                       coalesce(sum(coalesce(m.like_count, 0) + coalesce(m.repost_count, 0)), 0),
                       count(*) FILTER (WHERE m.sentiment_state = 'scored'),
                       coalesce(sum(m.sentiment_score) FILTER (WHERE m.sentiment_state = 'scored'), 0),
                       count(*) FILTER (WHERE m.sentiment_label = 'positive'),
                       count(*) FILTER (WHERE %(negative)s),
                       coalesce(extract(epoch FROM max(m.posted_at) FILTER (WHERE %(negative)s)
                                              - min(m.posted_at) FILTER (WHERE %(negative)s)) / 86400, 0),
                       count(*) FILTER (WHERE p.direction = 'inbound'
                                          AND p.author_id IS DISTINCT FROM m.author_id
                                          AND (m.partner_id IS NULL OR p.partner_id IS DISTINCT FROM m.partner_id)
                                          AND c.kind = 'one_to_one_to_many'
                                          AND m.visibility = 'public')
                  FROM social_message m
                  JOIN social_conversation c ON c.id = m.conversation_id
             LEFT JOIN social_message p ON p.id = m.parent_id
                 WHERE %(key)s = ANY(%(ids)s)
                   AND m.direction = 'inbound'
                   AND coalesce(m.posted_at, m.create_date) >= %(since)s
              GROUP BY %(key)s
                """,
                key=key,
                negative=negative,
                ids=self.ids,
                since=since,
            )
        )
        return {
            record_id: RoleStats(messages, int(engagement), scored, score_sum, positive, negative_count, days, helper)
            for record_id, messages, engagement, scored, score_sum, positive, negative_count, days, helper in (
                self.env.cr.fetchall()
            )
        }

    @api.model
    def _social_won_revenue(self, commercial_partners):
        """``{commercial partner id: revenue}`` of the won opportunities of
        each commercial entity and its contacts, in one grouped query."""
        if not commercial_partners:
            return {}
        rows = self.env["crm.lead"]._read_group(
            [("partner_id", "child_of", commercial_partners.ids), ("stage_id.is_won", "=", True)],
            ["partner_id"],
            ["expected_revenue:sum"],
        )
        revenue = defaultdict(float)
        for partner, amount in rows:
            revenue[partner.commercial_partner_id.id] += amount
        return revenue
