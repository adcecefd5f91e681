"""No ID number, mobile number or birth date in anything public (RULES §9).

Crawls every public route with demo data: the pages and every link on them, the API, the
badges, the embeds and the feeds.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient
from sqlmodel import Session, select

from portal.db import make_engine
from portal.models import Practitioner
from portal.services.registry import private_data
from tests.portal.conftest import SECRET

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
LINK = re.compile(r'href="(/[^"#]*)"')
PRIVATE_KEYS = ("id_digest", "id_masked", "birth_date", "phone", "id_number")


async def test_no_public_route_shows_an_id_number_phone_or_birth_date(
    client: AsyncTestClient[Any], demo_url: str, codes: dict[str, str]
) -> None:
    engine = make_engine(demo_url)
    with Session(engine) as session:
        private = {
            p.national_code: private_data(p, SECRET) for p in session.exec(select(Practitioner))
        }
    engine.dispose()
    births = {code: str(p.birth_date) for code, p in private.items()}
    phones = {p.phone for p in private.values()}
    assert len(phones) > 1000, "the demo data has phones to leak"
    seeds = [
        "/",
        "/?q=王",
        "/?q=医院",
        "/disclosures",
        "/disclosures?status=suspended",
        "/disclosures?format=csv",
        "/blacklist",
        "/credit/a-grade",
        "/about",
        "/api/v1/disclosures?per_page=500",
        "/feeds/blacklist.json",
        "/feeds/blacklist.csv",
        "/feeds/blacklist.atom",
        "/feeds/disclosures.json",
        "/feeds/disclosures.atom",
        "/api/v1/openapi.json",
        "/embed.js",
    ]
    for code in codes.values():
        seeds += [
            f"/practitioners/{code}",
            f"/api/v1/practitioners/{code}/status",
            f"/badge/{code}.svg",
            f"/embed/{code}",
        ]
    seen: set[str] = set()
    queue = list(seeds)
    while queue and len(seen) < 400:
        path = queue.pop(0)
        if path in seen or path.startswith("/static/"):
            continue
        seen.add(path)
        response = await client.get(path)
        assert response.status_code in (200, 304), path
        body = response.content.decode("utf-8", errors="replace")
        assert not ID_NUMBER.search(body), f"{path}: looks like an ID number"
        assert not MOBILE.search(body), f"{path}: looks like a mobile number"
        assert not any(m in phones for m in re.findall(r"1\d{10}", body)), path
        assert not any(f'"{key}"' in body for key in PRIVATE_KEYS), path
        page_of = re.search(r"/(?:practitioners|embed)/([A-Z0-9]+)", path)
        if page_of and page_of.group(1) in births:
            assert births[page_of.group(1)] not in body, f"{path}: the person's birth date"
        queue += [link for link in LINK.findall(body) if link not in seen]
    batch = await client.post("/api/v1/status:batch", json={"codes": list(codes.values())})
    assert not ID_NUMBER.search(batch.text) and not MOBILE.search(batch.text)
    assert len(seen) > 50
