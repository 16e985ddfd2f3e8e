"""Which pages exist and who may see them. Adding a page for a role is one line in PAGES."""

from __future__ import annotations

from dataclasses import dataclass

ALL_ROLES = ("admin", "manager", "connector", "partner", "volunteer")
# Pseudo-role for visitors who are not logged in: public directory pages list it in `roles`.
PUBLIC = "public"
EVERYONE = (*ALL_ROLES, PUBLIC)


@dataclass(frozen=True)
class PageSpec:
    key: str  # also the translation key suffix: page.<key>
    path: str
    icon: str
    roles: tuple[str, ...]
    section: str = "main"
    url_path: str | None = None
    default_for: tuple[str, ...] = ()
    hidden: bool = False  # reachable by link and st.switch_page, not listed in the menu


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        "home_connector",
        "app_pages/home_connector.py",
        ":material/home:",
        ("connector",),
        url_path="home",
        default_for=("connector",),
    ),
    PageSpec(
        "home_manager",
        "app_pages/home_manager.py",
        ":material/home:",
        ("manager",),
        url_path="home",
        default_for=("manager",),
    ),
    PageSpec(
        "home_partner",
        "app_pages/home_partner.py",
        ":material/home:",
        ("partner",),
        url_path="home",
        default_for=("partner",),
    ),
    PageSpec(
        "home_admin",
        "app_pages/home_admin.py",
        ":material/home:",
        ("admin",),
        url_path="home",
        default_for=("admin",),
    ),
    PageSpec("admin_users", "app_pages/admin_users.py", ":material/group:", ("admin",), section="admin"),
    PageSpec("audit_log", "app_pages/audit_log.py", ":material/policy:", ("admin",), section="admin"),
    PageSpec(
        "admin_reference", "app_pages/admin_reference.py", ":material/dataset:", ("admin",), section="admin"
    ),
    PageSpec(
        "directory", "app_pages/directory.py", ":material/travel_explore:", EVERYONE, section="directory"
    ),
    PageSpec(
        "activity", "app_pages/activity.py", ":material/event:", EVERYONE, section="directory", hidden=True
    ),
    PageSpec(
        "activity_edit",
        "app_pages/activity_edit.py",
        ":material/edit:",
        ("admin", "manager", "partner"),
        section="directory",
        hidden=True,
    ),
    PageSpec(
        "directory_upkeep",
        "app_pages/directory_upkeep.py",
        ":material/fact_check:",
        ("admin", "manager", "partner"),
        section="directory",
    ),
    PageSpec(
        "directory_import",
        "app_pages/directory_import.py",
        ":material/upload_file:",
        ("admin", "manager", "partner"),
        section="directory",
    ),
    PageSpec(
        "directory_exchange",
        "app_pages/directory_exchange.py",
        ":material/sync_alt:",
        ("admin", "manager"),
        section="directory",
    ),
    PageSpec("suggest", "app_pages/suggest.py", ":material/add_comment:", EVERYONE, section="directory"),
    PageSpec("patients", "app_pages/patients.py", ":material/person_search:", ("connector",), section="desk"),
    PageSpec(
        "patient", "app_pages/patient.py", ":material/person:", ("connector",), section="desk", hidden=True
    ),
    PageSpec(
        "screening",
        "app_pages/screening.py",
        ":material/checklist:",
        ("connector",),
        section="desk",
        hidden=True,
    ),
    PageSpec(
        "matching",
        "app_pages/matching.py",
        ":material/join_inner:",
        ("connector",),
        section="desk",
        hidden=True,
    ),
    PageSpec(
        "referral", "app_pages/referral.py", ":material/send:", ("connector",), section="desk", hidden=True
    ),
    PageSpec(
        "follow_up",
        "app_pages/follow_up.py",
        ":material/event_repeat:",
        ("connector",),
        section="desk",
        hidden=True,
    ),
    PageSpec(
        "care", "app_pages/care.py", ":material/monitor_heart:", ("connector",), section="desk", hidden=True
    ),
    PageSpec(
        "partner_referrals",
        "app_pages/partner_referrals.py",
        ":material/inbox:",
        ("partner",),
        section="desk",
    ),
    PageSpec(
        "signposting",
        "app_pages/signposting.py",
        ":material/signpost:",
        ("volunteer", "connector"),
        section="desk",
        default_for=("volunteer",),
    ),
    PageSpec(
        "outcomes_centre",
        "app_pages/outcomes_centre.py",
        ":material/monitoring:",
        ("manager", "connector"),
        section="outcomes",
    ),
    PageSpec(
        "outcomes_compare",
        "app_pages/outcomes_compare.py",
        ":material/scatter_plot:",
        ("manager",),
        section="outcomes",
    ),
    PageSpec("evaluation", "app_pages/evaluation.py", ":material/science:", ("manager",), section="outcomes"),
    PageSpec("economics", "app_pages/economics.py", ":material/savings:", ("manager",), section="outcomes"),
    PageSpec(
        "gaps", "app_pages/gaps.py", ":material/travel_explore:", ("manager", "partner"), section="outcomes"
    ),
    PageSpec(
        "partner_feedback",
        "app_pages/partner_feedback.py",
        ":material/insights:",
        ("partner",),
        section="outcomes",
    ),
    PageSpec("privacy", "app_pages/privacy.py", ":material/shield_person:", ("admin",), section="admin"),
    PageSpec("account", "app_pages/account.py", ":material/person:", ALL_ROLES, section="account"),
)

LOGIN_PAGE = PageSpec("login", "app_pages/login.py", ":material/login:", (), url_path="login")


def pages_for(role: str | None) -> list[PageSpec]:
    """The pages a role sees; None (not logged in) sees the public ones."""
    role = role or PUBLIC
    return [p for p in PAGES if role in p.roles]


def spec(key: str) -> PageSpec:
    for page in (*PAGES, LOGIN_PAGE):
        if page.key == key:
            return page
    raise KeyError(key)


def allowed(key: str, role: str | None) -> bool:
    return (role or PUBLIC) in spec(key).roles
