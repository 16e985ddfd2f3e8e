"""Errors the services raise. They carry translation keys, so the page shows them in the
user's language and keeps what the user typed."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: `key` is a locale key, `params` fill its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class ValidationError(ServiceError):
    """Bad input. `fields` maps a field name to its own (key, params) message."""

    def __init__(
        self, fields: dict[str, tuple[str, dict]] | None = None, key: str = "error.invalid_input"
    ) -> None:
        super().__init__(key)
        self.fields = fields or {}


class AccessDenied(ServiceError):
    def __init__(self, key: str = "error.access_denied", **params: object) -> None:
        super().__init__(key, **params)


class NotFound(ServiceError):
    def __init__(self, key: str = "error.not_found", **params: object) -> None:
        super().__init__(key, **params)


class LoginFailed(ServiceError):
    """One message for unknown user, wrong password, disabled and locked accounts."""

    def __init__(self) -> None:
        super().__init__("login.failed")


class IdentityUnreadable(ServiceError):
    """A patient's encrypted identity does not decrypt (another key, or an altered row): shown as a
    plain message naming the pseudonym, never as a crash, and nothing is written over it."""

    def __init__(self, pseudonym: str) -> None:
        super().__init__("error.identity_unreadable", pseudonym=pseudonym)
