from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules import module
from odoo.tools import SQL

from .. import reach

#: lines a scheduled run handles before it commits
SEND_BATCH = 200
#: batches per scheduled call, after which it reports progress and is called again
MAX_BATCHES = 10

#: what a sender may write in a template, each filled per recipient
PLACEHOLDERS = ("name", "first_name", "handle", "platform", "company", "idea")

LINE_STATES = ("pending", "sending", "waiting", "sent", "skipped", "failed")

#: template field -> whether it is HTML
TEMPLATES = {"post_body": False, "dm_body": False, "email_subject": False, "email_body": True, "reply_body": False}


class SocialSending(models.Model):
    """Tailored messages to the members of a segment, or a notice to the
    customers who raised an idea: one recipient line per contact and
    channel, sent in batches by a scheduled action, each line at most once."""

    _name = "social.sending"
    _description = "Social Sending"
    _inherit = ["mail.thread", "social.access.mixin"]
    _order = "id desc"

    name = fields.Char(required=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    state = fields.Selection(
        [("draft", "Draft"), ("queued", "Sending"), ("done", "Sent"), ("cancel", "Cancelled")],
        default="draft",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
    )
    segment_id = fields.Many2one("social.segment", index="btree_not_null", ondelete="restrict")
    idea_id = fields.Many2one("social.idea", index="btree_not_null", ondelete="cascade", readonly=True)
    source_id = fields.Many2one(
        "social.source",
        string="Our account",
        ondelete="restrict",
        help="The account that publishes the public posts and sends the direct messages.",
    )
    use_post = fields.Boolean("Public post", help="A post on our account that mentions each member.")
    use_dm = fields.Boolean("Direct message")
    use_email = fields.Boolean("Email")
    post_body = fields.Text("Post", help="The member's handle is mentioned first unless the text names {handle}.")
    dm_body = fields.Text("Direct message text")
    email_subject = fields.Char()
    email_body = fields.Html(sanitize=True)
    reply_body = fields.Text("Notice", help="Told to each customer who raised the idea, in their thread or by email.")
    user_id = fields.Many2one("res.users", string="Sent by", readonly=True, copy=False)
    sent_at = fields.Datetime("Started", readonly=True, copy=False)
    line_ids = fields.One2many("social.sending.line", "sending_id", string="Recipient lines", readonly=True)
    line_count = fields.Integer("Recipients", compute="_compute_counts")
    pending_count = fields.Integer("To send", compute="_compute_counts")
    sent_count = fields.Integer("Sent", compute="_compute_counts")
    skipped_count = fields.Integer("Skipped", compute="_compute_counts")
    failed_count = fields.Integer("Failed", compute="_compute_counts")
    progress = fields.Float(compute="_compute_counts", help="Share of the recipient lines handled, in percent.")

    @api.depends("line_ids.state")
    def _compute_counts(self):
        counts = {
            (sending.id, state): count
            for sending, state, count in self.env["social.sending.line"]._read_group(
                [("sending_id", "in", self.ids)], ["sending_id", "state"], ["__count"]
            )
        }
        for sending in self:
            by_state = {state: counts.get((sending.id, state), 0) for state in LINE_STATES}
            # claimed or waiting for the platform: not sent yet either
            sending.pending_count = by_state["pending"] + by_state["sending"] + by_state["waiting"]
            sending.sent_count = by_state["sent"]
            sending.skipped_count = by_state["skipped"]
            sending.failed_count = by_state["failed"]
            sending.line_count = sum(by_state.values())
            handled = sending.line_count - sending.pending_count
            sending.progress = 100.0 * handled / sending.line_count if sending.line_count else 0.0

    def write(self, vals):
        """Its state moves by its buttons only, and what was sent stays as
        it was sent: the report shows what recipients got."""
        if not self.env.su:
            if {"state", "user_id", "sent_at"} & set(vals):
                raise AccessError(self.env._("A sending's state changes with Send and Stop only."))
            if any(sending.state != "draft" for sending in self) and set(vals) - {"name"}:
                raise UserError(self.env._("Only the name of a sending that started can change."))
        return super().write(vals)

    @api.constrains(*TEMPLATES)
    def _check_templates(self):
        for sending in self:
            for name in TEMPLATES:
                try:
                    reach.check_template(sending[name] or "", PLACEHOLDERS)
                except reach.PlaceholderError as error:
                    raise ValidationError(
                        self.env._(
                            "%(field)s: %(error)s",
                            field=self._fields[name].get_description(self.env)["string"],
                            error=error,
                        )
                    ) from error

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def _check_sender(self):
        """Sending reaches customers outside: a right of its own, checked
        here and not only by the access rules, as the lines are created and
        sent as superuser."""
        if not self.env.user.has_group("social_crm.group_social_crm_sender"):
            raise AccessError(self.env._("Only a Social CRM sender may send messages to customers."))
        self.check_access("write")

    def action_send(self):
        """Freeze the recipients (one line per contact and channel) and let
        the scheduled action send them."""
        self._check_sender()
        for sending in self:
            if sending.state != "draft":
                raise UserError(self.env._("%(name)s was already sent.", name=sending.name))
            lines = sending._recipient_lines()
            if not lines:
                raise UserError(self.env._("%(name)s has no recipient on the chosen channels.", name=sending.name))
            self.env["social.sending.line"].sudo().create(lines)
            sending.sudo().write({"state": "queued", "user_id": self.env.uid, "sent_at": fields.Datetime.now()})
        self.env.ref("social_crm.ir_cron_social_sending_send")._trigger()

    def action_cancel(self):
        """Stop sending: lines not yet sent are skipped."""
        self._check_sender()
        pending = self.line_ids.filtered(lambda line: line.state == "pending")
        pending.sudo().write({"state": "skipped", "skip_reason": "cancelled"})
        self.sudo().write({"state": "cancel"})

    def action_view_lines(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_sending_line_action")
        action["domain"] = [("sending_id", "=", self.id)]
        action["context"] = {"group_by": ["state"]}
        return action

    def _recipient_lines(self):
        """Values of the recipient lines: for a segment, one per member and
        chosen channel, with the member's account on our account's platform
        for posts and direct messages; for an idea, see the idea."""
        self.ensure_one()
        if self.idea_id:
            return self.idea_id._notice_lines(self)
        if not self.segment_id:
            raise UserError(self.env._("Choose the segment to send to."))
        channels = [channel for channel in ("post", "dm", "email") if self[f"use_{channel}"]]
        if {"post", "dm"} & set(channels) and not self.source_id:
            raise UserError(self.env._("Choose our account to publish posts and direct messages from."))
        members = self.segment_id._members()
        platform = self.source_id.platform
        lines = []
        for partner in members:
            identities = partner.social_identity_ids.sorted("last_seen_at", reverse=True)
            on_platform = identities.filtered(lambda identity: identity.platform == platform)[:1]
            for channel in channels:
                identity = identities[:1] if channel == "email" else on_platform
                lines.append(
                    {
                        "sending_id": self.id,
                        "channel": channel,
                        "partner_id": partner.id,
                        "identity_id": identity.id,
                        "recipient_key": f"partner-{partner.id}",
                    }
                )
        return lines

    # ------------------------------------------------------------------
    # Scheduled sending
    # ------------------------------------------------------------------

    @api.model
    def _cron_send(self, batch_size=SEND_BATCH, max_batches=MAX_BATCHES, commit=None):
        """Send pending lines in batches, oldest sending first, and report
        progress (the scheduler calls again while lines remain). A line is
        sent once: an email line is queued to Odoo's outgoing mail in the
        transaction that marks it sent, one commit per batch; a line
        published on a platform is claimed and committed before the call
        (see :meth:`social.sending.line._deliver_publish`), so a run killed
        during the call leaves it claimed, and the next run marks it failed
        rather than publishing it twice. ``commit``: by default outside tests."""
        if commit is None:
            commit = not module.current_test
        Line = self.env["social.sending.line"]
        Line._fail_interrupted()
        Line._follow_waiting()
        done = 0
        for _batch in range(max_batches):
            lines = self._next_lines(batch_size)
            if not lines:
                break
            lines._deliver(commit=commit)
            done += len(lines)
            if commit:
                # one commit per batch: its lines are marked sent with their emails queued, or neither
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self._close_finished()
        remaining = Line.search_count([("state", "=", "pending"), ("sending_id.state", "=", "queued")])
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _next_lines(self, batch_size):
        Line = self.env["social.sending.line"]
        Line.flush_model(["state", "sending_id"])
        self.flush_model(["state"])
        self.env.cr.execute(
            SQL(
                """SELECT line.id FROM social_sending_line line
                     JOIN social_sending sending ON sending.id = line.sending_id
                    WHERE line.state = 'pending' AND sending.state = 'queued'
                    ORDER BY line.sending_id, line.id
                    LIMIT %s FOR UPDATE OF line SKIP LOCKED""",
                batch_size,
            )
        )
        return Line.browse(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _close_finished(self):
        """Queued sendings with no line left to send or waiting for the
        platform are done."""
        queued = self.search([("state", "=", "queued")])
        open_sendings = {
            sending
            for sending, _count in self.env["social.sending.line"]._read_group(
                [("sending_id", "in", queued.ids), ("state", "in", ("pending", "sending", "waiting"))],
                ["sending_id"],
                ["__count"],
            )
        }
        queued.filtered(lambda sending: sending not in open_sendings).write({"state": "done"})
