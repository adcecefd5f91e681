"""Typed settings, read from the environment once; bad values fail loudly at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlsplit

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
    # Seals private fields (portal.crypto) and keys the ID-number hash. Never defaulted:
    # PORTAL_SECRET or PORTAL_SECRET_FILE must name one (spec/DESIGN.md, "Settings").
    secret: str = ""
    workers: int = 1
    base_url: str = ""  # every absolute link; default http://HOST:PORT
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    redis_url: str = ""  # rate limits shared by every worker and process (else per process)

    def __post_init__(self) -> None:
        if len(self.secret) < 16:
            raise SettingsError(
                "PORTAL_SECRET (or PORTAL_SECRET_FILE, a file holding it) must be set to a "
                "random value of at least 16 characters, kept for the life of the database: "
                "it seals ID numbers, birth dates and phones. `make run` makes one for the demo."
            )
        if not self.base_url:
            object.__setattr__(self, "base_url", f"http://{self.host}:{self.port}")

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
            secret=_secret(env),
            workers=_positive(env, "PORTAL_WORKERS", cls.workers),
            base_url=_base_url(env.get("PORTAL_BASE_URL", "")),
            trusted_proxies=_networks(env.get("PORTAL_TRUSTED_PROXIES", "")),
            redis_url=_redis_url(env.get("REDIS_URL", "")),
        )
        try:
            normalise_url(settings.database_url)
        except DatabaseURLError as exc:
            raise SettingsError(str(exc)) from exc
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


def _secret(env: Mapping[str, str]) -> str:
    """PORTAL_SECRET, or the first line of the file PORTAL_SECRET_FILE names."""
    secret = env.get("PORTAL_SECRET", "")
    path = env.get("PORTAL_SECRET_FILE", "")
    if secret and path:
        raise SettingsError("set PORTAL_SECRET or PORTAL_SECRET_FILE, not both")
    if path:
        try:
            secret = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"PORTAL_SECRET_FILE: cannot read {path}: {exc.strerror}") from exc
        if len(secret) < 16:
            raise SettingsError(f"PORTAL_SECRET_FILE: {path} must hold 16 or more characters")
    elif secret and len(secret) < 16:
        raise SettingsError("PORTAL_SECRET must be at least 16 characters")
    return secret


def _base_url(text: str) -> str:
    """PORTAL_BASE_URL: scheme and host (and an optional path prefix), no query."""
    if not text:
        return ""
    parsed = urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query:
        raise SettingsError(
            f"PORTAL_BASE_URL must look like https://yibao.example.gov.cn, got {text!r}"
        )
    return text.rstrip("/")


def _redis_url(text: str) -> str:
    text = text.strip()
    if text and urlsplit(text).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError(
            f"REDIS_URL must be redis://host:port/db, rediss://… or unix:///path, got {text!r}"
        )
    return text


def _networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """PORTAL_TRUSTED_PROXIES: comma-separated IPs or CIDRs (empty: trust no proxy)."""
    networks = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(
                f"PORTAL_TRUSTED_PROXIES: {part!r} is not an IP address or CIDR"
            ) from None
    return tuple(networks)


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, str(default))
    if not text.isdigit() or int(text) < 1:
        raise SettingsError(f"{name} must be a positive whole number, got {text!r}")
    return int(text)


RATE_LIMITS = {
    # group: (variable, default, window in seconds)
    "search": ("PORTAL_SEARCH_PER_MINUTE", 60, 60.0),
    "pages": ("PORTAL_PAGES_PER_MINUTE", 120, 60.0),
    "badges": ("PORTAL_BADGES_PER_MINUTE", 600, 60.0),
    "api": ("PORTAL_API_PER_MINUTE", 1200, 60.0),
    "api_burst": ("PORTAL_API_PER_SECOND", 100, 1.0),
    "feeds": ("PORTAL_FEEDS_PER_MINUTE", 60, 60.0),
    "receipts": ("PORTAL_RECEIPTS_PER_MINUTE", 20, 60.0),  # each one writes a row
    "static": ("PORTAL_STATIC_PER_MINUTE", 600, 60.0),
}


def rate_limits(env: Mapping[str, str] | None = None) -> dict[str, tuple[int, float]]:
    """Requests allowed per client address, per group of public routes: (count, window).

    Sized for real use: a patient searches a few times a minute; a hospital page shows a
    few dozen badges; a registration platform checks its doctors in batches (a batch of n
    codes costs ⌈n / 100⌉ API units, spec/DESIGN.md). Harvesting the registry by name or
    code takes days at these rates. Shared by every worker and process when REDIS_URL is set;
    otherwise per process (with N workers, N times the rate).
    """
    env = os.environ if env is None else env
    return {
        group: (_positive(env, name, default), window)
        for group, (name, default, window) in RATE_LIMITS.items()
    }
