import logging

from odoo import api, fields, models
from odoo.tools import email_normalize, plaintext2html

from .. import reach
from .platforms import INFO

_logger = logging.getLogger(__name__)

CHANNELS = [("post", "Public post"), ("dm", "Direct message"), ("email", "Email"), ("reply", "Reply in thread")]

SKIP_REASONS = [
    ("optout", "Opted out of this channel"),
    ("blacklisted", "Email blacklisted"),
    ("no_email", "No valid email"),
    ("no_account", "No account on our platform"),
    ("duplicate", "Email address already reached"),
    ("cancelled", "Sending cancelled"),
]

#: channel -> the contact's opt-out field
OPTOUT_FIELDS = {
    "post": "social_optout_post",
    "reply": "social_optout_post",
    "dm": "social_optout_dm",
    "email": "social_optout_email",
}


class SocialSendingLine(models.Model):
    """One recipient of a sending on one channel, and what became of it:
    sent, skipped and why, or failed with the platform's own words."""

    _name = "social.sending.line"
    _description = "Social Sending Recipient"
    _order = "sending_id desc, id"
    _rec_name = "partner_id"

    sending_id = fields.Many2one("social.sending", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="sending_id.company_id", store=True, index=True)
    channel = fields.Selection(CHANNELS, required=True)
    partner_id = fields.Many2one("res.partner", string="Contact", index="btree_not_null", ondelete="cascade")
    identity_id = fields.Many2one("social.identity", string="Account", ondelete="set null")
    reply_to_id = fields.Many2one(
        "social.message", string="In reply to", ondelete="set null", help="The customer's message a reply answers."
    )
    recipient_key = fields.Char(required=True, help="The contact or, without one, the account: unique per channel.")
    state = fields.Selection(
        [
            ("pending", "To send"),
            ("sending", "Publishing"),
            ("waiting", "Waiting for the platform"),
            ("sent", "Sent"),
            ("skipped", "Skipped"),
            ("failed", "Failed"),
        ],
        default="pending",
        required=True,
        index=True,
    )
    skip_reason = fields.Selection(SKIP_REASONS)
    error = fields.Text(help="Why it failed, in the platform's words when it answered.")
    sent_at = fields.Datetime()
    mail_id = fields.Many2one("mail.mail", string="Email", ondelete="set null", index="btree_not_null")
    url = fields.Char("Published at", help="The post or message as the platform published it.")
    outbound_id = fields.Many2one(
        "social.message",
        string="Published message",
        ondelete="set null",
        index="btree_not_null",
        help="The post, direct message or reply as published, or its draft kept with the platform's reason.",
    )

    _sql_constraints = [
        (
            "recipient_unique",
            "UNIQUE(sending_id, channel, recipient_key)",
            "A sending reaches each recipient once per channel.",
        ),
    ]

    def _placeholder_values(self):
        sending = self.sending_id
        name = self.partner_id.name or self.identity_id.name or self.identity_id.handle or ""
        handle = self.identity_id.handle or ""
        return {
            "name": name,
            "first_name": name.split()[0] if name.strip() else "",
            "handle": handle if handle.startswith("@") or not handle else f"@{handle}",
            "platform": INFO[self.identity_id.platform].label if self.identity_id else "",
            "company": sending.company_id.name,
            "idea": sending.idea_id.name or "",
        }

    def _render(self, field):
        sending = self.sending_id
        return reach.render(sending[field] or "", self._placeholder_values(), html=field == "email_body")

    def _email_to(self):
        return email_normalize(self.partner_id.email or "") or email_normalize(self.identity_id.email or "")

    def _skip_reasons(self):
        """``{line: reason}`` for those that must not be sent, from the
        contacts' opt-outs and the email blacklist as they are now, and the
        addresses the sending already reached (contacts who share one get
        one email): one query for each, whatever the batch size."""
        emails = {line: line._email_to() for line in self if line.channel == "email"}
        listed = set(
            self.env["mail.blacklist"]
            .sudo()
            .search([("email", "in", [e for e in emails.values() if e])])
            .mapped("email")
        )
        reached = {
            (line.sending_id, line._email_to())
            for line in self.search(
                [("sending_id", "in", self.sending_id.ids), ("channel", "=", "email"), ("state", "=", "sent")]
            )
        }
        reasons = {}
        for line in self:
            optout = OPTOUT_FIELDS[line.channel]
            if line.partner_id[optout]:
                reasons[line] = "optout"
            elif line.channel == "email" and not emails[line]:
                reasons[line] = "no_email"
            elif line.channel == "email" and emails[line] in listed:
                reasons[line] = "blacklisted"
            elif line.channel == "email" and (line.sending_id, emails[line]) in reached:
                reasons[line] = "duplicate"
            elif line.channel in ("post", "dm") and not line.identity_id:
                reasons[line] = "no_account"
            elif line.channel == "reply" and not line.reply_to_id:
                reasons[line] = "no_account"
            elif line.channel == "email":
                reached.add((line.sending_id, emails[line]))
        return reasons

    def _deliver(self, commit=False):
        """Send these pending lines: skip those that must not go, queue the
        emails, publish the rest one by one."""
        reasons = self._skip_reasons()
        for reason in set(reasons.values()):
            self.browse(line.id for line, why in reasons.items() if why == reason).write(
                {"state": "skipped", "skip_reason": reason}
            )
        todo = self.filtered(lambda line: line not in reasons)
        todo.filtered(lambda line: line.channel == "email")._deliver_email()
        for line in todo.filtered(lambda line: line.channel != "email"):
            line._deliver_publish(commit=commit)

    def _deliver_email(self):
        """Queue one email per line through Odoo's outgoing mail, in one
        create; the mail queue sends them."""
        if not self:
            return
        values = []
        for line in self:
            sending = line.sending_id
            sender = sending.user_id or sending.create_uid
            # an idea's notice is text; a segment's email is HTML
            body = line._render("email_body") if sending.email_body else plaintext2html(line._render("reply_body"))
            values.append(
                {
                    "subject": line._render("email_subject") if sending.email_subject else sending.name,
                    "body_html": body,
                    "email_from": sender.email_formatted or sending.company_id.email_formatted,
                    "email_to": line._email_to() if not line.partner_id else False,
                    "recipient_ids": [(4, line.partner_id.id)] if line.partner_id else [],
                    "auto_delete": False,
                }
            )
        mails = self.env["mail.mail"].sudo().create(values)
        now = fields.Datetime.now()
        for line, mail in zip(self, mails, strict=True):
            line.write({"state": "sent", "mail_id": mail.id, "sent_at": now})

    def _deliver_publish(self, commit=False):
        """Publish this line through the outbound messages of the reply
        composer (one publishing path): a new post on our account, a direct
        message, or a reply to the customer's message. With ``commit``
        (scheduled runs), the line is claimed and committed before the
        platform is called and its result committed after, so that a run
        killed during the call never publishes it again."""
        self.ensure_one()
        if commit:
            self.write({"state": "sending"})
            # claim before the call: a kill after it leaves the line claimed, failed by the next run
            self.env.cr.commit()  # pylint: disable=invalid-commit
        outbound = self._outbound_draft()
        outbound._publish()
        self._record_outbound(outbound)
        if commit:
            # the platform answered: keep its answer whatever happens to the next line
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def _outbound_draft(self):
        """The draft outbound message of this line. A reply goes in the
        customer's thread; a post or direct message starts in a conversation
        of the sending's own, which the publication moves to its real thread."""
        Message = self.env["social.message"]
        if self.channel == "reply":
            message = self.reply_to_id
            return Message._create_outbound(message.conversation_id, self._render("reply_body"), parent=message)
        sending = self.sending_id
        source = sending.source_id
        conversation = self.env["social.conversation"].create(
            {
                "platform": source.platform,
                "thread_key": self._thread_key(),
                "source_id": source.id,
                "company_id": sending.company_id.id,
                "team_id": source.team_id.id,
            }
        )
        if self.channel == "dm":
            return Message._create_outbound(conversation, self._render("dm_body"), recipient=self.identity_id)
        text = self._render("post_body")
        handle = self._placeholder_values()["handle"]
        if handle not in text:
            text = f"{handle} {text}"
        return Message._create_outbound(conversation, text)

    def _thread_key(self):
        """The key of the conversation a post or direct message starts in."""
        return f"social.sending.line:{self.id}"

    def _record_outbound(self, outbound):
        """The line's result from its outbound message: sent once published,
        failed with the platform's words, or waiting while the platform is
        out or rate-limits us (the reply cron publishes it later)."""
        values = {"outbound_id": outbound.id}
        if outbound.state == "published":
            values.update(state="sent", sent_at=outbound.posted_at, url=outbound.url or False, error=False)
        elif outbound.state == "queued":
            values.update(state="waiting", error=outbound.failure_reason)
        else:
            values.update(state="failed", error=outbound.failure_reason)
        self.write(values)
        # a published post or direct message moved to its thread: drop the one it started in
        self.env["social.conversation"].search(
            [("thread_key", "=", self._thread_key()), ("post_ids", "=", False)]
        ).unlink()

    @api.model
    def _follow_waiting(self):
        """Lines waiting for the platform take the result of their message
        once the reply cron published it or gave up."""
        for line in self.search([("state", "=", "waiting"), ("outbound_id.state", "in", ("published", "failed"))]):
            line._record_outbound(line.outbound_id)

    @api.model
    def _fail_interrupted(self):
        """Lines claimed for publishing by a run that ended without their
        result (killed, or the worker's time limit): the platform may or may
        not have published them, so they are never published again."""
        interrupted = self.search([("state", "=", "sending")])
        if interrupted:
            _logger.warning("%s sending lines were interrupted while publishing", len(interrupted))
            interrupted.write(
                {
                    "state": "failed",
                    "error": self.env._(
                        "Interrupted while publishing: it may or may not have been published. "
                        "Check our account before sending it again."
                    ),
                }
            )
