"""The OpenAPI document of the JSON API, written out as the contract it is.

Kept by hand rather than generated: the handlers read their parameters as text and check
them themselves (public_site.common), so the framework cannot know the ranges, formats,
bodies and error shapes that platforms depend on. A fuzz test (schemathesis) holds every
answer of the API to this document.
"""

from __future__ import annotations

from typing import Any

DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
NULLABLE_DATE = {"oneOf": [DATE, {"type": "null"}]}
DATE_OR_EMPTY = {"anyOf": [DATE, {"type": "string", "enum": [""]}]}  # empty: no bound
CODE_PATTERN = r"^(?:[DdNn][0-9]{11}|[Hh][YyJj][0-9]{12})$"
STATUS = {"type": "string", "enum": ["normal", "suspended", "terminated", "cancelled"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    answer = _json(_ref("Error"), description)
    if retry:
        answer["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
        }
    return answer


ERRORS = {
    "400": _error("Bad input: `field` names the parameter or body field"),
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
                        "200": _json(_ref("Status"), "The status"),
                        "404": _error("No practitioner has this code"),
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
                        "200": _json(_ref("BatchAnswer"), "One answer per code sent"),
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
                        "201": _json(_ref("ReceiptIssued"), "The receipt"),
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
                        "200": _json(_ref("DisclosuresPage"), "One page"),
                        "404": _error("A page past the last"),
                        **ERRORS,
                    },
                }
            },
        },
        "components": {"schemas": SCHEMAS},
    }
