import dataclasses
import logging
from datetime import timedelta
from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.modules import module
from odoo.tools import SQL

from .. import channels
from .platforms import CREDENTIAL_FIELDS, FAILURES, INFO, MODES, PLATFORMS, RETRYABLE_FAILURES

_logger = logging.getLogger(__name__)

MAX_BACKOFF_FACTOR = 32
CRON_BATCH_SIZE = 50
#: posts stored per savepoint (ten pages of X, 25 of Mastodon): enough to
#: spread the fixed cost of a store (threads, roll-ups, routing) over many
#: posts, few enough that an error or a crash loses little work; the next
#: batch is fetched while one is stored
STORE_BATCH_POSTS = 1000
#: skip reasons quoted on the source; the rest are counted
NOTICE_REASONS = 3


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
    platform = fields.Selection(
        PLATFORMS,
        required=True,
        default="feed",
        help="Changing the platform clears the credentials: an administrator must enter them again.",
    )
    mode = fields.Selection(MODES, required=True, default="feed", string="Pull")
    target = fields.Char(
        required=True,
        string="Feed URL, account or query",
        help="The feed URL, the account (@handle), the search query or the hashtag to pull.",
    )
    api_url = fields.Char(
        string="API URL",
        compute="_compute_api_url",
        store=True,
        readonly=False,
        help="The platform's public API by default; change it for a self-hosted instance or a proxy. "
        "The credentials belong to the API they were given for: changing the platform or the API URL "
        "clears them, and an administrator must enter them again.",
    )
    local_network = fields.Boolean(
        "Allow local network",
        groups="base.group_system",
        copy=False,
        help="Allow pulling from loopback and private network addresses (an intranet forum, a test server). "
        "Only an administrator may allow it, and it holds for the address it was given for: pointing the "
        "source elsewhere clears it unless an administrator makes the change.",
    )
    auth_login = fields.Char(
        "Login",
        groups="base.group_system",
        copy=False,
        help="Bluesky: the handle (with or without @) or email of the account.",
    )
    auth_password = fields.Char(
        "App password",
        groups="base.group_system",
        copy=False,
        help="Bluesky: an app password (Settings > Privacy and security > App passwords).",
    )
    access_token = fields.Char(
        groups="base.group_system",
        copy=False,
        help="Mastodon: the application's access token. X: the user's access token.",
    )
    access_token_secret = fields.Char(groups="base.group_system", copy=False)
    api_key = fields.Char("API key", groups="base.group_system", copy=False, help="X: the app's consumer key.")
    api_secret = fields.Char("API key secret", groups="base.group_system", copy=False)
    bearer_token = fields.Char(groups="base.group_system", copy=False, help="X: app-only bearer token.")
    session_token = fields.Char(groups="base.group_system", copy=False, readonly=True)
    refresh_token = fields.Char(groups="base.group_system", copy=False, readonly=True)
    read_budget = fields.Integer(
        "Monthly read budget",
        help="X bills each post read: pulling stops for the month once this many are read. " "0 means no limit.",
    )
    reads_this_month = fields.Integer(readonly=True, copy=False)
    reads_month = fields.Char(readonly=True, copy=False, help="The month (YYYY-MM) reads_this_month counts.")
    is_metered = fields.Boolean(compute="_compute_is_metered")
    interval_minutes = fields.Integer("Pull every (minutes)", default=15, required=True)
    max_items = fields.Integer(
        "Posts per pull",
        default=200,
        required=True,
        help="The most posts one pull reads; the next pull goes on from there.",
    )
    cursor = fields.Json(copy=False, help="Where the next pull resumes; saved after each stored batch.")
    state = fields.Selection(
        [("active", "Active"), ("paused", "Paused"), ("error", "Error")], required=True, default="active", copy=False
    )
    last_pull_at = fields.Datetime("Last pull", readonly=True, copy=False, help="When a pull last succeeded.")
    last_attempt_at = fields.Datetime(
        "Last attempt", readonly=True, copy=False, help="When a pull was last tried, whether it succeeded or not."
    )
    next_pull_at = fields.Datetime(
        "Next allowed pull",
        copy=False,
        help="Set after each pull from the interval, the platform's rate limits and error back-off.",
    )
    last_error = fields.Text(readonly=True, copy=False)
    last_notice = fields.Text(
        readonly=True,
        copy=False,
        help="What the last pull could not read and skipped (one malformed post does not stop a pull).",
    )
    error_code = fields.Selection(
        FAILURES, "Failure", readonly=True, copy=False, help="Why the last pull failed; its details are in the error."
    )
    error_count = fields.Integer(readonly=True, copy=False)
    error_retryable = fields.Boolean(
        "Retried automatically",
        compute="_compute_error_retryable",
        help="The failure may pass (an outage, a rate limit): pulls go on at the next allowed time.",
    )
    utm_source_id = fields.Many2one(
        "utm.source",
        "UTM source",
        copy=False,
        help="The campaign source of the leads made from this source's posts; created with the first lead.",
    )
    account_handle = fields.Char(
        "Our account",
        help="The handle of the company's own account on this platform (@acme). Its posts are outbound: our "
        "answers, not customers' posts. Needed only where the credentials do not tell the account "
        "(a search or a hashtag read with an app-only token).",
    )
    account_external_id = fields.Char(
        "Our account ID",
        readonly=True,
        copy=False,
        help="The platform's id of the company's account, as the last pulls saw it: the connected account, "
        "the account whose mentions are pulled, or the account named in Our account.",
    )
    conversation_ids = fields.One2many("social.conversation", "source_id")
    conversation_count = fields.Integer(compute="_compute_counts")
    message_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        ("interval_positive", "CHECK(interval_minutes > 0)", "The pull interval must be positive."),
    ]

    @api.constrains("platform", "mode")
    def _check_mode(self):
        for source in self:
            modes = INFO[source.platform].mode_codes
            if source.mode not in modes:
                labels = dict(self._fields["mode"]._description_selection(self.env))
                raise ValidationError(
                    self.env._(
                        "%(platform)s sources can pull: %(modes)s.",
                        platform=dict(self._fields["platform"]._description_selection(self.env))[source.platform],
                        modes=", ".join(labels[mode] for mode in modes),
                    )
                )

    @api.constrains("platform", "target", "api_url")
    def _check_urls(self):
        """A feed URL or an API URL that can never work is refused on save,
        rather than found out at the first pull."""
        for source in self:
            urls = {self.env._("API URL"): source.api_url}
            if source.platform == "feed":
                urls[self.env._("Feed URL")] = source.target
            for label, url in urls.items():
                if url and not self._is_web_url(url):
                    raise ValidationError(
                        self.env._(
                            "%(what)s of %(name)s must be a web address starting with http:// or https:// "
                            "(e.g. https://example.com/feed.xml), not %(url)s.",
                            what=label,
                            name=source.name,
                            url=url,
                        )
                    )

    @staticmethod
    def _is_web_url(url):
        try:
            parts = urlsplit(url.strip())
            return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url.strip()
        except ValueError:
            return False

    @api.onchange("platform")
    def _onchange_platform(self):
        modes = INFO[self.platform].mode_codes if self.platform else ()
        if modes and self.mode not in modes:
            self.mode = modes[0]

    @api.depends("platform")
    def _compute_is_metered(self):
        for source in self:
            source.is_metered = bool(source.platform) and INFO[source.platform].metered

    @api.depends("platform")
    def _compute_api_url(self):
        for source in self:
            source.api_url = INFO[source.platform].default_api_url if source.platform else ""

    @api.depends("error_code")
    def _compute_error_retryable(self):
        for source in self:
            source.error_retryable = source.error_code in RETRYABLE_FAILURES

    @api.onchange("platform", "api_url", "target")
    def _onchange_destination(self):
        """Warn before saving that the credentials will not follow the source."""
        origin = self._origin.sudo()
        if not origin or origin._destination() == self._destination():
            return None
        if origin._credentials() or (origin.local_network and not self.env.is_system()):
            return {
                "warning": {
                    "title": self.env._("Credentials will be cleared"),
                    "message": self.env._(
                        "The credentials and the local network permission of this source hold for where it "
                        "pointed. Once saved, they are cleared: an administrator must give them again before "
                        "the next pull."
                    ),
                }
            }
        return None

    @api.model_create_multi
    def create(self, vals_list):
        """Odoo checks the groups of fields on write and read only: a source
        created or copied must not carry credentials nor the local network
        permission that its creator could not have set by a write."""
        defaults = [key.removeprefix("default_") for key in self.env.context if key.startswith("default_")]
        for vals in vals_list:
            self.check_field_access_rights("create", [name for name in [*vals, *defaults] if name in self._fields])
        return super().create(vals_list)

    def write(self, vals):
        """A source pointed elsewhere, or reconnected, starts over: its cursor
        belongs to the old stream, its session to the old account, and its
        credentials to the old destination (see :meth:`_forget_secrets`)."""
        stream_fields = {"platform", "mode", "target", "api_url", *self._credential_field_names()}
        if stream_fields & set(vals) and "cursor" not in vals:
            vals = {**vals, "cursor": False}
        if {"auth_login", "auth_password"} & set(vals):
            vals = {**vals, "session_token": False, "refresh_token": False}
        destinations = {}
        if {"platform", "api_url", "target"} & set(vals):
            destinations = {source.id: source._destination() for source in self}
        result = super().write(vals)
        if destinations:
            self.filtered(lambda source: destinations[source.id] != source._destination())._forget_secrets(vals)
        return result

    def _destination(self):
        """Where the source sends its requests, and its credentials: the
        platform and its API (for Bluesky also the host it logs in to), or a
        feed's URL."""
        api_url = (self.api_url or "").strip().rstrip("/")
        return self.platform, api_url, (self.target or "").strip() if self.platform == "feed" else ""

    def _forget_secrets(self, vals):
        """Credentials are bound to where they were given: a source pointed
        elsewhere keeps only those given in the same write (only an
        administrator may give them), so that the next pull has nothing to
        send until an administrator reconnects it. The local network
        permission goes too, unless an administrator points the source."""
        if not self:
            return
        forget = {name: False for name in self._secret_field_names() if name not in vals}
        if "local_network" not in vals and not self.env.is_system():
            forget["local_network"] = False
        self.sudo().write(forget)

    @api.model
    def _secret_field_names(self):
        return {field for fields_by_key in CREDENTIAL_FIELDS.values() for field in fields_by_key.values()}

    @api.model
    def _credential_field_names(self):
        """The fields of the credentials a person sets, not those a client renews."""
        return {
            field
            for info in INFO.values()
            for key, field in info.credential_fields.items()
            if key not in info.renewed_credentials
        }

    def _utm_source(self):
        """The UTM source of this source's leads, made once and kept."""
        self.ensure_one()
        if not self.utm_source_id:
            source = self.sudo()
            name = self.env["utm.mixin"]._get_unique_names("utm.source", [source.name])[0]
            source.utm_source_id = self.env["utm.source"].sudo().create({"name": name})
        return self.utm_source_id

    def _compute_counts(self):
        conversations = dict(
            self.env["social.conversation"]._read_group([("source_id", "in", self.ids)], ["source_id"], ["__count"])
        )
        messages = dict(
            self.env["social.message"]._read_group([("source_id", "in", self.ids)], ["source_id"], ["__count"])
        )
        for source in self:
            source.conversation_count = conversations.get(source, 0)
            source.message_count = messages.get(source, 0)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_sync(self):
        """Pull now. Checks the user may edit the sources, then pulls as
        superuser so that identities shared across companies are found.
        Takes the cron's lock first: a second click, or a click during the
        scheduled pull, would fetch (and on X pay for) every page twice."""
        self.check_access("write")
        sources = self.sudo()
        busy = sources.filtered(lambda source: not source._lock_for_pull())
        if busy:
            raise UserError(
                self.env._(
                    "A pull of %(sources)s is already running. Try again once it is done.",
                    sources=", ".join(busy.mapped("name")),
                )
            )
        Message = self.env["social.message"].sudo()
        before = Message.search_count([("source_id", "in", sources.ids)])
        for source in sources:
            source._sync()
        return self._pull_notification(Message.search_count([("source_id", "in", sources.ids)]) - before)

    def _pull_notification(self, new_posts):
        """What *Pull now* tells: how many posts came in, or why not."""
        failed = self.filtered("error_code")
        if failed:
            labels = dict(self._fields["error_code"]._description_selection(self.env))
            message = "\n".join(
                self.env._(
                    "%(name)s: %(failure)s. %(detail)s",
                    name=source.name,
                    failure=labels[source.error_code],
                    detail=source.last_error or "",
                )
                for source in failed
            )
            title, kind = self.env._("The pull did not complete"), "warning"
        else:
            title, kind = self.env._("Pulled"), "success"
            message = ""
        if new_posts:
            message = "\n".join(filter(None, [self.env._("%(count)s new posts came in.", count=new_posts), message]))
        elif not failed:
            message = self.env._("No new posts since the last pull.")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": bool(failed),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

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
            platform=source.platform,
            mode=source.mode,
            target=source.target or "",
            api_url=source.api_url or "",
            credentials=source._credentials(),
            allow_local=source.local_network,
            read_budget=source._reads_left(),
            max_items=source.max_items,
        )

    def _credentials(self):
        """The secrets a client may use; read with sudo by the sync only."""
        return {key: self[field] for key, field in CREDENTIAL_FIELDS[self.platform].items() if self[field]}

    def _store_credentials(self, updates):
        """Keep the secrets a client renewed (a refreshed session)."""
        fields_by_key = CREDENTIAL_FIELDS[self.platform]
        self.sudo().write({fields_by_key[key]: value for key, value in updates.items() if key in fields_by_key})

    def _reads_used(self):
        """The month under way (YYYY-MM) and the reads counted in it: the
        counter starts again with each month."""
        month = fields.Date.today().strftime("%Y-%m")
        return month, self.reads_this_month if self.reads_month == month else 0

    def _reads_left(self):
        """Reads left this month for a metered source with a budget, else None."""
        if not (self.is_metered and self.read_budget):
            return None
        return max(0, self.read_budget - self._reads_used()[1])

    def _count_reads(self, reads):
        month, used = self._reads_used()
        self.write({"reads_this_month": used + reads, "reads_month": month})

    def _sync(self, commit_each_batch=False):
        """Pull one source page by page, storing the pages in batches of about
        ``STORE_BATCH_POSTS`` posts. Each stored batch and the cursor after it
        go under one savepoint: a failure on page three keeps pages one and
        two, and the next pull resumes after them. Posts a client could not
        read are skipped and said on the source (``last_notice``).

        ``commit_each_batch`` is for the scheduled run only (never a user's
        *Pull now*, never a test): each stored batch is committed with its
        cursor and reads, so that a crash or a worker killed at its time
        limit loses at most the batch in flight, and a long pull makes
        progress from run to run instead of starting over (X bills each read).
        """
        self.ensure_one()
        if self._reads_left() == 0:
            self._record_budget_spent()
            return False
        client = channels.client_for(self._channel_settings())
        pages, wait_seconds, skipped = [], 0, []

        def store(pages):
            return self._store_pages(pages, skipped=skipped, commit=commit_each_batch, client=client)

        try:
            # the next batch is fetched while one is stored
            pulled = client.pull_safely(self.cursor or {})
            for page in channels.prefetched(pulled, ahead=STORE_BATCH_POSTS, weight=lambda page: len(page.posts)):
                pages.append(page)
                wait_seconds = max(wait_seconds, page.wait_seconds or 0)
                if sum(len(pending.posts) for pending in pages) >= STORE_BATCH_POSTS:
                    if not store(pages):
                        return False
                    pages = []
        except channels.BudgetSpentError:
            # less left than the platform's smallest page: as good as spent
            if store(pages):
                self._record_budget_spent(skipped)
            return False
        except channels.ChannelError as error:
            if store(pages):
                self._record_failure(error, skipped)
            return False
        finally:
            if client.credential_updates:
                self._store_credentials(client.credential_updates)
        if not store(pages):
            return False
        self._record_success(wait_seconds, skipped)
        return True

    def _store_pages(self, pages, skipped=None, commit=False, client=None):
        """Store consecutive pages as one batch, then the cursor of the last;
        add their skip reasons to ``skipped``. With ``commit`` (scheduled runs
        only), commit them and take the source's lock again: False if another
        worker took the source meanwhile, which then goes on from this cursor."""
        if not pages:
            return True
        with self.env.cr.savepoint():
            self._store_batch(
                channels.Batch(
                    posts=tuple(post for page in pages for post in page.posts),
                    authors=tuple({author.external_id: author for page in pages for author in page.authors}.values()),
                    not_modified=all(page.not_modified for page in pages),
                ),
                account_id=client.account_id if client is not None else "",
            )
            self.cursor = pages[-1].cursor
            reads = sum(page.reads for page in pages)
            if reads:
                self._count_reads(reads)
        if skipped is not None:
            skipped.extend(reason for page in pages for reason in page.skipped)
        if not commit:
            return True
        if client is not None and client.credential_updates:
            # a renewed session is single-use: keep it with the batch it read
            self._store_credentials(client.credential_updates)
        # Scheduled run only (see _sync): one commit per stored batch, so that
        # a crash keeps the batches stored and their cursor.
        self.env.cr.commit()  # pylint: disable=invalid-commit
        # the commit released the row lock: take it again before going on
        if self._lock_for_pull():
            return True
        _logger.info("Social source %s (%s): another worker took over the pull", self.id, self.name)
        return False

    def _skip_notice(self, skipped):
        """One line on the posts a pull skipped: how many, and why."""
        if not skipped:
            return False
        _logger.warning("Social source %s (%s) skipped %s item(s): %s", self.id, self.name, len(skipped), skipped)
        reasons = "; ".join(skipped[:NOTICE_REASONS])
        if len(skipped) > NOTICE_REASONS:
            more = len(skipped) - NOTICE_REASONS
            reasons = self.env._("%(reasons)s; and %(count)s more", reasons=reasons, count=more)
        if len(skipped) == 1:
            return self.env._("1 post skipped: %(reasons)s", reasons=reasons)
        return self.env._("%(count)s posts skipped: %(reasons)s", count=len(skipped), reasons=reasons)

    def _store_batch(self, batch, account_id=""):
        """Store one batch; accounts erased on request stay erased; posts of
        the company's own accounts are outbound. ``account_id``: the account
        the client pulled as, when it knows it."""
        if batch.not_modified or not (batch.posts or batch.authors):
            return
        erased = self.env["social.identity.erasure"]._erased_external_ids(
            self.platform, {author.external_id for author in batch.authors}
        )
        authors = [author for author in batch.authors if author.external_id not in erased]
        own = self._own_account_ids(authors, account_id)
        posts = [
            dataclasses.replace(post, direction="outbound") if post.author_id in own else post
            for post in batch.posts
            if post.author_id not in erased
        ]
        identities = self.env["social.identity"]._upsert_authors(self, authors)
        conversations = self.env["social.conversation"]._upsert_threads(self, posts)
        created = self.env["social.message"]._upsert_posts(self, posts, identities, conversations)
        self.env["social.routing.rule"]._route(self, created)

    def _own_account_ids(self, authors, account_id=""):
        """The author ids of the company's accounts on this platform: the
        one the client pulled as, the one whose handle is *Our account*, and
        those its other sources of the company recorded (one query). Records
        what this pull saw on the source."""
        handle = self._normalized_handle(self.account_handle)
        seen = account_id or next(
            (author.external_id for author in authors if handle and self._normalized_handle(author.handle) == handle),
            "",
        )
        if seen and seen != self.account_external_id:
            self.account_external_id = seen
            self._mark_outbound(seen)
        siblings = self.search_fetch(
            [
                ("platform", "=", self.platform),
                ("company_id", "=", self.company_id.id),
                ("account_external_id", "!=", False),
                ("active", "in", (True, False)),
            ],
            ["account_external_id"],
        )
        return set(siblings.mapped("account_external_id")) | ({seen} if seen else set())

    def _mark_outbound(self, author_external_id):
        """Once an account is known as ours, what the company stored of it
        before is outbound too: one search and one write, once per account."""
        self.env["social.message"].search(
            [
                ("platform", "=", self.platform),
                ("company_id", "=", self.company_id.id),
                ("author_id.external_id", "=", author_external_id),
                ("direction", "=", "inbound"),
            ]
        ).write({"direction": "outbound"})

    @staticmethod
    def _normalized_handle(handle):
        """``@Acme``, ``acme`` -> ``acme``: how handles compare."""
        return (handle or "").strip().lstrip("@").lower()

    def _record_success(self, wait_seconds=0, skipped=()):
        now = fields.Datetime.now()
        wait = max(timedelta(minutes=self.interval_minutes), timedelta(seconds=wait_seconds))
        self.write(
            {
                "state": "active",
                "last_pull_at": now,
                "last_attempt_at": now,
                "next_pull_at": now + wait,
                "last_error": False,
                "error_code": False,
                "error_count": 0,
                "last_notice": self._skip_notice(skipped),
            }
        )

    def _record_failure(self, error, skipped=()):
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
        self.write(
            {
                "state": "active" if rate_limited else "error",
                "last_attempt_at": now,
                "next_pull_at": now + wait,
                # the failure's label is translated; the detail is the platform's own
                "last_error": error.message,
                "error_code": error.code,
                "error_count": count,
                "last_notice": self._skip_notice(skipped),
            }
        )

    def _record_budget_spent(self, skipped=()):
        next_month = fields.Datetime.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0) + relativedelta(
            months=1
        )
        message = self.env._(
            "The monthly read budget of %(budget)s posts is spent; pulling resumes on %(date)s.",
            budget=self.read_budget,
            date=fields.Date.to_string(next_month),
        )
        _logger.info("Social source %s (%s): %s", self.id, self.name, message)
        self.write(
            {
                "next_pull_at": next_month,
                "last_error": message,
                "error_code": channels.BudgetSpentError.code,
                "last_notice": self._skip_notice(skipped),
            }
        )

    def _lock_for_pull(self):
        """Lock the source row or tell that another worker pulls it."""
        self.env.cr.execute(SQL("SELECT id FROM social_source WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED", self.id))
        return bool(self.env.cr.fetchone())

    @api.model
    def _due_domain(self):
        return [
            ("state", "!=", "paused"),
            "|",
            ("state", "=", "active"),
            ("error_code", "in", RETRYABLE_FAILURES),
            "|",
            ("next_pull_at", "=", False),
            ("next_pull_at", "<=", fields.Datetime.now()),
        ]

    @api.model
    def _cron_sync_due(self, batch_size=CRON_BATCH_SIZE, commit=None):
        """Pull every due source, one unit of work per source.

        ``commit`` (by default: outside tests) commits each source and each
        batch it stores; without it, each source is pulled under a savepoint
        that an unexpected failure rolls back, so that tests run the same
        failure path without committing."""
        if commit is None:
            commit = not module.current_test
        sources = self.search(self._due_domain(), limit=batch_size, order="next_pull_at asc nulls first, id")
        for source in sources:
            if not source._lock_for_pull():
                continue
            try:
                if commit:
                    # per-batch commits: a crash or the worker's time limit keeps what was stored
                    source._sync(commit_each_batch=True)
                else:
                    with self.env.cr.savepoint():
                        source._sync()
            # one source's unexpected failure must not stop the others
            except Exception:  # pylint: disable=broad-exception-caught
                _logger.exception(
                    "Social source %s (%s): unexpected failure while storing a pull", source.id, source.name
                )
                if commit:
                    self.env.cr.rollback()
                source._record_failure(
                    channels.ChannelError(self.env._("Unexpected error while storing the pull; see the server log."))
                )
            if commit:
                # Commit each source on its own: a later source's failure must
                # not undo the pulls already stored, nor their cursors.
                self.env.cr.commit()  # pylint: disable=invalid-commit
        self.env["ir.cron"]._notify_progress(
            done=len(sources), remaining=self.search_count(self._due_domain()) if len(sources) == batch_size else 0
        )
