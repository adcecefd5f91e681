"""gzip when asked (issue: the batch API gzips on Accept-Encoding): large answers shrink,
say so (Content-Encoding, Vary) and decode to the same JSON; the small hot answers (badge,
one status) are sent as they are."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient


async def test_a_large_answer_is_gzipped_when_asked(
    client: AsyncTestClient[Any], codes: dict[str, str]
) -> None:
    body = {"codes": [codes["normal"], codes["suspended"], codes["terminated"]] * 300}
    plain = await client.post(
        "/api/v1/status:batch", json=body, headers={"Accept-Encoding": "identity"}
    )
    zipped = await client.post(
        "/api/v1/status:batch", json=body, headers={"Accept-Encoding": "gzip"}
    )
    assert plain.headers.get("content-encoding") is None
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert int(zipped.headers["content-length"]) * 5 < len(plain.content)
    assert zipped.json() == plain.json()  # httpx decodes it: the same answer
    for path in (
        f"/badge/{codes['normal']}.svg",
        f"/api/v1/practitioners/{codes['normal']}/status",
    ):
        small = await client.get(path, headers={"Accept-Encoding": "gzip"})
        assert small.status_code == 200 and small.headers.get("content-encoding") is None, path
