from odoo import api, fields, models

from .platforms import PLATFORMS

LINK_METHODS = [
    ("manual", "Linked by a person"),
    ("handle", "Handle or profile URL on the partner"),
    ("email", "Email matches the partner"),
    ("website", "Verified website matches the partner"),
]


class SocialIdentity(models.Model):
    """One account on one platform, linked to a partner with the evidence
    for that link."""

    _name = "social.identity"
    _description = "Social Identity"
    _order = "last_seen_at desc nulls last, id desc"
    _rec_names_search = ["handle", "name", "external_id"]

    platform = fields.Selection(PLATFORMS, required=True, index=True)
    external_id = fields.Char(
        "External ID", required=True, index=True, copy=False,
        help="The platform's stable id of the account.")
    handle = fields.Char(index="trigram")
    name = fields.Char()
    profile_url = fields.Char("Profile URL")
    avatar_url = fields.Char("Avatar URL")
    bio = fields.Text()
    email = fields.Char(help="Public email of the account, when the platform shows one.")
    follower_count = fields.Integer()
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="set null")
    link_method = fields.Selection(LINK_METHODS, copy=False)
    link_confidence = fields.Float(
        copy=False, help="How sure the link to the partner is, from 0 (a guess) to 1 (certain).")
    link_evidence = fields.Text(copy=False, help="What the link to the partner rests on.")
    company_id = fields.Many2one(
        "res.company", index=True,
        help="Set when only one company's sources have seen this account; empty when shared.")
    message_ids = fields.One2many("social.message", "author_id")
    message_count = fields.Integer(compute="_compute_activity", store=True)
    first_seen_at = fields.Datetime(compute="_compute_activity", store=True)
    last_seen_at = fields.Datetime(compute="_compute_activity", store=True)

    _sql_constraints = [
        ("platform_external_id_unique", "UNIQUE(platform, external_id)",
         "This account is already known on this platform."),
    ]

    @api.depends("handle", "name", "platform")
    def _compute_display_name(self):
        labels = dict(self._fields["platform"]._description_selection(self.env))
        for identity in self:
            who = identity.handle or identity.name or identity.external_id
            identity.display_name = f"{who} ({labels.get(identity.platform, '')})"

    @api.depends("message_ids.posted_at")
    def _compute_activity(self):
        stats = {
            author: (count, first, last)
            for author, count, first, last in self.env["social.message"]._read_group(
                [("author_id", "in", self.ids)], ["author_id"],
                ["__count", "posted_at:min", "posted_at:max"])
        }
        for identity in self:
            identity.message_count, identity.first_seen_at, identity.last_seen_at = stats.get(
                identity, (0, False, False))

    def action_link_partner(self, partner, method="manual", confidence=1.0, evidence=""):
        """Link to ``partner`` and keep what the link rests on."""
        self.write({
            "partner_id": partner.id, "link_method": method, "link_confidence": confidence,
            "link_evidence": evidence or self.env._("Linked by %(user)s", user=self.env.user.name),
        })

    def action_unlink_partner(self):
        self.write({"partner_id": False, "link_method": False, "link_confidence": 0, "link_evidence": False})

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        """A link set by hand in the form is a manual, certain link."""
        for identity in self:
            if identity.partner_id:
                identity.link_method = "manual"
                identity.link_confidence = 1.0

    # ------------------------------------------------------------------
    # Sync
    # ------------------------------------------------------------------

    @api.model
    def _odoo_values(self, author):
        """Values of a channel ``Author``, as they are kept current."""
        return {
            "handle": author.handle or False,
            "name": author.name or False,
            "profile_url": author.profile_url or False,
            "avatar_url": author.avatar_url or False,
            "bio": author.bio or False,
            "email": author.email or False,
            "follower_count": author.followers or 0,
        }

    @api.model
    def _upsert_authors(self, source, authors):
        """Create or refresh the identities of ``authors`` in one search and
        one create; write only those whose profile changed. Returns a map
        external id -> identity."""
        found = self.search([("platform", "=", source.platform), ("external_id", "in", [a.external_id for a in authors])])
        by_external_id = {identity.external_id: identity for identity in found}
        to_create = []
        for author in authors:
            values = self._odoo_values(author)
            identity = by_external_id.get(author.external_id)
            if identity is None:
                to_create.append({**values, "platform": source.platform, "external_id": author.external_id,
                                  "company_id": source.company_id.id})
                continue
            changed = {name: value for name, value in values.items() if (identity[name] or False) != value}
            if identity.company_id and identity.company_id != source.company_id:
                changed["company_id"] = False  # now seen by several companies: shared
            if changed:
                identity.write(changed)
        created = self.create(to_create)
        by_external_id.update((identity.external_id, identity) for identity in created)
        return by_external_id
