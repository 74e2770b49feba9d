import re

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from ..models.platforms import INFO

#: what a canned reply may name; anything else in braces stays as written
PLACEHOLDER = re.compile(r"\{(name|handle|case)\}")
MODES = [
    ("reply", "Public reply"),
    ("direct", "Private message"),
    ("handoff", "Move to private"),
    ("close", "Close the case"),
]


class SocialReplyWizard(models.TransientModel):
    """Write a reply, a private message, a public-to-private handoff or a
    closing note, published on the platform of the conversation (or sent by
    email where the platform cannot carry it)."""

    _name = "social.reply.wizard"
    _description = "Reply on a social platform"

    mode = fields.Selection(MODES, required=True, default="reply")
    conversation_id = fields.Many2one("social.conversation", required=True, readonly=True)
    case_id = fields.Many2one("social.case", readonly=True)
    platform = fields.Selection(related="conversation_id.platform")
    team_id = fields.Many2one("crm.team", compute="_compute_team_id")
    parent_id = fields.Many2one(
        "social.message",
        string="In reply to",
        domain="[('conversation_id', '=', conversation_id), ('external_id', '!=', False)]",
    )
    post_url = fields.Char(related="parent_id.url")
    recipient_id = fields.Many2one("social.identity", string="Customer's account")
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        help="Whom the email goes to where the platform has no direct messages or no reply API.",
    )
    email_to = fields.Char(
        "Email",
        compute="_compute_email_to",
        help="The contact's address, else the one the account shows (a feed's author).",
    )
    canned_response_id = fields.Many2one(
        "mail.canned.response",
        string="Canned reply",
        domain="['|', ('social_team_ids', '=', False), ('social_team_ids', 'in', [team_id or 0])]",
    )
    body = fields.Text("Message")
    private_body = fields.Text("Private message", help="What the customer receives privately after the handoff.")
    retry_message_id = fields.Many2one("social.message", readonly=True)
    can_publish = fields.Boolean(compute="_compute_channels")
    private_channel = fields.Selection(
        [("direct", "Direct message"), ("email", "Email"), ("none", "None")], compute="_compute_channels"
    )
    max_length = fields.Integer(compute="_compute_channels")

    @api.depends("case_id.team_id", "conversation_id.team_id")
    def _compute_team_id(self):
        for wizard in self:
            wizard.team_id = wizard.case_id.team_id or wizard.conversation_id.team_id

    @api.depends("case_id", "recipient_id", "parent_id")
    def _compute_partner_id(self):
        for wizard in self:
            identity = wizard.recipient_id or wizard.parent_id.author_id
            wizard.partner_id = wizard.case_id.partner_id or identity.partner_id

    @api.depends("partner_id.email", "recipient_id.email", "parent_id.author_id.email")
    def _compute_email_to(self):
        for wizard in self:
            identity = wizard.recipient_id or wizard.parent_id.author_id
            wizard.email_to = wizard.partner_id.email or identity.email

    @api.depends("platform", "mode", "email_to", "recipient_id")
    def _compute_channels(self):
        for wizard in self:
            info = INFO.get(wizard.platform)
            wizard.can_publish = bool(info and info.publishes)
            wizard.max_length = info.max_length if info else 0
            if info and info.direct_messages and wizard.recipient_id:
                wizard.private_channel = "direct"
            elif wizard.email_to:
                wizard.private_channel = "email"
            else:
                wizard.private_channel = "none"

    @api.onchange("canned_response_id")
    def _onchange_canned_response_id(self):
        if self.canned_response_id:
            text = self._render(self.canned_response_id.substitution)
            if self.mode == "handoff" and self.body:
                self.private_body = text
            else:
                self.body = text

    def _render(self, text):
        """The placeholders of a canned reply replaced by plain values; no
        expression is evaluated."""
        identity = self.recipient_id or self.parent_id.author_id or self.case_id.identity_id
        values = {
            "name": self.partner_id.name or identity.name or identity.handle or "",
            "handle": f"@{identity.handle}" if identity.handle else "",
            "case": self.case_id.reference or "",
        }
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], text or "")

    @api.model
    def _action_open(self, conversation, mode, case=None):
        """The composer on ``conversation``, answering its latest inbound post."""
        if not conversation:
            raise UserError(
                self.env._("This case has no social conversation: answer by email with Send message in the chatter.")
            )
        conversation._check_can_reply()
        parent = conversation.post_ids.filtered(lambda post: post.direction == "inbound" and post.external_id)[:1]
        return {
            "type": "ir.actions.act_window",
            "name": dict(MODES)[mode],
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_mode": mode,
                "default_conversation_id": conversation.id,
                "default_case_id": (case or conversation.case_id).id,
                "default_parent_id": parent.id,
                "default_recipient_id": (parent.author_id or (case or conversation.case_id).identity_id).id,
            },
        }

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    def action_send(self):
        self.ensure_one()
        self._check_targets()
        failed = getattr(self, f"_send_{self.mode}")()
        if failed:
            return self.env["social.message"]._failure_notification(failed)
        return {"type": "ir.actions.act_window_close"}

    def _check_targets(self):
        """What the user may not pick over RPC: a case, a post or an account
        outside the conversation they may reply in."""
        conversation = self.conversation_id
        conversation._check_can_reply()
        if self.case_id and conversation.case_id != self.case_id:
            raise UserError(self.env._("The conversation is not part of this case."))
        if self.parent_id and self.parent_id.conversation_id != conversation:
            raise UserError(self.env._("The post answered is not part of the conversation."))
        allowed = conversation.post_ids.author_id | conversation.case_id.identity_id
        if self.recipient_id and self.recipient_id not in allowed:
            raise UserError(self.env._("A private message goes only to someone who took part in the conversation."))

    def _text(self, text, what):
        text = self._render(text).strip()
        if not text:
            raise UserError(self.env._("Write the %(what)s first.", what=what))
        return text

    def _send_reply(self):
        text = self._text(self.body, self.env._("reply"))
        if self.retry_message_id:
            return self._retry(text)
        if not self.can_publish:
            self._send_email(text)
            return None
        return self._publish(text, parent=self.parent_id)

    def _send_direct(self):
        text = self._text(self.body, self.env._("private message"))
        return self._send_privately(text)

    def _send_handoff(self):
        """The public acknowledgement first; the private message only once
        it is published, so that the customer never gets one without the
        other. Both must be possible before anything is sent."""
        ack = self._text(self.body, self.env._("public acknowledgement"))
        private = self._text(self.private_body, self.env._("private message"))
        self._check_private_channel()
        failed = self._publish(ack, parent=self.parent_id)
        if failed:
            return failed
        return self._send_privately(private)

    def _send_close(self):
        """Publish the closing note, if any, then close the case; a note
        the platform refused leaves the case open."""
        if self.body and self.body.strip():
            failed = self._publish(self._text(self.body, self.env._("closing note")), parent=self.parent_id)
            if failed:
                return failed
        stage = self.env["social.case.stage"].search([("is_closed", "=", True)], limit=1)
        if not stage:
            raise UserError(self.env._("No stage closes a case: add one in the configuration."))
        self.case_id.write({"stage_id": stage.id})
        return None

    def _check_private_channel(self):
        if self.private_channel == "none":
            raise UserError(
                self.env._(
                    "%(platform)s cannot carry a private message to this customer and no email address is known: "
                    "link the customer's account to a contact with an email first.",
                    platform=INFO[self.platform].label,
                )
            )

    def _send_privately(self, text):
        """A direct message where the platform has them, else an email."""
        self._check_private_channel()
        if self.private_channel == "direct":
            return self._publish(text, recipient=self.recipient_id)
        self._send_email(text)
        return None

    def _publish(self, text, parent=None, recipient=None):
        """A draft published with the source's credentials (superuser for
        this call only: the user's right to reply was checked); returns it
        if it failed."""
        if not self.can_publish:
            raise UserError(self.env._("Feeds have no reply API: answer on the site."))
        message = self.env["social.message"].sudo()._create_outbound(
            self.conversation_id, text, parent=parent, recipient=recipient
        )
        message._publish()
        return message.filtered(lambda draft: draft.state != "published")

    def _retry(self, text):
        message = self.retry_message_id.sudo()
        if message.state not in ("draft", "queued", "failed") or message.conversation_id != self.conversation_id:
            raise UserError(self.env._("Only a reply that was not published can be edited and sent again."))
        message.write({"body": plaintext2html(text)})
        message._publish()
        return message.filtered(lambda draft: draft.state != "published")

    def _send_email(self, text):
        """An email to the contact from the case (or the conversation), so
        that the answers come back to it."""
        partner = self.partner_id
        if not partner.email and self.email_to:
            # a feed's author who left an address: the contact it belongs to, or a
            # new one, as the mail gateway makes for a new sender (agents may not create contacts)
            found = self.env["mail.thread"].sudo()._mail_find_partner_from_emails([self.email_to], force_create=True)
            partner = found[0].with_env(self.env)
        if not partner.email:
            raise UserError(
                self.env._(
                    "No email address is known for this customer: answer on the site (%(url)s).",
                    url=self.post_url or self.env._("no link"),
                )
            )
        thread = self.case_id or self.conversation_id
        thread.message_subscribe(partner_ids=partner.ids)
        thread.message_post(
            body=plaintext2html(text),
            partner_ids=partner.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
