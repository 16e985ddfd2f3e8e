"""How a referral's status, outcome reason and handover method read on screen, shared by the
connector's and the partner's referral pages."""

from __future__ import annotations

from components.i18n import t

BADGE_COLOURS = {
    "draft": "gray",
    "requested": "blue",
    "accepted": "violet",
    "in-progress": "orange",
    "on-hold": "orange",
    "completed": "green",
    "rejected": "red",
    "failed": "red",
    "cancelled": "red",
    "entered-in-error": "gray",
}


def status_label(code: str) -> str:
    return t(f"referral_status.{code.replace('-', '_')}")


def reason_label(code: str | None) -> str:
    return t(f"outcome_reason.{code}") if code else ""


def method_label(code: str | None) -> str:
    return t(f"handover_method.{code}") if code else ""


def status_badge(status: str, reason: str | None = None) -> str:
    """A coloured Markdown badge with the status, and the outcome reason after it if any."""
    badge = f":{BADGE_COLOURS.get(status, 'gray')}-badge[{status_label(status)}]"
    return badge + (f" · {reason_label(reason)}" if reason else "")
