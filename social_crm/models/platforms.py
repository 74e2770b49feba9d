"""The platforms a source can pull, as the ORM needs them, read from the
facts each client declares (:class:`~..channels.PlatformInfo`): a platform
added in ``channels/`` appears here without an edit.

The selections are built once, at import: Odoo stores their labels in
``ir.model.fields.selection`` and translates them from the .pot like
literal ones."""

from .. import channels

INFO = {info.name: info for info in channels.platforms()}

PLATFORMS = [(info.name, info.label) for info in INFO.values()]

MODES = channels.modes()

#: platform -> {client credential key: social.source field}
CREDENTIAL_FIELDS = {name: info.credential_fields for name, info in INFO.items()}

#: ``(code, label)`` of each type of failure a source records
FAILURES = [(error.code, error.label) for error in channels.FAILURE_TYPES]

#: failures after which the cron pulls again, at the next allowed time
RETRYABLE_FAILURES = [error.code for error in channels.FAILURE_TYPES if error.retryable]
