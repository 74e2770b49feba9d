"""Typed channel errors: each says what happened, whether a later pull may
succeed, and when the platform allows the next one.

Messages never contain credentials: they are built from the URL without its
query string, the HTTP status and the platform's own error text (secrets
masked), never from request headers.
"""


class ChannelError(Exception):
    """Base of every error a channel client raises on purpose; raised as
    such, an unexpected failure. ``code`` and ``label`` name the type of
    failure a source records, ``retryable`` whether the cron tries again."""

    code = "unexpected"
    label = "Unexpected error"
    retryable = False

    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.message = message
        #: seconds the platform asks us to wait before the next call
        self.retry_after = retry_after


class ConfigError(ChannelError):
    """The source is set up wrongly (bad URL, scheme, private address)."""

    code = "config"
    label = "Wrong configuration"


class AuthError(ChannelError):
    """401/403: the credentials are missing, wrong, expired or revoked."""

    code = "auth"
    label = "Credentials refused"

    def __init__(self, message, retry_after=None, refusal=None):
        super().__init__(message, retry_after)
        #: ``(url, HTTP status, what the server said)`` when a server refused
        #: a request, for the client to tell missing credentials from wrong ones
        self.refusal = refusal


class UnsupportedError(ConfigError):
    """The platform has no API for what was asked (a feed has no reply
    API, Bluesky's direct messages live on a separate chat service)."""


class RefusedError(ChannelError):
    """The platform refused what we asked it to publish (too long, a
    duplicate, a recipient who does not accept direct messages): its own
    words are in the message; sending the same again would fail again."""

    code = "refused"
    label = "Refused by the platform"


class NotFoundError(ChannelError):
    """404/410: the account, search or feed does not exist (any more)."""

    code = "not_found"
    label = "Not found"


class InvalidDataError(ChannelError):
    """The platform answered with something we refuse to read."""

    code = "invalid_data"
    label = "Unreadable answer"


class UnavailableError(ChannelError):
    """Timeout, connection failure or 5xx: a later pull may succeed."""

    code = "unavailable"
    label = "Platform unavailable"
    retryable = True


class RateLimitedError(ChannelError):
    """429 or an exhausted quota: wait ``retry_after`` seconds."""

    code = "rate_limited"
    label = "Rate limited"
    retryable = True


class BudgetSpentError(RateLimitedError):
    """The source's own monthly read budget is spent (X bills each read):
    no call before next month."""

    code = "budget_spent"
    label = "Read budget spent"


#: every type of failure, each once (subclasses of these share their code)
FAILURE_TYPES = (
    ChannelError,
    ConfigError,
    AuthError,
    RefusedError,
    NotFoundError,
    InvalidDataError,
    UnavailableError,
    RateLimitedError,
    BudgetSpentError,
)
