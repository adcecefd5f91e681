"""Roles as data: one post, one set of rights, each within a scope.

National-Procedure Art. 56; Hainan-Rules Art. 32, 34 ("一岗一权"). Who sees what is the
table in spec/DESIGN.md ("Admin"). Adding a role is adding an entry here: the pages ask for
rights, never for role names.

Scopes: ``province`` — everything; ``region`` — the account's region code (2, 4 or 6
digits) and everything below it; ``institution`` — the account's own institution.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["province", "region", "institution"]

# Rights (what a page or an action asks for)
VIEW = "view"  # dashboard, practitioner and institution pages
PRIVATE = "private"  # masked ID, full history (asks for a purpose, writes the query log)
RECORD_CASE = "record_case"  # record agreement-action cases, issue notices
RECORD_PENALTY = "record_penalty"  # administrative penalties and responsibility findings
DECIDE = "decide"  # appeals, repairs, restorations, shortening: the agency's decision
DECIDE_OWN_APPEALS = "decide_own_appeals"  # appeals against its own findings (Hunan Art. 19)
FIRST_STEP = "first_step"  # the institution's opinion on repairs and restorations
REGISTRATIONS = "registrations"  # register, deregister, import
CREDIT_READ = "credit_read"
CREDIT_DECIDE = "credit_decide"
LOGS = "logs"  # audit and query logs
USERS_READ = "users_read"
USERS_MANAGE = "users_manage"
WRITE_RIGHTS = frozenset(
    {RECORD_CASE, RECORD_PENALTY, DECIDE, DECIDE_OWN_APPEALS, FIRST_STEP, REGISTRATIONS,
     CREDIT_DECIDE, USERS_MANAGE}
)  # fmt: skip


@dataclass(frozen=True)
class Role:
    id: str
    title: str  # in Chinese, as the UI shows it
    scope: Scope
    rights: frozenset[str]


ROLES: dict[str, Role] = {
    r.id: r
    for r in (
        Role(
            "province_admin",
            "省级管理员",
            "province",
            frozenset(
                {
                    VIEW,
                    PRIVATE,
                    RECORD_CASE,
                    RECORD_PENALTY,
                    DECIDE,
                    REGISTRATIONS,
                    CREDIT_READ,
                    CREDIT_DECIDE,
                    LOGS,
                    USERS_READ,
                    USERS_MANAGE,
                }
            ),
        ),
        Role(
            "agency_officer",
            "医保经办机构工作人员",
            "region",
            frozenset({VIEW, PRIVATE, RECORD_CASE, DECIDE, REGISTRATIONS, CREDIT_READ}),
        ),
        Role(
            "admin_officer",
            "医保行政部门工作人员",
            "region",
            frozenset({VIEW, PRIVATE, RECORD_PENALTY, DECIDE_OWN_APPEALS, CREDIT_READ}),
        ),
        Role(
            "credit_officer",
            "信用管理工作人员",
            "region",
            frozenset({VIEW, PRIVATE, CREDIT_READ, CREDIT_DECIDE}),
        ),
        Role(
            "institution_admin",
            "定点医药机构管理员",
            "institution",
            frozenset({VIEW, FIRST_STEP, REGISTRATIONS, CREDIT_READ}),
        ),
        Role(
            "auditor",
            "审计人员（只读）",
            "province",
            frozenset({VIEW, CREDIT_READ, LOGS, USERS_READ}),
        ),
    )
}


def role(role_id: str) -> Role:
    return ROLES[role_id]


def in_region(account_region: str, region: str) -> bool:
    """A region code (2, 4 or 6 digits) covers itself and everything below it:
    43 (湖南省) ⊃ 4301 (长沙市) ⊃ 430102 (芙蓉区)."""
    return bool(account_region) and region.startswith(account_region)
