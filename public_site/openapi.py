"""The OpenAPI document of the JSON API, written out as the contract it is.

Kept by hand rather than generated: the handlers read their parameters as text and check
them themselves (public_site.common), so the framework cannot know the ranges, formats,
bodies and error shapes that platforms depend on. A fuzz test (schemathesis) holds every
answer of the API to this document.
"""

from __future__ import annotations

from typing import Any

from portal.services.disclosure_feed import COLUMNS as FEED_COLUMNS
from public_site.feeds import BLACKLIST_COLUMNS

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
NULLABLE_DATE = {"oneOf": [DATE, {"type": "null"}]}
DATE_OR_EMPTY = {"anyOf": [DATE, {"type": "string", "enum": [""]}]}  # empty: no bound
CODE_PATTERN = r"^(?:[DdNn][0-9]{11}|[Hh][YyJj][0-9]{12})$"
STATUS = {"type": "string", "enum": ["normal", "suspended", "terminated", "cancelled"]}


def _feed(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "since", "next_since", "cursor", "next", "generated"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "since": {"type": "integer", "description": "the cursor asked for"},
            "next_since": {"type": "integer", "description": "pass it as since next time"},
            "cursor": {"type": "string", "description": "next_since, as text"},
            "next": {"type": ["string", "null"], "description": "the next page; null: caught up"},
            "generated": DATE,
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str, example: Any = None) -> dict[str, Any]:
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


def _error(
    description: str, retry: bool = False, example: tuple[str, str | None] | None = None
) -> dict[str, Any]:
    default = ("请求过于频繁，请稍后再试", None) if retry else ("请求有误", None)
    error, field = example or default
    answer = _json(_ref("Error"), description, {"error": error, "field": field})
    if retry:
        answer["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
        }
    return answer


ERRORS = {
    "400": _error(
        "Bad input: `field` names the parameter or body field",
        example=("on 应为日期 YYYY-MM-DD，收到 '2026/1/1'", "on"),
    ),
    "429": _error("Too many requests from this client: wait Retry-After seconds", retry=True),
}
STALE = {
    "type": "boolean",
    "description": "true when the day's status refresh has not run (data_as_of before today, "
    "China time, or never): do not read 'normal' as vouched for",
}
DATA_AS_OF = {
    "oneOf": [{"type": "string", "format": "date"}, {"type": "null"}],
    "description": "the day of the last completed status refresh",
}
SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "field"],
        "properties": {
            "error": {"type": "string", "description": "what is wrong, in Chinese"},
            "field": {"type": ["string", "null"]},
            "request_id": {"type": "string", "description": "on 500: quote it to support"},
        },
    },
    "Institution": {
        "type": "object",
        "required": ["code", "name"],
        "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
    },
    "Status": {
        "type": "object",
        "required": [
            "code",
            "name",
            "status",
            "period_start",
            "period_end",
            "reregister_from",
            "restoration_pending",
            "payable",
            "emergency_payable",
            "reason",
            "year_points",
            "as_of",
            "institutions",
            "stale",
            "data_as_of",
        ],
        "properties": {
            "code": {"type": "string", "description": "national code (医保相关人员代码)"},
            "name": {"type": "string"},
            "status": STATUS,
            "period_start": NULLABLE_DATE,
            "period_end": NULLABLE_DATE,
            "reregister_from": NULLABLE_DATE,
            "restoration_pending": {"type": "boolean"},
            "payable": {"type": "boolean", "description": "an ordinary service is paid"},
            "emergency_payable": {"type": "boolean", "description": "an emergency is paid"},
            "reason": {
                "oneOf": [
                    {
                        "type": "string",
                        "enum": ["suspended", "terminated", "cancelled", "not_registered"],
                    },
                    {"type": "null"},
                ],
                "description": "why payable is false (null when payable)",
            },
            "year_points": {
                "type": ["integer", "null"],
                "description": "the year's points, when the rules make them public",
            },
            "as_of": DATE,
            "institutions": {"type": "array", "items": _ref("Institution")},
            "stale": STALE,
            "data_as_of": DATA_AS_OF,
        },
    },
    "BatchRequest": {
        "type": "object",
        "required": ["codes"],
        "additionalProperties": False,
        "properties": {
            "codes": {
                "type": "array",
                "minItems": 1,
                "maxItems": 1000,
                "items": {"type": "string", "description": "a malformed one answers invalid"},
            },
            "on": DATE,
        },
    },
    "BatchResult": {
        "type": "object",
        "required": ["code", "found", "invalid"],
        "description": "the Status fields when found; code exactly as sent",
        "properties": {
            "status": {"oneOf": [STATUS, {"type": "null"}]},
            "payable": {"type": "boolean"},
            "emergency_payable": {"type": "boolean"},
            "error": {"type": "string", "description": "found, but the status cannot be read now"},
            "stale": STALE,
            "data_as_of": DATA_AS_OF,
            "code": {"type": "string"},
            "found": {"type": "boolean"},
            "invalid": {"type": "boolean", "description": "the code is malformed"},
        },
    },
    "BatchAnswer": {
        "type": "object",
        "required": ["as_of", "results"],
        "properties": {
            "as_of": DATE,
            "results": {"type": "array", "items": _ref("BatchResult")},
        },
    },
    "Disclosure": {
        "type": "object",
        "required": ["national_code", "name", "institution_code", "institution", "status"],
        "properties": {
            "national_code": {"type": "string"},
            "name": {"type": "string"},
            "institution_code": {"type": "string"},
            "institution": {"type": "string"},
            "region": {"type": "string"},
            "status": {"type": "string", "enum": ["suspended", "terminated"]},
            "period_start": NULLABLE_DATE,
            "period_end": NULLABLE_DATE,
            "reregister_from": NULLABLE_DATE,
            "restoration_pending": {"type": "boolean"},
            "year_points": {"type": ["integer", "null"]},
            "document_no": {"type": ["string", "null"], "description": "the published decision"},
            "decision_date": NULLABLE_DATE,
            "legal_basis": {"type": ["string", "null"]},
        },
    },
    "ReceiptRequest": {
        "type": "object",
        "required": ["code"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "pattern": CODE_PATTERN, "description": "the code checked"},
            "on": DATE,
            "purpose": {"type": "string", "maxLength": 200, "pattern": "^[^\\x00-\\x1f]*$"},
        },
    },
    "ReceiptIssued": {
        "type": "object",
        "required": ["id", "jws", "url"],
        "properties": {
            "id": {"type": "string"},
            "jws": {
                "type": "string",
                "description": "compact JWS, EdDSA/Ed25519, header alg + kid; payload id, code, "
                "name, status, payable, on, checked_at, data_version, iss, stale, data_as_of",
            },
            "url": {"type": "string", "description": "the printable receipt page"},
        },
    },
    "FeedItem": {
        "type": "object",
        "description": "one public change (spec/DESIGN.md 'Feeds'); replaying the feed means, "
        "per code, the latest item with effective <= today",
        "required": list(FEED_COLUMNS),  # every column of the feed, always present
        "properties": {
            "id": {"type": "integer", "description": "also the cursor up to this item"},
            "type": {
                "type": "string",
                "enum": [
                    "suspended",
                    "terminated",
                    "cancelled",
                    "restored",
                    "shortened",
                    "corrected",
                    "withdrawn",
                ],
            },
            "code": {"type": "string", "description": "national code, as in the status API"},
            "name": {"type": "string"},
            "status": STATUS,
            "published": {**DATE, "description": "the day it became public (never after today)"},
            "effective": {**DATE, "description": "the day status takes effect"},
            "period_start": NULLABLE_DATE,
            "period_end": NULLABLE_DATE,
            "reregister_from": NULLABLE_DATE,
            "document_no": {"type": "string"},
            "replaces": {"type": ["integer", "null"], "description": "the item it corrects"},
        },
    },
    "BlacklistItem": {
        "type": "object",
        "description": "one change of the blacklist (严重失信主体名单)",
        "required": list(BLACKLIST_COLUMNS),
        "properties": {
            "id": {"type": "integer"},
            "type": {
                "type": "string",
                "enum": ["listed", "repaired", "removed", "corrected", "withdrawn"],
            },
            "code": {"type": "string", "description": "national code or credit code"},
            "name": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["listed", "repaired", "removed", "withdrawn"],
            },
            "published": DATE,
            "effective": DATE,
            "period_start": NULLABLE_DATE,
            "period_end": NULLABLE_DATE,
            "reregister_from": {"type": "null"},
            "document_no": {"type": "string"},
            "replaces": {"type": ["integer", "null"]},
            "subject_kind": {"type": "string"},
            "authority": {"type": "string", "description": "the listing authority"},
            "under_objection": {"type": "boolean", "description": "异议处理中"},
        },
    },
    "DisclosureFeed": _feed("FeedItem"),
    "BlacklistFeed": _feed("BlacklistItem"),
    "Jwks": {
        "type": "object",
        "required": ["keys"],
        "properties": {
            "keys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kty", "crv", "x", "kid", "alg", "valid_from", "valid_to"],
                    "properties": {
                        "kty": {"type": "string", "enum": ["OKP"]},
                        "crv": {"type": "string", "enum": ["Ed25519"]},
                        "x": {"type": "string"},
                        "kid": {"type": "string"},
                        "use": {"type": "string", "enum": ["sig"]},
                        "alg": {"type": "string", "enum": ["EdDSA"]},
                        "valid_from": DATE,
                        "valid_to": {**NULLABLE_DATE, "description": "null: still signing"},
                    },
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "default_ruleset", "rulesets", "calendar_years", "server_date"],
        "properties": {
            "status": {"type": "string", "enum": ["ok"]},
            "default_ruleset": {"type": "string"},
            "rulesets": {"type": "array", "items": {"type": "string"}},
            "calendar_years": {"type": "array", "items": {"type": "integer"}},
            "server_date": DATE,
        },
    },
    "DisclosuresPage": {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": _ref("Disclosure")},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 500},
        },
    },
}


def _text(media: str, description: str, example: str = "") -> dict[str, Any]:
    content: dict[str, Any] = {"schema": {"type": "string"}}
    if example:
        content["example"] = example
    return {"description": description, "content": {media: content}}


NOT_MODIFIED = {"description": "Unchanged since the ETag sent in If-None-Match: no body"}
FEED_PARAMS = [
    {
        "name": "since",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 0},
        "description": "0 or absent: from the start; else a cursor the feed returned",
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "description": "items per page",
    },
]
MONTH = {
    "name": "month",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": r"^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$"},
    "description": "YYYY-MM",
}


STATUS_EXAMPLE = {
    "code": "D43010200001", "name": "周华", "status": "suspended",
    "period_start": "2026-01-01", "period_end": "2026-06-30", "reregister_from": None,
    "restoration_pending": False, "payable": False, "emergency_payable": True,
    "reason": "suspended", "year_points": 9, "as_of": "2026-03-15",
    "institutions": [{"code": "H43010200001", "name": "长沙市岳麓区人民医院"}],
    "stale": False, "data_as_of": "2026-03-15",
}  # fmt: skip
FEED_ITEM_EXAMPLE = {
    "id": 41, "type": "restored", "code": "D43010200001", "name": "周华", "status": "normal",
    "published": "2026-03-10", "effective": "2026-03-10", "period_start": "2026-01-01",
    "period_end": "2026-06-30", "reregister_from": None, "document_no": "湘医保协〔2025〕1号",
    "replaces": None,
}  # fmt: skip


def _feed_example(item: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "items": [item], "since": 40, "next_since": 41, "cursor": "41",
        "next": f"https://portal.example/feeds/{name}?since=41&limit=1",
        "generated": "2026-03-15",
    }  # fmt: skip


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def document() -> dict[str, Any]:
    on = _query("on", DATE, "the date asked about (default: today in China)")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "医保相关人员支付资格 API",
            "version": "1.1.0",
            "description": (
                "Status of medical-insurance practitioners for registration platforms and "
                "claim checks. No ID numbers, phone numbers or birth dates are ever returned. "
                "Limits per client address: see the README; a batch of n codes costs "
                "⌈n / 100⌉ requests."
            ),
        },
        "paths": {
            "/api/v1/practitioners/{code}/status": {
                "get": {
                    "operationId": "status",
                    "tags": ["status"],
                    "summary": "The status in force on a date",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "pattern": CODE_PATTERN},
                            "description": "D/N + 11 digits, or HY/HJ + 12 (any case)",
                        },
                        on,
                    ],
                    "responses": {
                        "200": _json(_ref("Status"), "The status", STATUS_EXAMPLE),
                        "404": _error(
                            "No practitioner has this code",
                            example=("未找到医保相关人员代码 D43999999999", "code"),
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/status:batch": {
                "post": {
                    "operationId": "statusBatch",
                    "tags": ["status"],
                    "summary": "Up to 1,000 codes, one answer each, in the order sent",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("BatchRequest")}},
                    },
                    "responses": {
                        "200": _json(
                            _ref("BatchAnswer"),
                            "One answer per code sent",
                            {
                                "as_of": "2026-03-15",
                                "results": [
                                    {
                                        **STATUS_EXAMPLE,
                                        "code": "d43010200001",
                                        "found": True,
                                        "invalid": False,
                                    },
                                    {"code": "D43999999999", "found": False, "invalid": False},
                                    {"code": "12345", "found": False, "invalid": True},
                                ],
                            },
                        ),
                        "413": _error("The body is larger than 64 KB"),
                        "415": _error("The body is not sent as application/json"),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/receipts": {
                "post": {
                    "operationId": "receipt",
                    "tags": ["receipts"],
                    "summary": "A signed check receipt: the status answer, verifiable offline",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("ReceiptRequest")}},
                    },
                    "responses": {
                        "201": _json(
                            _ref("ReceiptIssued"),
                            "The receipt",
                            {
                                "id": "r_5a1f0c2e9b7d4e3a",
                                "jws": "eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9.eyJ…fQ.…",
                                "url": "https://portal.example/receipts/r_5a1f0c2e9b7d4e3a",
                            },
                        ),
                        "404": _error("No practitioner has this code"),
                        "413": _error("The body is larger than 4 KB"),
                        "415": _error("The body is not sent as application/json"),
                        **ERRORS,
                    },
                }
            },
            "/api/v1/disclosures": {
                "get": {
                    "operationId": "disclosures",
                    "tags": ["disclosures"],
                    "summary": "Suspended and terminated practitioners (the JSON /disclosures)",
                    "parameters": [
                        _query(
                            "region",
                            {"type": "string", "pattern": r"^([0-9]{2}([0-9]{2}){0,2})?$"},
                            "a province, city or county code (2, 4 or 6 digits); empty: all",
                        ),
                        _query(
                            "institution",
                            {"type": "string", "maxLength": 32, "pattern": "^[^\\x00-\\x1f]*$"},
                            "an institution's code, or part of its name; empty: all",
                        ),
                        _query(
                            "status",
                            {"type": "string", "enum": ["", "suspended", "terminated"]},
                            "empty: both",
                        ),
                        _query("decided_from", DATE_OR_EMPTY, "decisions on or after this day"),
                        _query("decided_to", DATE_OR_EMPTY, "decisions on or before this day"),
                        _query(
                            "sort",
                            {"type": "string", "enum": ["", "name", "decided"]},
                            "empty: by national code; decided: newest decision first",
                        ),
                        _query("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000}, ""),
                        _query(
                            "per_page",
                            {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                            "",
                        ),
                    ],
                    "responses": {
                        "200": _json(
                            _ref("DisclosuresPage"),
                            "One page",
                            {
                                "items": [
                                    {
                                        "national_code": "D43010200001",
                                        "name": "周华",
                                        "institution_code": "H43010200001",
                                        "institution": "长沙市岳麓区人民医院",
                                        "region": "430104",
                                        "status": "suspended",
                                        "period_start": "2026-01-01",
                                        "period_end": "2026-06-30",
                                        "reregister_from": None,
                                        "restoration_pending": False,
                                        "year_points": 9,
                                        "document_no": "湘医保协〔2025〕1号",
                                        "decision_date": "2025-12-05",
                                        "legal_basis": "服务协议第三十八条",
                                    }
                                ],
                                "total": 1,
                                "page": 1,
                                "per_page": 50,
                            },
                        ),
                        "404": _error("A page past the last"),
                        **ERRORS,
                    },
                }
            },
            "/feeds/disclosures.json": {
                "get": {
                    "operationId": "disclosuresFeed",
                    "tags": ["feeds"],
                    "summary": "Every public change of a practitioner's status, oldest first",
                    "description": "Replaying it from since=0 gives today's public state. "
                    "ETag / If-None-Match: 304 when nothing is new.",
                    "parameters": FEED_PARAMS,
                    "responses": {
                        "200": _json(
                            _ref("DisclosureFeed"),
                            "A page of items",
                            _feed_example(FEED_ITEM_EXAMPLE, "disclosures.json"),
                        ),
                        "304": NOT_MODIFIED,
                        **ERRORS,
                    },
                }
            },
            "/feeds/disclosures.csv": {
                "get": {
                    "operationId": "disclosuresFeedCsv",
                    "tags": ["feeds"],
                    "summary": "The same items as CSV (UTF-8 with BOM)",
                    "parameters": FEED_PARAMS,
                    "responses": {
                        "200": _text("text/csv", "A page of items"),
                        "304": NOT_MODIFIED,
                        **ERRORS,
                    },
                }
            },
            "/feeds/disclosures.atom": {
                "get": {
                    "operationId": "disclosuresFeedAtom",
                    "tags": ["feeds"],
                    "summary": "The same items as an Atom feed (self and next links)",
                    "parameters": FEED_PARAMS,
                    "responses": {
                        "200": _text("application/atom+xml", "A page of entries"),
                        "304": NOT_MODIFIED,
                        **ERRORS,
                    },
                }
            },
            "/feeds/blacklist.json": {
                "get": {
                    "operationId": "blacklistFeed",
                    "tags": ["feeds"],
                    "summary": "Every change of the blacklist: listed, repaired, removed, "
                    "corrected, withdrawn",
                    "parameters": FEED_PARAMS,
                    "responses": {
                        "200": _json(
                            _ref("BlacklistFeed"),
                            "A page of items",
                            _feed_example(
                                {
                                    **FEED_ITEM_EXAMPLE,
                                    "type": "listed",
                                    "status": "listed",
                                    "period_end": "2029-03-10",
                                    "document_no": "医保失信决〔2026〕000001号",
                                    "subject_kind": "practitioner",
                                    "authority": "医疗保障行政部门（行政区划 430104）",
                                    "under_objection": False,
                                },
                                "blacklist.json",
                            ),
                        ),
                        **ERRORS,
                    },
                }
            },
            "/feeds/blacklist.csv": {
                "get": {
                    "operationId": "blacklistFeedCsv",
                    "tags": ["feeds"],
                    "summary": "The blacklist's items as CSV",
                    "parameters": FEED_PARAMS,
                    "responses": {"200": _text("text/csv", "A page of items"), **ERRORS},
                }
            },
            "/feeds/blacklist.atom": {
                "get": {
                    "operationId": "blacklistFeedAtom",
                    "tags": ["feeds"],
                    "summary": "The blacklist's items as an Atom feed",
                    "parameters": FEED_PARAMS,
                    "responses": {
                        "200": _text("application/atom+xml", "A page of entries"),
                        **ERRORS,
                    },
                }
            },
            "/feeds/extracts/{month}.csv": {
                "get": {
                    "operationId": "monthlyExtract",
                    "tags": ["feeds"],
                    "summary": "The public state at the end of a month (everyone not normal)",
                    "parameters": [MONTH],
                    "responses": {
                        "200": _text(
                            "text/csv",
                            "One row per code",
                            "code,name,status,period_start,period_end,reregister_from,document_no",
                        ),
                        "304": NOT_MODIFIED,
                        "404": _error(
                            "The month is not over yet",
                            example=("2026年3月尚未结束，没有全量文件", "month"),
                        ),
                        **ERRORS,
                    },
                }
            },
            "/feeds/changes/{month}.csv": {
                "get": {
                    "operationId": "monthlyChanges",
                    "tags": ["feeds"],
                    "summary": "The items that entered the public state in a month, in feed "
                    "order: last month's extract with these applied is this month's",
                    "parameters": [MONTH],
                    "responses": {
                        "200": _text("text/csv", "One row per item"),
                        "304": NOT_MODIFIED,
                        "404": _error("The month has not begun", example=("尚未开始", "month")),
                        **ERRORS,
                    },
                }
            },
            "/.well-known/jwks.json": {
                "get": {
                    "operationId": "jwks",
                    "tags": ["receipts"],
                    "summary": "The public keys that sign receipts, retired ones included",
                    "responses": {
                        "200": _json(
                            _ref("Jwks"),
                            "The key set (RFC 7517)",
                            {
                                "keys": [
                                    {
                                        "kty": "OKP",
                                        "crv": "Ed25519",
                                        "x": "e7S6vhjde-Fi…",
                                        "kid": "20260315-ac498128",
                                        "use": "sig",
                                        "alg": "EdDSA",
                                        "valid_from": "2026-03-15",
                                        "valid_to": None,
                                    }
                                ]
                            },
                        ),
                        "429": ERRORS["429"],
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "tags": ["operations"],
                    "summary": "Is the portal up, with which rulesets and calendar years",
                    "responses": {
                        "200": _json(
                            _ref("Health"),
                            "Up",
                            {
                                "status": "ok",
                                "default_ruleset": "hunan-2025",
                                "rulesets": ["anhui-2025", "hainan-2025", "hunan-2025"],
                                "calendar_years": [2004, 2026],
                                "server_date": "2026-03-15",
                            },
                        ),
                        "429": ERRORS["429"],
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
