"""Webhooks: a real receiver on loopback gets a signed message, retried until it answers 2xx."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from portal.models import WebhookOutbox
from portal.services.agreements import record_agreement_action
from portal.services.errors import ServiceError
from portal.services.webhooks import deliver, subscribe
from tests.portal.conftest import OFFICER, Cast

SECRET = "platform-shared-secret-123"


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]], list[int]]]:
    received: list[dict[str, Any]] = []
    answers = [500]  # the first delivery fails; later ones succeed

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(answers.pop(0) if answers else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received, answers
    server.shutdown()


def test_a_status_change_is_delivered_signed_and_retried(
    session: Session, engine: Engine, cast: Cast, receiver: Any
) -> None:
    url, received, _ = receiver
    subscribe(
        session, OFFICER, platform="湘雅挂号平台", url=url, secret=SECRET, codes=[cast.doctor]
    )
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        action="suspended",
        decided_on=date(2025, 6, 2),
        effective_from=date(2025, 6, 2),
        until=date(2025, 8, 31),
        document_no="湘医保协〔2025〕90号",
        responsible=[cast.doctor, cast.nurse],
    )
    session.commit()
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    first = deliver(engine, now=t0)
    assert (first.delivered, first.failed) == (0, 1)
    assert deliver(engine, now=t0 + timedelta(seconds=10)).failed == 0  # backing off
    second = deliver(engine, now=t0 + timedelta(seconds=31))
    assert (second.delivered, second.failed) == (1, 0)
    assert deliver(engine, now=t0 + timedelta(hours=1)).delivered == 0  # nothing twice
    assert len(received) == 2  # only the followed doctor, not the nurse
    a, b = received
    assert a["headers"]["X-Yibao-Delivery"] == b["headers"]["X-Yibao-Delivery"]
    expected = "sha256=" + hmac.new(SECRET.encode(), b["body"], hashlib.sha256).hexdigest()
    assert b["headers"]["X-Yibao-Signature"] == expected
    message = json.loads(b["body"])
    assert message | {"at": ""} == {
        "event": "status_changed",
        "code": cast.doctor,
        "old_status": "normal",
        "new_status": "suspended",
        "on": "2025-06-02",
        "at": "",
    }


def test_an_unreachable_platform_keeps_its_messages(
    session: Session, engine: Engine, cast: Cast
) -> None:
    subscribe(
        session,
        OFFICER,
        platform="离线平台",
        url="http://127.0.0.1:9/hook",
        secret=SECRET,
        codes=[cast.nurse],
    )
    record_agreement_action(
        session,
        OFFICER,
        institution_code=cast.hospital_a,
        action="suspended",
        decided_on=date(2025, 6, 2),
        effective_from=date(2025, 6, 2),
        until=date(2025, 8, 31),
        document_no="湘医保协〔2025〕91号",
        responsible=[cast.nurse],
    )
    session.commit()
    report = deliver(engine, now=datetime.now(UTC) + timedelta(seconds=1), timeout=1)
    assert report.failed == 1
    with Session(engine) as s:
        kept = s.exec(select(WebhookOutbox)).one()
        assert kept.delivered_at is None and kept.attempts == 1 and kept.last_error
        assert s.exec(select(func.count()).select_from(WebhookOutbox)).one() == 1


def test_a_subscription_is_checked(session: Session, cast: Cast) -> None:
    with pytest.raises(ServiceError) as refused:
        subscribe(session, OFFICER, platform="x", url="ftp://x", secret=SECRET, codes=[])
    assert refused.value.field == "url"
    with pytest.raises(ServiceError) as refused:
        subscribe(
            session, OFFICER, platform="x", url="https://x.example/h", secret="short", codes=[]
        )
    assert refused.value.field == "secret"
    with pytest.raises(ServiceError) as refused:
        subscribe(
            session,
            OFFICER,
            platform="x",
            url="https://x.example/h",
            secret=SECRET,
            codes=["nobody"],
        )
    assert refused.value.field == "codes[0]"
