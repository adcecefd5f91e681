"""Webhooks for registration platforms: a signed JSON message whenever a practitioner they
follow changes status.

Messages are written to an outbox in the same transaction as the change, so none is lost;
a deliverer posts them with an HMAC-SHA256 signature and retries with backoff until the
platform answers 2xx.

Signature: ``X-Yibao-Signature: sha256=<hex HMAC of the raw body with the shared secret>``;
``X-Yibao-Delivery`` carries the message id (the same on every retry, for de-duplication).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Connection, Engine, select, update
from sqlmodel import Session

from portal.identifiers import check_national_code
from portal.models import WebhookFollow, WebhookOutbox, WebhookSubscription, table
from portal.services.errors import ServiceError
from portal.services.registry import Act, audit

OUTBOX = table(WebhookOutbox)
FOLLOWS = table(WebhookFollow)
SUBSCRIPTIONS = table(WebhookSubscription)
MAX_BACKOFF = timedelta(hours=6)
# A subscription following this "code" gets every blacklist event (the provincial
# credit-sharing platform, Hunan-Credit Art. 28; Hunan-Rules Art. 17): `portal webhooks add
# --platform ... --url ... --secret ... '*blacklist*'`.
BLACKLIST_TOPIC = "*blacklist*"


def subscribe(
    session: Session, act: Act, *, platform: str, url: str, secret: str, codes: list[str]
) -> WebhookSubscription:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ServiceError("url", "回调地址应为 http(s):// 开头的完整网址")
    if len(secret) < 16:
        raise ServiceError("secret", "签名密钥至少 16 个字符")
    if not platform.strip():
        raise ServiceError("platform", "请填写挂号平台名称")
    checked = []
    for i, code in enumerate(codes):
        if code == BLACKLIST_TOPIC:  # the credit-sharing platform follows the blacklist
            checked.append(code)
            continue
        try:
            checked.append(check_national_code(code))
        except ValueError as exc:
            raise ServiceError(f"codes[{i}]", str(exc)) from exc
    subscription = WebhookSubscription(
        platform=platform.strip(), url=url, secret=secret, **act.stamp()
    )
    session.add(subscription)
    session.flush()
    for code in sorted(set(checked)):
        session.add(WebhookFollow(subscription_id=subscription.id or 0, national_code=code))
    audit(
        session,
        act,
        "webhook_subscribe",
        "webhook_subscription",
        subscription.id,
        platform=platform,
        follows=len(checked),
    )
    return subscription


def enqueue(
    conn: Connection, national_code: str, old: str, new: str, on: date, at: datetime
) -> int:
    """Queue one message per subscription following ``national_code``."""
    subscribers = list(
        conn.execute(
            select(FOLLOWS.c.subscription_id)
            .join(SUBSCRIPTIONS, SUBSCRIPTIONS.c.id == FOLLOWS.c.subscription_id)
            .where(FOLLOWS.c.national_code == national_code)
            .where(SUBSCRIPTIONS.c.active.is_(True))
        ).scalars()
    )
    if not subscribers:
        return 0
    payload = json.dumps(
        {
            "event": "status_changed",
            "code": national_code,
            "old_status": old,
            "new_status": new,
            "on": on.isoformat(),
            "at": at.isoformat(),
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    conn.execute(
        OUTBOX.insert(),
        [
            {
                "subscription_id": sid,
                "payload": payload,
                "created_at": at,
                "next_attempt_at": at,
                "attempts": 0,
                "delivered_at": None,
                "last_error": "",
            }
            for sid in subscribers
        ],
    )
    return len(subscribers)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0


def deliver(
    engine: Engine, now: datetime | None = None, limit: int = 100, timeout: float = 5.0
) -> DeliveryReport:
    """Post every due message once; failures are retried later with exponential backoff."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    with engine.connect() as conn:
        due = list(
            conn.execute(
                select(
                    OUTBOX.c.id,
                    OUTBOX.c.payload,
                    OUTBOX.c.attempts,
                    SUBSCRIPTIONS.c.url,
                    SUBSCRIPTIONS.c.secret,
                )
                .join(SUBSCRIPTIONS, SUBSCRIPTIONS.c.id == OUTBOX.c.subscription_id)
                .where(OUTBOX.c.delivered_at.is_(None))
                .where(OUTBOX.c.next_attempt_at <= now)
                .order_by(OUTBOX.c.id)
                .limit(limit)
            )
        )
    for message in due:
        body = message.payload.encode("utf-8")
        request = urllib.request.Request(
            message.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Yibao-Signature": sign(message.secret, body),
                "X-Yibao-Delivery": str(message.id),
                "User-Agent": "yibao-portal-webhook",
            },
        )
        error = ""
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                if not 200 <= response.status < 300:
                    error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            error = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = str(getattr(exc, "reason", exc))[:200]
        values: dict[str, Any]
        if error:
            wait = min(MAX_BACKOFF, timedelta(seconds=30 * 2**message.attempts))
            values = {
                "attempts": message.attempts + 1,
                "next_attempt_at": now + wait,
                "last_error": error,
            }
            report.failed += 1
        else:
            values = {"attempts": message.attempts + 1, "delivered_at": now, "last_error": ""}
            report.delivered += 1
        with engine.begin() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == message.id).values(**values))
    return report


def enqueue_blacklist(conn: Connection, item: dict[str, Any], at: datetime) -> int:
    """Queue one blacklist event (the feed item) per subscription following
    ``BLACKLIST_TOPIC``, in the caller's transaction (Hunan-Credit Art. 28: pushed at once)."""
    subscribers = list(
        conn.execute(
            select(FOLLOWS.c.subscription_id)
            .join(SUBSCRIPTIONS, SUBSCRIPTIONS.c.id == FOLLOWS.c.subscription_id)
            .where(FOLLOWS.c.national_code == BLACKLIST_TOPIC)
            .where(SUBSCRIPTIONS.c.active.is_(True))
        ).scalars()
    )
    if not subscribers:
        return 0
    payload = json.dumps(
        {"event": "blacklist_changed", "item": item, "at": at.isoformat()},
        ensure_ascii=False,
        sort_keys=True,
    )
    conn.execute(
        OUTBOX.insert(),
        [
            {
                "subscription_id": sid,
                "payload": payload,
                "created_at": at,
                "next_attempt_at": at,
                "attempts": 0,
                "delivered_at": None,
                "last_error": "",
            }
            for sid in subscribers
        ],
    )
    return len(subscribers)
