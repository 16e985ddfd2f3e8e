"""Shared vocabulary of the clinic desk: needs, consents, contact preferences, referral statuses
and their allowed transitions, outcome reasons and handover methods (REFERENCE.md, "Referral
workflow"). Pure data; the services validate against it and the UI translates each code."""

from __future__ import annotations

# A need a connector records -> the activity categories that can meet it.
NEEDS: dict[str, tuple[str, ...]] = {
    "loneliness": ("meeting_place", "language_cafe", "choir", "culture", "crafts", "walking"),
    "physical_activity": ("walking", "exercise"),
    "mental_wellbeing": ("meeting_place", "gardening", "walking", "culture", "choir"),
    "language": ("language_cafe",),
    "grief": ("grief_group",),
    "diabetes": ("diabetes_school", "walking", "exercise"),
    "heart_health": ("exercise", "walking"),
    "digital_skills": ("digital_course",),
    "carer_support": ("meeting_place", "grief_group"),
    "meaningful_activity": ("volunteering", "crafts", "gardening", "culture"),
    "money_housing": (),
    "other": (),
}
# The coded needs: loneliness, isolation, physical activity, grief, caring for someone,
# language, money or housing, other. "isolation" is met like loneliness.
NEEDS["isolation"] = NEEDS["loneliness"]
NEED_CODES: tuple[str, ...] = tuple(NEEDS)

CONSENT_KINDS = ("referral", "share_contact", "evaluation")
CONTACT_PREFERENCES = ("phone", "sms", "email", "letter", "do_not_contact")

# FHIR Task statuses as profiled by the HL7 SDOH Clinical Care guide.
REFERRAL_STATUSES = (
    "draft",
    "requested",
    "accepted",
    "rejected",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
)
OPEN_REFERRAL_STATUSES = ("requested", "accepted", "in-progress", "on-hold")
CLOSED_REFERRAL_STATUSES = ("rejected", "cancelled", "failed", "completed", "entered-in-error")
# Allowed next statuses. Closed statuses are final except that any record may be marked
# entered-in-error by the connector's centre.
REFERRAL_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("requested", "cancelled", "entered-in-error"),
    "requested": ("accepted", "rejected", "cancelled", "entered-in-error"),
    "accepted": ("in-progress", "on-hold", "failed", "cancelled", "completed", "entered-in-error"),
    "in-progress": ("on-hold", "failed", "completed", "cancelled", "entered-in-error"),
    "on-hold": ("in-progress", "failed", "cancelled", "completed", "entered-in-error"),
    "rejected": ("entered-in-error",),
    "cancelled": ("entered-in-error",),
    "failed": ("entered-in-error",),
    "completed": ("entered-in-error",),
    "entered-in-error": (),
}
# Outcome reasons (after findhelp) for a closed referral.
OUTCOME_REASONS = (
    "got_help",
    "couldnt_contact",
    "not_eligible",
    "no_capacity",
    "couldnt_get_help",
    "no_longer_interested",
    "referred_elsewhere",
)
HANDOVER_METHODS = ("phone", "email", "in_person")
COACHING_MODES = ("visit", "phone", "video")
SIGNPOST_SETTINGS = ("hairdresser", "pharmacy", "library", "grocery", "church", "sports_club", "other")


def can_transition(current: str, new: str) -> bool:
    return new in REFERRAL_TRANSITIONS.get(current, ())
