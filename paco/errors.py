"""PaCo's one error family: what went wrong, as a stable code and a message a person can act on.

Services, validation and the importers raise these; they know nothing of HTTP. Each edge maps
them in one place: REST (``paco.rest``: status + JSON), the chat socket (``paco.chat.frames``:
an ``error`` frame), the admin site (``admin.base``: a flash message) and the CLI
(``scripts.cli``: the message on stderr and an exit code). The class says what kind of failure
it is, so every edge answers it the same way; the code says which one.
"""
from __future__ import annotations


class PacoError(Exception):
    """A refusal people can act on; ``code`` is stable (scripts and pages branch on it)."""

    kind = "invalid"

    def __init__(self, code: str, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r})"


class InvalidInput(PacoError):
    """The request, frame, form or file row is malformed or breaks a rule about values."""

    kind = "invalid"


class Unauthorized(PacoError):
    """No valid credentials: sign in (again)."""

    kind = "unauthorized"


class Forbidden(PacoError):
    """Signed in, but not allowed to do this."""

    kind = "forbidden"


class NotFound(PacoError):
    kind = "not_found"


class Conflict(PacoError):
    """Well-formed, but the current state does not allow it (already exists, already published)."""

    kind = "conflict"


class TooLarge(PacoError):
    kind = "too_large"


class UnsupportedMediaType(PacoError):
    kind = "unsupported_media_type"


class RateLimited(PacoError):
    kind = "rate_limited"


class Unavailable(PacoError):
    """A dependency PaCo needs is not answering; trying again later may work."""

    kind = "unavailable"
