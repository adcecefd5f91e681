"""Typed settings, read from the environment once; bad values fail loudly at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from portal.db import DatabaseURLError, normalise_url
from scoring.rulesets import CreditRuleset, PractitionerRuleset, all_rulesets


class SettingsError(ValueError):
    """A setting has a value the portal cannot run with."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    ruleset: str = "hunan-2025"
    credit_ruleset: str = "hunan-credit-2024"
    database_url: str = "sqlite:///portal.db"
    # Key of the keyed hash under which ID numbers are searchable (never stored themselves).
    secret: str = "dev-only-secret-change-me"
    workers: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        port_text = env.get("PORTAL_PORT", str(cls.port))
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"PORTAL_PORT must be a port number, got {port_text!r}") from None
        if not 0 < port < 65536:
            raise SettingsError(f"PORTAL_PORT must be between 1 and 65535, got {port}")
        settings = cls(
            host=env.get("PORTAL_HOST", cls.host),
            port=port,
            ruleset=env.get("PORTAL_RULESET", cls.ruleset),
            credit_ruleset=env.get("PORTAL_CREDIT_RULESET", cls.credit_ruleset),
            database_url=env.get("DATABASE_URL", cls.database_url),
            secret=env.get("PORTAL_SECRET", cls.secret),
            workers=_positive(env, "PORTAL_WORKERS", cls.workers),
        )
        try:
            normalise_url(settings.database_url)
        except DatabaseURLError as exc:
            raise SettingsError(str(exc)) from exc
        if len(settings.secret) < 16:
            raise SettingsError("PORTAL_SECRET must be at least 16 characters")
        if settings.secret == cls.secret and settings.database_url.startswith("postgres"):
            raise SettingsError(
                "PORTAL_SECRET must be set (a random value, kept) when DATABASE_URL is PostgreSQL:"
                " the development key would let anyone recompute ID-number hashes"
            )
        rulesets = all_rulesets()
        if not isinstance(rulesets.get(settings.ruleset), PractitionerRuleset):
            raise SettingsError(
                f"PORTAL_RULESET: unknown practitioner ruleset {settings.ruleset!r}"
            )
        if not isinstance(rulesets.get(settings.credit_ruleset), CreditRuleset):
            raise SettingsError(
                f"PORTAL_CREDIT_RULESET: unknown credit ruleset {settings.credit_ruleset!r}"
            )
        return settings


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, str(default))
    if not text.isdigit() or int(text) < 1:
        raise SettingsError(f"{name} must be a positive whole number, got {text!r}")
    return int(text)


def rate_limits(env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(searches per minute, API requests per second) allowed per client address.

    Read once when the routes are built: PORTAL_SEARCH_PER_MINUTE (default 60) and
    PORTAL_API_PER_SECOND (default 200). Searching is limited hard so that names cannot
    be harvested; the API serves registration platforms, so its limit is generous.
    """
    env = os.environ if env is None else env
    return (
        _positive(env, "PORTAL_SEARCH_PER_MINUTE", 60),
        _positive(env, "PORTAL_API_PER_SECOND", 200),
    )
