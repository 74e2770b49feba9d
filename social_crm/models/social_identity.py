from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, email_normalize
from odoo.tools.sql import escape_psql

from ..channels.domains import registrable_domain, site_domain, spellings
from .platforms import PLATFORMS
from .social_message import ROLLUPS_LATER


@dataclass(frozen=True)
class EvidenceKind:
    """What a link between an account and a partner may rest on, and how
    sure it makes the link (0: a guess, 1: certain)."""

    code: str
    label: str
    confidence: float
    #: enough on its own to link an account that it ties to one partner
    links: bool = True


EVIDENCE_KINDS = (
    EvidenceKind("manual", "Linked by a person", 1.0),
    EvidenceKind("handle", "Handle or profile URL on the partner", 0.9),
    EvidenceKind("email", "Email matches the partner", 0.8),
    EvidenceKind("website", "Verified website matches the partner", 0.95),
    EvidenceKind("name", "Name looks alike", 0.3, links=False),
)
CONFIDENCE = {kind.code: kind.confidence for kind in EVIDENCE_KINDS}
#: evidence that ties an account to several partners, or a feed's
#: self-declared commenter to one, proves less: its confidence is halved
AMBIGUOUS_FACTOR = 0.5

LINK_METHODS = [(kind.code, kind.label) for kind in EVIDENCE_KINDS if kind.links]
SUGGESTION_METHODS = [(kind.code, kind.label) for kind in EVIDENCE_KINDS]


@dataclass(frozen=True)
class LinkProposal:
    """A partner an identity may belong to, on which evidence."""

    identity: models.BaseModel
    partner: models.BaseModel
    method: str
    confidence: float
    evidence: str


class SocialIdentity(models.Model):
    """One account on one platform, linked to a partner with the evidence
    for that link."""

    _name = "social.identity"
    _description = "Social Identity"
    _inherit = ["social.access.mixin", "social.sentiment.mixin", "social.community.mixin"]
    _order = "last_seen_at desc nulls last, id desc"
    _rec_names_search = ["handle", "name", "external_id"]
    _social_message_key = "author_id"

    platform = fields.Selection(PLATFORMS, required=True, index=True)
    external_id = fields.Char(
        "External ID", required=True, index=True, copy=False, help="The platform's stable id of the account."
    )
    handle = fields.Char(index="trigram")
    name = fields.Char()
    profile_url = fields.Char("Profile URL")
    avatar_url = fields.Char("Avatar URL")
    bio = fields.Text()
    email = fields.Char(help="Public email of the account, when the platform shows one.")
    follower_count = fields.Integer()
    website = fields.Text(help="The websites the platform itself verified as this account's, one per line.")
    suggestion_ids = fields.One2many("social.identity.suggestion", "identity_id", string="Suggested partners")
    partner_id = fields.Many2one("res.partner", index="btree_not_null", ondelete="set null")
    link_method = fields.Selection(LINK_METHODS, copy=False)
    link_confidence = fields.Float(
        copy=False, help="How sure the link to the partner is, from 0 (a guess) to 1 (certain)."
    )
    link_evidence = fields.Text(copy=False, help="What the link to the partner rests on.")
    company_id = fields.Many2one(
        "res.company", index=True, help="Set when only one company's sources have seen this account; empty when shared."
    )
    message_ids = fields.One2many("social.message", "author_id")
    message_count = fields.Integer(compute="_compute_activity", store=True)
    first_seen_at = fields.Datetime(compute="_compute_activity", store=True)
    last_seen_at = fields.Datetime(compute="_compute_activity", store=True)

    _sql_constraints = [
        (
            "platform_external_id_unique",
            "UNIQUE(platform, external_id)",
            "This account is already known on this platform.",
        ),
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
                [("author_id", "in", self.ids)], ["author_id"], ["__count", "posted_at:min", "posted_at:max"]
            )
        }
        for identity in self:
            identity.message_count, identity.first_seen_at, identity.last_seen_at = stats.get(
                identity, (0, False, False)
            )

    @api.model_create_multi
    def create(self, vals_list):
        identities = super().create(vals_list)
        identities.filtered("partner_id")._log_partner_links({})
        return identities

    def write(self, vals):
        """A note on the contacts a link changes; a new partner takes the
        account's sentiment from the old one (at once, unless the caller
        refreshes the roll-ups of a whole batch later)."""
        if "partner_id" not in vals:
            return super().write(vals)
        before = {identity: identity.partner_id for identity in self}
        partners = self.partner_id
        result = super().write(vals)
        self._log_partner_links(before)
        if not self.env.context.get(ROLLUPS_LATER):
            (partners | self.partner_id)._refresh_social_sentiment()
        return result

    def _log_partner_links(self, before):
        """A note in the contact's chatter when an account is linked to it or
        unlinked from it: once per link, never per post. Written at commit
        in one batch, as Odoo writes tracking: a pull that links many
        accounts costs the same few queries."""
        changes = [
            (identity.id, before.get(identity, identity.partner_id.browse()).id, identity.partner_id.id)
            for identity in self
            if before.get(identity, identity.partner_id.browse()) != identity.partner_id
        ]
        if not changes:
            return
        pending = self.env.cr.precommit.data.setdefault("social_crm.identity_links", [])
        if not pending:
            self.env.cr.precommit.add(self._log_pending_partner_links)
        pending.extend(changes)

    def _log_pending_partner_links(self):
        changes = self.env.cr.precommit.data.pop("social_crm.identity_links", [])
        identities = self.sudo().browse({identity_id for identity_id, _old, _new in changes}).exists()
        lines = {}
        for identity_id, old, new in changes:
            identity = identities.browse(identity_id)
            if identity not in identities:
                continue
            if old:
                lines.setdefault(old, []).append(
                    self.env._("Social account %(account)s unlinked from this contact.", account=identity.display_name)
                )
            if new and identity.partner_id.id == new:
                lines.setdefault(new, []).append(
                    self.env._(
                        "Social account %(account)s linked to this contact: %(evidence)s",
                        account=identity.display_name,
                        evidence=identity.link_evidence or self.env._("set by hand"),
                    )
                )
        partners = self.env["res.partner"].sudo().browse(lines).exists()
        partners._message_log_batch(
            bodies={partner.id: Markup("<br/>").join(lines[partner.id]) for partner in partners}
        )

    def _social_role_candidates(self):
        return [("message_count", ">", 0)]

    def _social_followers(self):
        return {identity.id: identity.follower_count for identity in self}

    def _social_commercial_partners(self):
        return {identity.id: identity.partner_id.commercial_partner_id for identity in self}

    def _link_partner(self, partner, method="manual", evidence=""):
        """Link to ``partner`` on ``method`` evidence, with its confidence,
        and keep what the link rests on. Private: only code that weighed the
        evidence links (a person links by setting the partner in the form)."""
        self.write(
            {
                "partner_id": partner.id,
                "link_method": method,
                "link_confidence": CONFIDENCE[method],
                "link_evidence": evidence or self.env._("Linked by %(user)s", user=self.env.user.name),
            }
        )

    def action_erase(self):
        """Erase these accounts and everything they wrote, for an erasure
        request; a tombstone keeps later pulls from bringing them back."""
        self.check_access("unlink")
        self.env["social.identity.erasure"]._erase(self)

    def action_unlink_partner(self):
        self.write({"partner_id": False, "link_method": False, "link_confidence": 0, "link_evidence": False})

    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        """A link set by hand in the form is a manual, certain link."""
        for identity in self:
            if identity.partner_id:
                identity.link_method = "manual"
                identity.link_confidence = CONFIDENCE["manual"]

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
            "website": "\n".join(author.verified_websites) or False,
        }

    @api.model
    def _upsert_authors(self, source, authors):
        """Create or refresh the identities of ``authors`` in one search and
        one create; write only those whose profile changed. Returns a map
        external id -> identity."""
        found = self.search(
            [("platform", "=", source.platform), ("external_id", "in", [a.external_id for a in authors])]
        )
        by_external_id = {identity.external_id: identity for identity in found}
        to_create = []
        for author in authors:
            values = self._odoo_values(author)
            identity = by_external_id.get(author.external_id)
            if identity is None:
                to_create.append(
                    {
                        **values,
                        "platform": source.platform,
                        "external_id": author.external_id,
                        "company_id": source.company_id.id,
                    }
                )
                continue
            changed = {name: value for name, value in values.items() if (identity[name] or False) != value}
            if identity.company_id and identity.company_id != source.company_id:
                changed["company_id"] = False  # now seen by several companies: shared
            if changed:
                identity.write(changed)
        created = self.create(to_create)
        by_external_id.update((identity.external_id, identity) for identity in created)
        (created | found).filtered(lambda identity: not identity.partner_id)._link_by_evidence()
        return by_external_id

    # ------------------------------------------------------------------
    # Partner matching
    # ------------------------------------------------------------------

    def _link_by_evidence(self):
        """Link identities to partners on evidence only, and store it.

        A handle or profile URL recorded on the partner, the profile's email
        or a website the platform verified link the identity when they point
        to one partner; when they point to several, or when only the name is
        alike, a person reviews a suggestion. A feed's commenters declare
        their own name, email and URL, so their evidence is only ever a
        suggestion. Rejected pairs stay rejected. A constant number of
        queries, whatever the number of identities.
        """
        if not self:
            return
        rejected = {
            (s.identity_id.id, s.partner_id.id)
            for s in self.env["social.identity.suggestion"].search_fetch(
                [("identity_id", "in", self.ids), ("state", "=", "rejected")], ["identity_id", "partner_id"]
            )
        }
        strong = {
            "handle": self._partners_by_handle(),
            "email": self._partners_by_email(),
            "website": self._partners_by_website(),
        }
        proposals = []
        # the partners linked here take their accounts' sentiment once, at the end
        for identity in self.with_context(**{ROLLUPS_LATER: True}):
            # the first evidence that ties the account to one partner links it
            for method, matches in strong.items():
                partners = matches.get(identity.id)
                if partners and rejected:
                    partners = partners.filtered(
                        lambda partner, identity=identity: (identity.id, partner.id) not in rejected
                    )
                if not partners:
                    continue
                evidence = identity._evidence_text(method)
                if len(partners) == 1 and identity.platform != "feed":
                    identity._link_partner(partners, method=method, evidence=evidence)
                    break
                confidence = CONFIDENCE[method] * AMBIGUOUS_FACTOR
                proposals += [LinkProposal(identity, partner, method, confidence, evidence) for partner in partners]
        unlinked = self.filtered(lambda identity: not identity.partner_id)
        for identity, partners in unlinked._partners_by_name().items():
            proposals += [
                LinkProposal(identity, partner, "name", CONFIDENCE["name"], identity._evidence_text("name"))
                for partner in partners
                if (identity.id, partner.id) not in rejected
            ]
        self.env["social.identity.suggestion"]._suggest(
            [proposal for proposal in proposals if not proposal.identity.partner_id]
        )
        self.partner_id._refresh_social_sentiment()

    def _evidence_text(self, method):
        if method == "handle":
            return self.env._("The partner records this account (%(handle)s).", handle=self.handle or self.profile_url)
        if method == "email":
            return self.env._("The profile shows the partner's email %(email)s.", email=self.email)
        if method == "website":
            return self.env._(
                "%(platform)s verified the partner's website %(website)s.", platform=self.platform, website=self.website
            )
        return self.env._("The name %(name)s looks like the partner's.", name=self.name)

    def _partners_containing(self, column, fragments, where=SQL()):
        """Active partners whose ``column`` contains one of ``fragments``
        (case-insensitive), as ``{id: value}``, in one query."""
        self.env["res.partner"].flush_model([column, "active", "is_company"])
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM res_partner WHERE active %s AND %s ILIKE ANY(%s)",
                SQL.identifier(column),
                where,
                SQL.identifier(column),
                [f"%{escape_psql(fragment)}%" for fragment in fragments],
            )
        )
        return dict(self.env.cr.fetchall())

    @staticmethod
    def _normalized_account(value):
        """``@Jo``, ``jo``, ``https://x.com/jo/`` -> comparable forms."""
        value = (value or "").strip().lower()
        if "://" in value:
            parts = urlsplit(value)
            return f"{parts.hostname or ''}{parts.path.rstrip('/')}"
        return value.lstrip("@")

    def _partners_by_handle(self):
        # a feed author's "handle" is the name typed in a comment form
        accounts = {
            identity.id: [
                value for value in (identity.platform != "feed" and identity.handle, identity.profile_url) if value
            ]
            for identity in self
        }
        if not any(accounts.values()):
            return {}
        # few partners record accounts, and a batch brings many: read those
        # partners once rather than match every handle in SQL, and read the
        # batch's accounts only when some partner records one
        recording = self.env["res.partner"].search_fetch([("social_handles", "!=", False)], ["social_handles"])
        if not recording:
            return {}
        wanted, matches = {}, {}
        for identity_id, values in accounts.items():
            for value in values:
                wanted.setdefault(self._normalized_account(value), set()).add(identity_id)
        for partner in recording:
            for line in partner.social_handles.splitlines():
                for identity_id in wanted.get(self._normalized_account(line), ()):
                    matches[identity_id] = matches.get(identity_id, partner.browse()) | partner
        return matches

    def _partners_by_email(self):
        emails = {identity.id: email_normalize(identity.email) for identity in self if identity.email}
        emails = {key: email for key, email in emails.items() if email}
        if not emails:
            return {}
        partners = self.env["res.partner"].search_fetch(
            [("email_normalized", "in", list(set(emails.values())))], ["email_normalized"]
        )
        by_email = partners.grouped("email_normalized")
        return {identity_id: by_email[email] for identity_id, email in emails.items() if email in by_email}

    def _partners_by_website(self):
        """Companies whose website lies under the registrable domain of a
        site the platform verified: ``blog.tentworks.example`` is evidence
        for ``www.tentworks.example``, ``carol.github.io`` only for a company
        whose site is ``carol.github.io``, never for GitHub."""
        domains = {
            identity.id: {site_domain(url) for url in (identity.website or "").split()} - {""} for identity in self
        }
        domains = {identity_id: wanted for identity_id, wanted in domains.items() if wanted}
        if not domains:
            return {}
        fragments = set().union(*(spellings(domain) for wanted in domains.values() for domain in wanted))
        Partner = self.env["res.partner"]
        websites = self._partners_containing("website", fragments, where=SQL("AND is_company"))
        by_domain = {}
        for partner_id, website in websites.items():
            domain = registrable_domain(website)
            by_domain[domain] = by_domain.get(domain, Partner) | Partner.browse(partner_id)
        return {
            identity_id: Partner.union(*(by_domain.get(domain, Partner) for domain in wanted))
            for identity_id, wanted in domains.items()
        }

    def _partners_by_name(self):
        names = {
            identity.id: identity.name.strip().lower()
            for identity in self
            if identity.name and len(identity.name.strip()) > 3
        }
        if not names:
            return {}
        self.env["res.partner"].flush_model(["name"])
        self.env.cr.execute(
            SQL(
                "SELECT id, lower(name) FROM res_partner WHERE active AND lower(name) = ANY(%s)",
                list(set(names.values())),
            )
        )
        by_name = {}
        for partner_id, name in self.env.cr.fetchall():
            by_name.setdefault(name, []).append(partner_id)
        return {
            self.browse(identity_id): self.env["res.partner"].browse(by_name[name])
            for identity_id, name in names.items()
            if name in by_name
        }
