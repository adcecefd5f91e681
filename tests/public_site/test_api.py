"""The JSON API, badges, embeds and feeds: contracts other systems depend on."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

STATUS_FIELDS = {
    "code",
    "name",
    "status",
    "period_start",
    "period_end",
    "restoration_pending",
    "payable",
    "emergency_payable",
    "as_of",
    "institutions",
}


async def test_the_status_api_has_the_contract_fields(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    body = (await client.get(f"/api/v1/practitioners/{codes['terminated']}/status")).json()
    assert set(body) >= STATUS_FIELDS
    assert body["status"] == "terminated" and body["payable"] is False
    assert body["institutions"] and {"code", "name"} == set(body["institutions"][0])


async def test_status_on_a_date_before_any_case_is_normal(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    body = (
        await client.get(
            f"/api/v1/practitioners/{codes['terminated']}/status", params={"on": "2025-03-02"}
        )
    ).json()
    assert (body["status"], body["as_of"], body["payable"]) == ("normal", "2025-03-02", True)


async def test_bad_input_is_400_naming_the_field_and_unknown_is_404(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    bad_date = await client.get(
        f"/api/v1/practitioners/{codes['normal']}/status", params={"on": "2025-02-30"}
    )
    assert bad_date.status_code == 400 and bad_date.json()["field"] == "on"
    bad_code = await client.get("/api/v1/practitioners/12345/status")
    assert bad_code.status_code == 400 and bad_code.json()["field"] == "code"
    unknown = await client.get("/api/v1/practitioners/D43019999999/status")
    assert unknown.status_code == 404 and "未找到" in unknown.json()["error"]


async def test_the_batch_answers_each_code_and_refuses_more_than_1000(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    answer = await client.post(
        "/api/v1/status:batch", json={"codes": [codes["normal"], "D43019999999"]}
    )
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert results[0]["found"] and results[0]["status"] == "normal"
    assert results[1] == {"code": "D43019999999", "found": False, "invalid": False}
    too_many = await client.post("/api/v1/status:batch", json={"codes": ["D43010200001"] * 1001})
    assert too_many.status_code == 400 and too_many.json()["field"] == "codes"
    wrong = await client.post("/api/v1/status:batch", json={"codes": "D43010200001"})
    assert wrong.status_code == 400


async def test_disclosures_json_is_paginated(client: AsyncTestClient[Any]) -> None:
    page = (await client.get("/api/v1/disclosures", params={"per_page": 5})).json()
    assert len(page["items"]) == 5 and page["total"] > 5
    second = (await client.get("/api/v1/disclosures", params={"per_page": 5, "page": 2})).json()
    assert page["items"][0] != second["items"][0]
    bad = await client.get("/api/v1/disclosures", params={"per_page": 9999})
    assert bad.status_code == 400 and bad.json()["field"] == "per_page"


async def test_the_badge_is_svg_with_an_etag_and_a_304_costs_nothing(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    badge = await client.get(f"/badge/{codes['suspended']}.svg")
    assert badge.headers["content-type"] == "image/svg+xml"
    assert "暂停" in badge.text and len(badge.content) < 1024
    assert "max-age=60" in badge.headers["cache-control"]
    again = await client.get(
        f"/badge/{codes['suspended']}.svg", headers={"If-None-Match": badge.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    other = await client.get(f"/badge/{codes['normal']}.svg")
    assert other.headers["etag"] != badge.headers["etag"] and "正常" in other.text
    assert (await client.get("/badge/D43019999999.svg")).status_code == 404


async def test_the_embed_card_and_script(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    card = await client.get(f"/embed/{codes['suspended']}")
    assert card.status_code == 200 and "仅可自费" in card.text
    script = await client.get("/embed.js")
    assert "data-yibao-code" in script.text
    assert script.headers["content-type"].startswith("application/javascript")


async def test_feeds_have_an_incremental_cursor(client: AsyncTestClient[Any]) -> None:
    first = (await client.get("/feeds/disclosures.json", params={"limit": 20})).json()
    assert len(first["items"]) == 20 and first["next"].endswith("limit=20")
    cursor = first["items"][2]["id"]
    rest = (
        await client.get("/feeds/disclosures.json", params={"since": cursor, "limit": 17})
    ).json()
    assert [i["id"] for i in rest["items"]] == [i["id"] for i in first["items"][3:]]
    done = (
        await client.get("/feeds/disclosures.json", params={"since": first["next_since"]})
    ).json()
    assert all(i["id"] > first["next_since"] for i in done["items"])
    atom = await client.get("/feeds/blacklist.atom")
    assert (
        atom.headers["content-type"].startswith("application/atom+xml") and "<entry>" in atom.text
    )
    csv = await client.get("/feeds/blacklist.csv")
    assert csv.content.decode("utf-8-sig").startswith("id,type,code,name,status,published")
    assert (await client.get("/feeds/everything.json")).status_code == 404
    assert (await client.get("/feeds/blacklist.json", params={"since": -1})).status_code == 400


async def test_cors_is_open_for_the_api_and_badges(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    for path in (
        f"/api/v1/practitioners/{codes['normal']}/status",
        f"/badge/{codes['normal']}.svg",
        "/feeds/blacklist.json",
    ):
        response = await client.get(path, headers={"Origin": "https://hospital.example"})
        assert response.headers.get("access-control-allow-origin") == "*", path


async def test_the_openapi_document_lists_the_contract(client: AsyncTestClient[Any]) -> None:
    """Every JSON route is there, each operation summarised in words, its errors documented
    and every example valid against its own schema."""
    import jsonschema_rs

    spec = (await client.get("/api/v1/openapi.json")).json()
    assert {
        "/api/v1/practitioners/{code}/status",
        "/api/v1/status:batch",
        "/api/v1/receipts",
        "/api/v1/disclosures",
        "/feeds/disclosures.json",
        "/feeds/blacklist.json",
        "/feeds/extracts/{month}.csv",
        "/feeds/changes/{month}.csv",
        "/.well-known/jwks.json",
        "/healthz",
    } <= set(spec["paths"])

    def resolved(schema: Any) -> Any:
        if isinstance(schema, dict):
            if "$ref" in schema:
                return resolved(spec["components"]["schemas"][schema["$ref"].split("/")[-1]])
            return {k: resolved(v) for k, v in schema.items()}
        if isinstance(schema, list):
            return [resolved(v) for v in schema]
        return schema

    examples = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            summary = operation["summary"]
            assert " " in summary and summary != operation["operationId"], (path, method)
            assert "429" in operation["responses"], (path, method)
            if operation.get("parameters") or operation.get("requestBody"):
                assert "400" in operation["responses"], (path, method)
            for status, answer in operation["responses"].items():
                media = answer.get("content", {}).get("application/json")
                if media is None:
                    continue
                assert "example" in media, (path, method, status)
                jsonschema_rs.validate(resolved(media["schema"]), media["example"])
                examples += 1
    assert examples >= 30


async def test_the_fast_status_path_answers_exactly_like_the_full_one(demo_url: str) -> None:
    from datetime import date, timedelta

    from sqlalchemy import select

    from portal.clock import china_today
    from portal.db import make_engine
    from portal.models import Practitioner, table
    from portal.services.public import fast_status, person

    engine = make_engine(demo_url, reads=True)
    people = table(Practitioner)
    with engine.connect() as conn:
        codes = list(conn.execute(select(people.c.national_code).limit(400)).scalars())
        for day in (china_today(), date(2025, 6, 1), china_today() + timedelta(days=400)):
            for code in codes:
                full = person(conn, code, day, decisions=False)
                assert full is not None
                assert fast_status(conn, code.lower(), day) == full.api(), (code, day)
        assert fast_status(conn, "D43019999999", china_today()) is None
    engine.dispose()


async def test_not_payable_says_why(client: AsyncTestClient[Any], codes: dict[str, str]) -> None:
    """spec/DESIGN.md "Batch": reason is suspended, terminated, cancelled or not_registered."""
    terminated = (await client.get(f"/api/v1/practitioners/{codes['terminated']}/status")).json()
    assert (terminated["payable"], terminated["reason"]) == (False, "terminated")
    normal = (await client.get(f"/api/v1/practitioners/{codes['normal']}/status")).json()
    assert (normal["payable"], normal["reason"]) == (True, None)
    before = await client.get(
        f"/api/v1/practitioners/{codes['normal']}/status", params={"on": "2024-06-01"}
    )
    body = before.json()
    assert body["institutions"] == [] and (body["payable"], body["reason"]) == (
        False,
        "not_registered",
    )


async def test_a_parameter_sent_twice_is_refused_naming_it(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    """On every JSON route one value per parameter: ``?since=1&since=2`` is not silently
    read as one of them."""
    code = codes["normal"]
    for path, field in (
        ("/feeds/disclosures.json?since=&since=false", "since"),
        ("/feeds/disclosures.json?since=", "since"),  # empty is no cursor (DESIGN: absent or 0)
        ("/feeds/blacklist.csv?limit=1&limit=2", "limit"),
        (f"/api/v1/practitioners/{code}/status?on=2026-01-01&on=2026-02-01", "on"),
        ("/api/v1/disclosures?page=1&page=2", "page"),
    ):
        answer = await client.get(path)
        assert answer.status_code == 400, path
        assert answer.json()["field"] == field, path
    assert (await client.get("/disclosures?page=1&page=1")).status_code != 500
