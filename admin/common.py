"""What every admin page shares: who is signed in, what they may do and see, forms.

One fetch-and-authorise helper per kind of record (STYLE.md, after healthchecks'
``_get_check_for_user``): every handler calls it first, so scope is decided in one place.
Outside their scope an officer gets 404 for a record (no hint it exists) and 403 for a
page their role lacks (spec/DESIGN.md, "Admin").
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import anyio
from litestar import Request
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.db import session_scope
from portal.models import FormSubmission, Institution, Practitioner, Registration, UserAccount
from portal.services.accounts import session_user
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import Act
from portal.services.roles import ROLES, Role, in_region
from public_site.common import client_of

COOKIE = "portal_session"
_WHOLE = re.compile(r"[0-9]{1,9}")  # ASCII digits only: "²".isdigit() is True
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # not 20250101, not 2025-W10-1
T = TypeVar("T")


class LoginRequired(Exception):
    """Not signed in (or the session ended): 303 to the login page."""


class Forbidden(Exception):
    """The role lacks this page or action: 403."""

    def __init__(self, message: str = "您的角色无权访问此页面或执行此操作") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Officer:
    """The signed-in account and what its role lets it do (portal.services.roles)."""

    account: UserAccount
    role: Role

    @property
    def username(self) -> str:
        return self.account.username

    def can(self, right: str) -> bool:
        return right in self.role.rights

    def require(self, right: str) -> None:
        if not self.can(right):
            raise Forbidden()

    def act(self, reason: str = "") -> Act:
        return Act(self.account.username, datetime.now(UTC), reason)

    def sees_region(self, region: str) -> bool:
        if self.role.scope == "province":
            return True
        if self.role.scope == "region":
            return in_region(self.account.region, region)
        return False

    @property
    def scope_text(self) -> str:
        if self.role.scope == "province":
            return "全省"
        if self.role.scope == "region":
            return f"行政区划 {self.account.region} 及下辖"
        return f"机构 {self.account.institution_code}"


@contextmanager
def db(request: Request[Any, Any, Any], write: bool = False) -> Iterator[Session]:
    """One transaction for the request: committed at the end, rolled back on any error, so
    a failed request changes nothing."""
    with session_scope(request.app.state.engine, write=write) as session:
        yield session


def signed_in(request: Request[Any, Any, Any], session: Session) -> Officer:
    """The officer behind the session cookie; LoginRequired when there is none."""
    found = session_user(session, request.cookies.get(COOKIE, ""), datetime.now(UTC))
    if found is None:
        raise LoginRequired()
    account, _ = found
    officer = Officer(account, ROLES[account.role])
    if account.must_change_password and request.url.path != "/admin/password":
        raise PasswordChangeRequired()
    return officer


OPEN_PATHS = frozenset({"/admin/login", "/admin/logout", "/admin/request-account"})
MAX_ID = 2**31 - 1  # ids are 32-bit integers in every table


def _has_session(request: Request[Any, Any, Any]) -> bool:
    with db(request) as session:
        return session_user(session, request.cookies.get(COOKIE, ""), datetime.now(UTC)) is not None


async def admin_gate(request: Request[Any, Any, Any]) -> None:
    """Before any admin handler: strangers go to the login page first (whatever else is
    wrong with the request), then a record id no table can hold is a plain 404."""
    if request.url.path not in OPEN_PATHS and not await in_thread(_has_session, request):
        raise LoginRequired()
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise NotFound("id", "未找到该记录")


class PasswordChangeRequired(Exception):
    """An account made by someone else changes its password before anything else."""


# --- records within scope ----------------------------------------------------------------------


def practitioner_for(session: Session, officer: Officer, code: str) -> Practitioner:
    """The practitioner the officer may see, else 404 (no hint that the code exists)."""
    person = session.exec(
        select(Practitioner).where(Practitioner.national_code == code.strip().upper()[:32])
    ).first()
    if person is None or not _sees_practitioner(session, officer, person):
        raise NotFound("national_code", f"未找到医保相关人员代码 {code[:32]}")
    return person


def _sees_practitioner(session: Session, officer: Officer, person: Practitioner) -> bool:
    if officer.role.scope == "institution":
        institution = session.exec(
            select(Institution.id).where(Institution.code == officer.account.institution_code)
        ).first()
        return institution is not None and (
            session.exec(
                select(Registration.id)
                .where(Registration.practitioner_id == person.id)
                .where(Registration.institution_id == institution)
            ).first()
            is not None
        )
    if officer.sees_region(person.region):
        return True
    # A multi-site doctor registered in the officer's region is theirs too.
    regions = session.exec(
        select(Institution.region)
        .join(Registration, Registration.institution_id == Institution.id)  # type: ignore[arg-type]
        .where(Registration.practitioner_id == person.id)
    ).all()
    return any(officer.sees_region(r) for r in regions)


def institution_for(session: Session, officer: Officer, code: str) -> Institution:
    """The institution the officer may see, else 404."""
    found = session.exec(select(Institution).where(Institution.code == code.strip()[:32])).first()
    if found is None or not sees_institution(officer, found):
        raise NotFound("institution_code", f"未找到机构代码 {code[:32]}")
    return found


def sees_institution(officer: Officer, institution: Institution) -> bool:
    if officer.role.scope == "institution":
        return institution.code == officer.account.institution_code
    return officer.sees_region(institution.region)


# --- forms ---------------------------------------------------------------------------------------


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a handler's database work in a worker thread, off the event loop.

    Admin handlers are ``async def`` and call this, rather than ``sync_to_thread=True``:
    Litestar 2.25 mis-wraps a sync_to_thread handler that returns a Response when another
    handler shares its path (GET and POST of one form), answering 500."""
    return await anyio.to_thread.run_sync(lambda: fn(*args))


def is_whole(text: str) -> bool:
    """A whole number in ASCII digits that fits any id column (at most 9 digits)."""
    return bool(_WHOLE.fullmatch(text))


def parse_day(
    text: str,
    field: str,
    message: str = "日期应写作 YYYY-MM-DD，例如 2025-09-24",
    invalid: str | None = None,
) -> date:
    """``YYYY-MM-DD`` exactly (spec/DESIGN.md "Pinned details"), else 400 naming the field;
    ``invalid`` is the message for a well-written day that does not exist."""
    if not _DAY.fullmatch(text):
        raise ServiceError(field, message)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ServiceError(field, invalid or f"{message}（{text} 不是有效日期）") from None


def form_token() -> str:
    """A hidden token per rendered form: submitting it twice records nothing twice."""
    return secrets.token_urlsafe(24)


def first_submission(session: Session, officer: Officer, token: str, outcome: str) -> str | None:
    """None the first time ``token`` is submitted (it is recorded in the same transaction
    as the action); else where the first submission led, to show that instead."""
    if not token or len(token) > 64:
        raise ServiceError("form_token", "表单已过期，请刷新页面后重新提交")
    earlier = session.get(FormSubmission, token)
    if earlier is not None:
        return earlier.outcome or "/admin/"
    session.add(
        FormSubmission(
            token=token, user_id=officer.account.id or 0, at=datetime.now(UTC), outcome=outcome
        )
    )
    try:
        session.flush()
    except IntegrityError:  # a concurrent double click: the other one won
        session.rollback()
        return outcome
    return None


def submitted_before(session: Session, token: str) -> str | None:
    """Where an earlier submission of this form led, if it was submitted already: for
    actions whose second try would be refused (a subject created twice) rather than
    repeated, checked before acting; ``first_submission`` then records the first."""
    earlier = session.get(FormSubmission, token[:64]) if token else None
    return (earlier.outcome or "/admin/") if earlier is not None else None


def page(
    request: Request[Any, Any, Any],
    template: str,
    officer: Officer | None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """An admin page; never cached (it shows non-public data)."""
    return Template(
        template_name=template,
        context={"officer": officer, "path": request.url.path, **context},
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def back_to(url: str) -> Redirect:
    """After a successful POST: 303 to the page that shows the result (PRG)."""
    return Redirect(url, status_code=303)


def client(request: Request[Any, Any, Any]) -> str:
    return client_of(request)


def form_errors(exc: ServiceError) -> dict[str, str]:
    return {exc.field: exc.message}


def account_label(account: UserAccount) -> str:
    return account.display_name or account.username


def private_item(subject_kind: str, item: Any) -> bool:
    """A non-public item of an individual's archive: its content is shown only on the
    archive page after a stated purpose, with a query-log row (spec/DESIGN.md "Admin");
    other pages (objections, repairs) name it by number only."""
    from portal.credit_models import INDIVIDUAL_KINDS

    return item is not None and not item.public and subject_kind in INDIVIDUAL_KINDS
