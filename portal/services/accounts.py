"""Accounts, passwords, logins and sessions of the admin.

- Passwords: argon2id (argon2-cffi), at least 12 characters, not containing the username;
  an account an administrator creates for someone else must change its password at first
  login (operators' own ``portal users`` commands set a final one).
- Lockout (spec/DESIGN.md "Admin"): five failed logins for one account within 15 minutes
  lock it for 15 minutes, the right password included; a client with ten failures within
  15 minutes is held off for 15 minutes, doubling with each further lock that day.
- Sessions live in the database (every worker sees them): the cookie holds a random
  token, the table only its SHA-256; an idle timeout of 30 minutes and 12 hours at most;
  logging out or deactivating the account ends them at once.
- Lifecycle: request → approval by an administrator of the right scope → change of role
  or scope → deactivation, each step in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import Session, select

from portal.models import AdminSession, Institution, LoginAttempt, UserAccount
from portal.services.errors import NotFound, ServiceError
from portal.services.registry import Act, audit
from portal.services.roles import ROLES, Role, in_region

HASHER = PasswordHasher()
MIN_PASSWORD = 12
ACCOUNT_FAILURES, ACCOUNT_WINDOW = 5, timedelta(minutes=15)
CLIENT_FAILURES, CLIENT_WINDOW = 10, timedelta(minutes=15)
IDLE, LONGEST = timedelta(minutes=30), timedelta(hours=12)
# A hash to verify against when the username is unknown, so that timing tells nothing.
_DUMMY = HASHER.hash("not-a-password-" + secrets.token_hex(8))


def now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """Times are stored in UTC (a database may give them back without a zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ServiceError("password", f"密码至少 {MIN_PASSWORD} 个字符")
    if username and username.lower() in password.lower():
        raise ServiceError("password", "密码不能包含用户名")
    if len(set(password)) < 5:
        raise ServiceError("password", "密码过于简单：请使用更多不同的字符")


def check_scope(session: Session, role_id: str, region: str, institution: str) -> Role:
    """The scope a role needs: a region for regional roles, an institution for theirs."""
    found = ROLES.get(role_id)
    if found is None:
        raise ServiceError("role", f"角色应为 {'、'.join(ROLES)} 之一")
    if found.scope == "region":
        if not (region.isascii() and region.isdigit() and len(region) in (2, 4, 6)):
            raise ServiceError("region", "该角色须指定行政区划：2、4 或 6 位代码（省、市、县）")
    elif region:
        raise ServiceError("region", "该角色不按行政区划限定")
    if found.scope == "institution":
        if not institution:
            raise ServiceError("institution", "机构管理员须指定所在机构代码")
        known = session.exec(select(Institution.id).where(Institution.code == institution)).first()
        if known is None:
            raise ServiceError("institution", f"未找到机构代码 {institution}")
    elif institution:
        raise ServiceError("institution", "该角色不属于某一机构")
    return found


def _check_username(username: str) -> str:
    username = username.strip()
    if not (3 <= len(username) <= 64) or not all(c.isalnum() or c in "._-" for c in username):
        raise ServiceError("username", "用户名应为 3 至 64 个字母、数字或 . _ -")
    return username


def create_account(
    session: Session,
    act: Act,
    *,
    username: str,
    role: str,
    password: str | None,
    region: str = "",
    institution: str = "",
    display_name: str = "",
    state: str = "active",
    must_change: bool = False,
) -> UserAccount:
    """A new account (``state="requested"`` for a request awaiting approval)."""
    username = _check_username(username)
    if session.exec(select(UserAccount.id).where(UserAccount.username == username)).first():
        raise ServiceError("username", f"用户名 {username} 已存在")
    check_scope(session, role, region, institution)
    if password is not None:
        check_password(password, username)
    account = UserAccount(
        username=username,
        display_name=display_name.strip()[:64],
        password_hash=HASHER.hash(password) if password else "",
        role=role,
        region=region,
        institution_code=institution,
        state=state,
        must_change_password=must_change,
        created_at=act.at,
        created_by=act.actor,
        approved_by=act.actor if state == "active" else "",
    )
    session.add(account)
    session.flush()
    audit(
        session, act, "request_account" if state == "requested" else "create_account",
        "user_account", account.id, username=username, role=role, region=region,
        institution=institution,
    )  # fmt: skip
    return account


def may_manage(manager: UserAccount, account: UserAccount) -> bool:
    """An administrator manages accounts within their own scope (a province administrator:
    all of them); nobody changes their own role or scope."""
    if manager.id == account.id or "users_manage" not in ROLES[manager.role].rights:
        return False
    scope = ROLES[manager.role].scope
    return scope == "province" or (scope == "region" and in_region(manager.region, account.region))


def get_account(session: Session, username: str) -> UserAccount:
    found = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    if found is None:
        raise NotFound("username", f"未找到用户 {username}")
    return found


def approve_account(
    session: Session, act: Act, manager: UserAccount, account: UserAccount, password: str
) -> UserAccount:
    """Approval of a request: the approver sets a first password the user must change."""
    if not may_manage(manager, account):
        raise ServiceError("username", "无权审批该账号")
    if account.state != "requested":
        raise ServiceError("username", "该账号不是待审批状态")
    check_password(password, account.username)
    before = {"state": account.state}
    account.state, account.approved_by = "active", act.actor
    account.password_hash, account.must_change_password = HASHER.hash(password), True
    session.add(account)
    audit(session, act, "approve_account", "user_account", account.id, before=before,
          after={"state": "active"})  # fmt: skip
    return account


def change_role(
    session: Session,
    act: Act,
    manager: UserAccount,
    account: UserAccount,
    *,
    role: str,
    region: str,
    institution: str,
) -> UserAccount:
    if not may_manage(manager, account):
        raise ServiceError("username", "无权变更该账号")
    check_scope(session, role, region, institution)
    before = {
        "role": account.role,
        "region": account.region,
        "institution": account.institution_code,
    }
    account.role, account.region, account.institution_code = role, region, institution
    session.add(account)
    end_sessions(session, account, act.at)  # new rights take effect at the next login
    audit(session, act, "change_role", "user_account", account.id, before=before,
          after={"role": role, "region": region, "institution": institution})  # fmt: skip
    return account


def deactivate(session: Session, act: Act, account: UserAccount) -> UserAccount:
    """Ends the account and every session of it at once."""
    if account.state == "deactivated":
        return account
    before = {"state": account.state}
    account.state, account.deactivated_at = "deactivated", act.at
    session.add(account)
    ended = end_sessions(session, account, act.at)
    audit(session, act, "deactivate_account", "user_account", account.id, before=before,
          after={"state": "deactivated"}, sessions_ended=ended)  # fmt: skip
    return account


def set_password(session: Session, act: Act, account: UserAccount, old: str, new: str) -> None:
    """The user's own change (required at first login for accounts made by others)."""
    if not _verify(account.password_hash, old):
        raise ServiceError("old_password", "原密码不正确")
    if old == new:
        raise ServiceError("password", "新密码不能与原密码相同")
    check_password(new, account.username)
    account.password_hash, account.must_change_password = HASHER.hash(new), False
    session.add(account)
    audit(session, act, "change_password", "user_account", account.id)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DUMMY, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# --- logging in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    account: UserAccount | None
    token: str = ""  # the new session's cookie value
    refusal: str = ""  # in Chinese, for the login page
    field: str = "password"


def _failures(session: Session, since: datetime, *, username: str = "", client: str = "") -> int:
    query = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.at >= _aware(since))
    query = query.where(LoginAttempt.ok == False)  # noqa: E712
    if username:
        query = query.where(LoginAttempt.username == username)
    if client:
        query = query.where(LoginAttempt.client == client)
    return int(session.exec(query).one())


def locked_until(session: Session, username: str, client: str, at: datetime) -> datetime | None:
    """When the account or the client may try again, or None if it may now."""
    if _failures(session, at - ACCOUNT_WINDOW, username=username) >= ACCOUNT_FAILURES:
        last = session.exec(
            select(func.max(LoginAttempt.at)).where(LoginAttempt.username == username)
        ).one()
        if last is not None:
            locked: datetime = _aware(last) + ACCOUNT_WINDOW
            return locked
    day = _failures(session, at - timedelta(hours=24), client=client)
    if _failures(session, at - CLIENT_WINDOW, client=client) >= CLIENT_FAILURES:
        locks = max(1, day // CLIENT_FAILURES)
        last = session.exec(
            select(func.max(LoginAttempt.at)).where(LoginAttempt.client == client)
        ).one()
        if last is not None:
            until: datetime = _aware(last) + CLIENT_WINDOW * 2 ** (locks - 1)
            return until
    return None


def login(session: Session, username: str, password: str, client: str, at: datetime) -> LoginResult:
    """Check the password (argon2, ~0.2 s: call it off the event loop) and open a session."""
    username = username.strip()[:64]
    until = locked_until(session, username, client[:64], at)
    if until is not None and until > at:
        minutes = max(1, int((until - at).total_seconds() // 60) + 1)
        _verify("", password)  # the same work either way
        session.add(LoginAttempt(username=username, client=client[:64], at=at, ok=False))
        return LoginResult(None, refusal=f"登录失败次数过多，已锁定，请 {minutes} 分钟后再试")
    account = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    ok = (
        account is not None
        and account.state == "active"
        and _verify(account.password_hash if account else "", password)
    )
    session.add(LoginAttempt(username=username, client=client[:64], at=at, ok=ok))
    if not ok or account is None:
        # The attempt just added counts (the query flushes it first).
        left = ACCOUNT_FAILURES - _failures(session, at - ACCOUNT_WINDOW, username=username)
        hint = f"（再错 {left} 次将锁定 15 分钟）" if 0 < left < ACCOUNT_FAILURES else ""
        if left <= 0:
            hint = "（已锁定 15 分钟）"
        return LoginResult(None, refusal="用户名或密码不正确" + hint)
    token = secrets.token_urlsafe(32)
    session.add(
        AdminSession(
            token_hash=_token_hash(token), user_id=account.id or 0, created_at=at,
            last_seen_at=at, client=client[:64],
        )
    )  # fmt: skip
    audit(session, Act(account.username, at, "登录"), "login", "user_account", account.id)
    return LoginResult(account, token=token)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def session_user(
    session: Session, token: str, at: datetime
) -> tuple[UserAccount, AdminSession] | None:
    """The account behind a cookie, if its session is open, fresh and the account active.
    Seen at most once a minute (a write), so reading pages costs no write per request."""
    if not token or len(token) > 100:
        return None
    found = session.exec(
        select(AdminSession, UserAccount)
        .join(UserAccount, UserAccount.id == AdminSession.user_id)  # type: ignore[arg-type]
        .where(AdminSession.token_hash == _token_hash(token))
    ).first()
    if found is None:
        return None
    admin_session, account = found
    moment = _aware(at)
    if (
        admin_session.ended_at is not None
        or account.state != "active"
        or moment - _aware(admin_session.last_seen_at) > IDLE
        or moment - _aware(admin_session.created_at) > LONGEST
    ):
        return None
    if moment - _aware(admin_session.last_seen_at) > timedelta(minutes=1):
        admin_session.last_seen_at = at
        session.add(admin_session)
    return account, admin_session


def logout(session: Session, token: str, at: datetime) -> None:
    found = session.exec(
        select(AdminSession).where(AdminSession.token_hash == _token_hash(token))
    ).first()
    if found is not None and found.ended_at is None:
        found.ended_at = at
        session.add(found)


def end_sessions(session: Session, account: UserAccount, at: datetime) -> int:
    ended = 0
    for open_session in session.exec(
        select(AdminSession)
        .where(AdminSession.user_id == account.id)
        .where(AdminSession.ended_at == None)  # noqa: E711
    ):
        open_session.ended_at = at
        session.add(open_session)
        ended += 1
    return ended
