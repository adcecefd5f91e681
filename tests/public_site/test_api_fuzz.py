"""The whole JSON API under schemathesis: no input gives a 5xx, and every answer (status,
headers, body) matches the OpenAPI document the portal serves. Bounded: a fixed number of
examples per operation, derandomized, so that `make test` stays quick and repeatable."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar
from schemathesis.config import SchemathesisConfig

from portal.app import create_app
from portal.clock import china_today
from portal.db import make_engine, upgrade
from portal.services.demo import generate
from portal.services.verify import refresh_statuses
from portal.settings import Settings
from public_site.openapi import document
from tests.portal.conftest import SECRET
from tests.public_site.conftest import UNLIMITED


def _portal() -> Litestar:
    """The portal on 600 demo practitioners (built at import: schemathesis loads the
    document from the running app when the tests are collected)."""
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='fuzz-')) / 'portal.db'}"
    engine = make_engine(url)
    upgrade(engine)
    generate(engine, 600, seed=21, as_of=china_today(), secret=SECRET)
    refresh_statuses(engine, china_today())
    engine.dispose()
    return create_app(Settings(database_url=url, secret=SECRET), limits=UNLIMITED)


APP = _portal()
# A body over 64 KB is refused with 413 before it is read: a rejection like the others.
REJECTIONS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
# A feed's ``since`` is any cursor the feed has returned (an opaque, growing number): one
# past the newest is a 400 naming ``since``, which the schema cannot say in advance.
ACCEPTED = ["200", "304", "400", "401", "403", "404", "409", "429"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}},
        "operations": [
            {
                "include-path-regex": "^/feeds/(disclosures|blacklist)",
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
            }
        ],
    }
)
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP, config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_every_input_as_documented(case: Any) -> None:
    case.call_and_validate()


def test_the_portal_serves_the_document_in_the_code() -> None:
    assert schema.raw_schema == document()
