"""The acting user as the services see it: role and scope, loaded fresh on every interaction."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("admin", "manager", "connector", "partner", "volunteer")
CENTRE_SCOPED = ("manager", "connector")


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    language: str = "sv"
    centre_ids: frozenset[int] = field(default_factory=frozenset)
    organization_ids: frozenset[int] = field(default_factory=frozenset)
    care_unit: str | None = None

    def serves_centre(self, centre_id: int) -> bool:
        return self.role in CENTRE_SCOPED and centre_id in self.centre_ids

    def serves_organization(self, organization_id: int) -> bool:
        return self.role == "partner" and organization_id in self.organization_ids

    def scope_key(self) -> tuple:
        """For cache keys: anything cached per user scope must include this."""
        return (self.role, tuple(sorted(self.centre_ids)), tuple(sorted(self.organization_ids)))
