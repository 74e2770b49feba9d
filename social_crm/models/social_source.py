import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.modules import module
from odoo.tools import SQL

from .. import channels
from .platforms import MODES, PLATFORMS

_logger = logging.getLogger(__name__)

DEFAULT_API_URLS = {}
MAX_BACKOFF_FACTOR = 32
CRON_BATCH_SIZE = 50


class SocialSource(models.Model):
    """One configured thing to pull: a feed, an account, a search or a hashtag."""

    _name = "social.source"
    _description = "Social Source"
    _order = "sequence, name, id"

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    team_id = fields.Many2one("crm.team", string="Sales Team", help="Team that handles what this source brings in.")
    platform = fields.Selection(PLATFORMS, required=True, default="feed")
    mode = fields.Selection(MODES, required=True, default="feed", string="Pull")
    target = fields.Char(
        required=True, string="Feed URL, account or query",
        help="The feed URL, the account (@handle), the search query or the hashtag to pull.")
    api_url = fields.Char(
        string="API URL", compute="_compute_api_url", store=True, readonly=False,
        help="The platform's public API by default; change it for a self-hosted instance or a proxy.")
    local_network = fields.Boolean(
        groups="base.group_system", copy=False,
        help="Allow pulling from loopback and private network addresses (an intranet forum, a test server).")
    auth_login = fields.Char("Login", groups="base.group_system", copy=False)
    auth_password = fields.Char("Password", groups="base.group_system", copy=False)
    access_token = fields.Char(groups="base.group_system", copy=False)
    interval_minutes = fields.Integer("Pull every (minutes)", default=15, required=True)
    cursor = fields.Json(copy=False, help="Where the next pull resumes; saved after each stored batch.")
    state = fields.Selection(
        [("active", "Active"), ("paused", "Paused"), ("error", "Error")],
        required=True, default="active", copy=False)
    last_pull_at = fields.Datetime("Last pull", readonly=True, copy=False)
    next_pull_at = fields.Datetime(
        "Next allowed pull", copy=False,
        help="Set after each pull from the interval, the platform's rate limits and error back-off.")
    last_error = fields.Text(readonly=True, copy=False)
    error_code = fields.Char(readonly=True, copy=False)
    error_count = fields.Integer(readonly=True, copy=False)
    error_retryable = fields.Boolean(readonly=True, copy=False)
    conversation_ids = fields.One2many("social.conversation", "source_id")
    conversation_count = fields.Integer(compute="_compute_counts")
    message_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        ("interval_positive", "CHECK(interval_minutes > 0)", "The pull interval must be positive."),
    ]

    @api.depends("platform")
    def _compute_api_url(self):
        for source in self:
            source.api_url = DEFAULT_API_URLS.get(source.platform, "")

    def _compute_counts(self):
        conversations = dict(self.env["social.conversation"]._read_group(
            [("source_id", "in", self.ids)], ["source_id"], ["__count"]))
        messages = dict(self.env["social.message"]._read_group(
            [("source_id", "in", self.ids)], ["source_id"], ["__count"]))
        for source in self:
            source.conversation_count = conversations.get(source, 0)
            source.message_count = messages.get(source, 0)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_sync(self):
        """Pull now. Checks the user may edit the sources, then pulls as
        superuser so that identities shared across companies are found."""
        self.check_access("write")
        for source in self.sudo():
            source._sync()
        return True

    def action_pause(self):
        self.write({"state": "paused"})

    def action_resume(self):
        self.write({"state": "active", "next_pull_at": False, "error_count": 0})

    def action_view_conversations(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("social_crm.social_conversation_action")
        action["domain"] = [("source_id", "in", self.ids)]
        return action

    # ------------------------------------------------------------------
    # Sync
    # ------------------------------------------------------------------

    def _channel_settings(self):
        self.ensure_one()
        source = self.sudo()
        return channels.SourceSettings(
            platform=source.platform, mode=source.mode, target=source.target or "",
            api_url=source.api_url or "", credentials=source._credentials(),
            allow_local=source.local_network,
        )

    def _credentials(self):
        """The secrets a client may use; read with sudo by the sync only."""
        return {key: value for key, value in (
            ("login", self.auth_login), ("password", self.auth_password), ("access_token", self.access_token),
        ) if value}

    def _sync(self):
        """Pull one source batch by batch. Each batch and the cursor after it
        are stored under a savepoint, so a failure on page three keeps pages
        one and two and the next pull resumes after them."""
        self.ensure_one()
        client = channels.client_for(self._channel_settings())
        wait_seconds = 0
        try:
            for batch in client.pull(self.cursor or {}):
                with self.env.cr.savepoint():
                    self._store_batch(batch)
                    self.cursor = batch.cursor
                wait_seconds = max(wait_seconds, batch.wait_seconds or 0)
        except channels.ChannelError as error:
            self._record_failure(error)
            return False
        self._record_success(wait_seconds)
        return True

    def _store_batch(self, batch):
        if batch.not_modified or not (batch.posts or batch.authors):
            return
        identities = self.env["social.identity"]._upsert_authors(self, batch.authors)
        conversations = self.env["social.conversation"]._upsert_threads(self, batch.posts)
        self.env["social.message"]._upsert_posts(self, batch.posts, identities, conversations)

    def _record_success(self, wait_seconds=0):
        now = fields.Datetime.now()
        wait = max(timedelta(minutes=self.interval_minutes), timedelta(seconds=wait_seconds))
        self.write({
            "state": "active", "last_pull_at": now, "next_pull_at": now + wait,
            "last_error": False, "error_code": False, "error_count": 0, "error_retryable": False,
        })

    def _record_failure(self, error):
        """Store the error on the source and in the log, and set the next
        allowed pull: the platform's wait if it gave one, else a back-off."""
        now = fields.Datetime.now()
        count = self.error_count + 1
        if error.retry_after is not None:
            wait = timedelta(seconds=error.retry_after)
        else:
            wait = timedelta(minutes=self.interval_minutes * min(2 ** (count - 1), MAX_BACKOFF_FACTOR))
        rate_limited = isinstance(error, channels.RateLimitedError)
        _logger.warning("Social source %s (%s) pull failed [%s]: %s", self.id, self.name, error.code, error.message)
        self.write({
            "state": "active" if rate_limited else "error",
            "last_pull_at": now,
            "next_pull_at": now + wait,
            "last_error": self.env._("%(reason)s (at %(when)s UTC)", reason=error.message, when=now),
            "error_code": error.code,
            "error_count": count,
            "error_retryable": error.retryable,
        })

    def _lock_for_pull(self):
        """Lock the source row or tell that another worker pulls it."""
        self.env.cr.execute(SQL(
            "SELECT id FROM social_source WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED", self.id))
        return bool(self.env.cr.fetchone())

    @api.model
    def _due_domain(self):
        return [
            ("state", "!=", "paused"),
            "|", ("state", "=", "active"), ("error_retryable", "=", True),
            "|", ("next_pull_at", "=", False), ("next_pull_at", "<=", fields.Datetime.now()),
        ]

    @api.model
    def _cron_sync_due(self, batch_size=CRON_BATCH_SIZE):
        """Pull every due source, one unit of work per source."""
        sources = self.search(self._due_domain(), limit=batch_size, order="next_pull_at asc nulls first, id")
        auto_commit = not module.current_test
        for source in sources:
            if not source._lock_for_pull():
                continue
            try:
                source._sync()
            except Exception:
                _logger.exception("Social source %s (%s): unexpected failure while storing a pull", source.id, source.name)
                if not auto_commit:
                    raise
                self.env.cr.rollback()
                source._record_failure(channels.ChannelError(
                    self.env._("Unexpected error while storing the pull; see the server log.")))
            if auto_commit:
                # Commit each source on its own: a later source's failure must
                # not undo the pulls already stored, nor their cursors.
                self.env.cr.commit()
        self.env["ir.cron"]._notify_progress(
            done=len(sources), remaining=self.search_count(self._due_domain()) if len(sources) == batch_size else 0)
