"""``{name}``-style placeholders in a message sent to many customers.

A sender writes the template; the values come from customers' own
profiles (a name or handle may hold anything). So a template may name only
known placeholders, with no attribute or index access, conversion or format
spec (``{name.__class__}`` or ``{0[0]}`` would reach into objects), and
values are escaped for HTML bodies: a name such as ``<script>`` stays text.
"""

import string

from markupsafe import Markup, escape

_FORMATTER = string.Formatter()


class PlaceholderError(ValueError):
    """The template names an unknown placeholder or uses format syntax."""


def _parts(template):
    try:
        return list(_FORMATTER.parse(template or ""))
    except ValueError as error:  # a lone "{" or "}"
        raise PlaceholderError(f"{error}; write {{{{ or }}}} for a literal brace") from error


def check_template(template, allowed):
    """Raise :class:`PlaceholderError` unless every placeholder of
    ``template`` is a bare name among ``allowed``."""
    for _literal, field, spec, conversion in _parts(template):
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            shown = "{" + field + ("!" + conversion if conversion else "") + (":" + spec if spec else "") + "}"
            names = ", ".join("{" + name + "}" for name in sorted(allowed))
            raise PlaceholderError(f"unknown placeholder {shown}; use {names}")


def render(template, values, html=False):
    """``template`` with its placeholders replaced by ``values`` (missing
    ones by an empty string). With ``html``, the template is trusted HTML
    (sanitized when saved) and the values are escaped; returns ``Markup``."""
    check_template(template, values.keys())
    pieces = []
    for literal, field, _spec, _conversion in _parts(template):
        pieces.append(Markup(literal) if html else literal)
        if field is not None:
            value = str(values.get(field) or "")
            pieces.append(escape(value) if html else value)
    return Markup("").join(pieces) if html else "".join(pieces)
