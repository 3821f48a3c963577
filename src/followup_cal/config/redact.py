"""Keeps passwords and tokens out of everything followup-cal's logging prints, ``-vv`` included.

Three layers, installed by the CLI where it configures logging (:func:`install`):

- every handler of the root logger gets a :class:`RedactingFormatter`, which cleans the whole formatted
  record, message and traceback alike;
- it removes Authorization/Cookie header values, token and password fields (JSON, form and ``key=value``
  forms) and every secret value :func:`register_secret` was given (a resolved password, its Basic form);
- http.client's wire dump (``HTTPConnection.debuglevel``, also used by httplib2 under the Google client)
  is written with ``print`` to stdout, out of logging's reach: it is routed into the ``http.client``
  logger instead, so it reaches stderr redacted like the rest.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
from typing import Any
from urllib.parse import quote

REDACTED = "[redacted]"

# No \b before the names: in a dump of bytes a header follows a literal "\r\n", so "\nauthorization".
_HEADER_NAME = r"(?:proxy-)?authorization|cookie"
# 'Authorization': 'Basic ...' (a dict as printed) and "authorization": "..." (JSON)
_QUOTED_HEADER = re.compile(rf"(?i)(['\"])({_HEADER_NAME})\1(\s*:\s*)(['\"])(.*?)\4")
# Authorization: Digest username="alice", response="..." (a header line, up to its end)
_HEADER_LINE = re.compile(rf"(?i)({_HEADER_NAME})(\s*[:=]\s*)([^\r\n\\]+)")
_FIELD = re.compile(
    r"(?i)(['\"]?(?:access_token|refresh_token|id_token|client_secret|password|passwd)\b['\"]?"
    r"\s*[:=]\s*['\"]?)([^'\"&\s,}\\]+)"
)
_secrets: set[str] = set()


def register_secret(secret: str | None, username: str | None = None) -> None:
    """Remembers a secret so that it is cut from any later log output, also in its URL-encoded form and,
    with ``username``, in its HTTP Basic form (base64 of ``username:secret``)."""
    if not secret or len(secret) < 4:  # a one-letter "secret" would redact every word
        return
    _secrets.update({secret, quote(secret, safe="")})
    if username is not None:
        _secrets.add(base64.b64encode(f"{username}:{secret}".encode()).decode())


def redact(text: str) -> str:
    """``text`` without header credentials, token or password fields, and registered secrets."""
    text = _QUOTED_HEADER.sub(
        lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{REDACTED}{m.group(4)}", text
    )
    text = _HEADER_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _FIELD.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as the formatter it wraps, then redacts the result (message, arguments and traceback)."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


class RedactingFilter(logging.Filter):
    """For handlers installed later (a library's own): redacts the record's message in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_wire_log = logging.getLogger("http.client")


def _wire_print(*args: Any, **_kwargs: Any) -> None:
    _wire_log.debug(" ".join(str(arg) for arg in args))


def install() -> None:
    """Redacts everything the root logger's handlers write, and sends http.client's wire dump there."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter))
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    # http.client looks ``print`` up in its module globals first; this is the documented way to see its
    # debug output in logging rather than on stdout.
    http.client.print = _wire_print  # type: ignore[attr-defined]
