"""``/disclosures`` as a journalist uses it: filter by part of an institution's name, a
county, a range of decision dates; sort; the count is of people; the address follows the
filters (shareable); the CSV carries the document number, decision date and legal basis,
and 是/否 rather than True/False; the JSON API takes the same filters."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from litestar.testing import AsyncTestClient


async def test_filters_sorting_counts_and_the_csv(client: AsyncTestClient[Any]) -> None:
    every = (await client.get("/api/v1/disclosures", params={"per_page": "500"})).json()
    assert every["items"], "the demo has disclosures"
    first = every["items"][0]
    assert first["document_no"] and first["decision_date"] and first["legal_basis"]
    part = first["institution"][2:6]
    by_name = (
        await client.get("/api/v1/disclosures", params={"institution": part, "per_page": "500"})
    ).json()
    assert by_name["items"] and all(part in i["institution"] for i in by_name["items"])
    county = first["region"]
    in_county = (
        await client.get("/api/v1/disclosures", params={"region": county, "per_page": "500"})
    ).json()
    assert in_county["items"] and all(i["region"] == county for i in in_county["items"])
    day = first["decision_date"]
    that_day = (
        await client.get(
            "/api/v1/disclosures",
            params={"decided_from": day, "decided_to": day, "per_page": "500"},
        )
    ).json()
    assert that_day["items"] and all(i["decision_date"] == day for i in that_day["items"])
    newest = (
        await client.get("/api/v1/disclosures", params={"sort": "decided", "per_page": "500"})
    ).json()["items"]
    dates = [i["decision_date"] for i in newest if i["decision_date"]]
    assert dates and dates == sorted(dates, reverse=True)
    assert all(i["decision_date"] for i in newest[: len(dates)])  # undated ones last
    bad = await client.get("/api/v1/disclosures", params={"decided_from": "2025/01/01"})
    assert bad.status_code == 400 and bad.json()["field"] == "decided_from"
    assert (await client.get("/disclosures", params={"sort": "gossip"})).status_code == 400

    page = await client.get("/disclosures", params={"institution": part})
    people = {i["national_code"] for i in by_name["items"]}
    assert f"共 {len(people)} 人" in page.text  # people, not registrations
    assert f'value="{part}"' in page.text and 'hx-push-url="true"' in page.text
    link = re.search(r'href="(/disclosures\?[^"]*format=csv[^"]*)"', page.text)
    assert link and "institution=" in link.group(1)  # the export keeps the filters
    exported = await client.get(link.group(1).replace("&amp;", "&"))
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows and {"document_no", "decision_date", "legal_basis"} <= set(rows[0])
    assert {r["restoration_pending"] for r in rows} <= {"是", "否"}
