"""The ``portal`` command line (spec/DESIGN.md, "Command line")."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from portal.clock import china_today
from portal.db import make_engine, upgrade
from portal.models import Practitioner
from portal.settings import Settings, SettingsError

console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def _engine(settings: Settings) -> Engine:
    """The migrated database, refused when the secret is not the one that sealed it."""
    from portal.services.secrets import SecretMismatch, check_secret

    engine = make_engine(settings.database_url)
    try:
        upgrade(engine, settings.secret)
        check_secret(engine, settings.secret)
    except (SecretMismatch, RuntimeError) as exc:
        engine.dispose()
        raise click.ClickException(str(exc)) from exc
    return engine


@contextmanager
def _bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


@click.group(help="医保相关人员支付资格与信用门户 — the portal's command line.")
def main() -> None:
    pass


@main.command(help="Run the web app (migrates the database first).")
@click.option("--host", default=None, help="Address (default PORTAL_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORTAL_PORT or 8000).")
@click.option("--access-log", is_flag=True, help="Log every request (off: faster, less kept).")
def serve(host: str | None, port: int | None, access_log: bool) -> None:
    import uvicorn

    from portal.app import create_app

    settings = _settings()
    _engine(settings).dispose()
    host = host or settings.host
    port = port or settings.port
    if not os.environ.get("PORTAL_BASE_URL"):  # links follow --host/--port unless configured
        os.environ["PORTAL_BASE_URL"] = f"http://{host}:{port}"
        settings = Settings.from_env()
    click.echo(f"门户已启动 / portal running: http://{host}:{port}/")
    if settings.workers > 1:
        # Several processes: each builds its own app; the background round is idempotent.
        uvicorn.run(
            "portal.app:serve_app",
            factory=True,
            host=host,
            port=port,
            workers=settings.workers,
            log_level="warning",
            access_log=access_log,
        )
    else:
        uvicorn.run(
            create_app(settings, background=True),
            host=host,
            port=port,
            log_level="info",
            access_log=access_log,
        )


@main.group(help="Database maintenance.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply all migrations.")
def db_upgrade() -> None:
    engine = _engine(_settings())
    click.echo(f"数据库已升级到最新版本 / database at head: {engine.url.render_as_string()}")


@main.command("demo-data", help="Write deterministic demo data (Hunan).")
@click.option("--practitioners", type=click.IntRange(1, 20_000_000), required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today.")
@click.option("--if-empty", is_flag=True, help="Do nothing when practitioners already exist.")
def demo_data(practitioners: int, seed: int, as_of: datetime | None, if_empty: bool) -> None:
    from portal.services.demo import generate

    settings = _settings()
    engine = _engine(settings)
    with Session(engine) as session:
        existing = session.execute(select(func.count()).select_from(Practitioner)).scalar_one()
    if if_empty and existing:
        click.echo(f"已有 {existing:,} 名医保相关人员，未生成演示数据 / demo data skipped")
        return
    day = as_of.date() if as_of else china_today()
    started = time.perf_counter()
    with _bar("生成演示数据 demo data", practitioners) as advance:
        summary = generate(
            engine,
            practitioners,
            seed=seed,
            as_of=day,
            secret=settings.secret,
            progress=lambda _what, n: advance(n),
        )
    took = time.perf_counter() - started
    click.echo(
        f"完成 / done in {took:.1f} s: {summary.institutions:,} institutions, "
        f"{summary.practitioners:,} practitioners, {summary.registrations:,} registrations, "
        f"{summary.decisions:,} decisions, {summary.ledger_entries:,} ledger entries, "
        f"{summary.notices:,} notices; statuses on {day}: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(summary.statuses.items()))
    )


@main.group(help="Prove or repair the status cache against the ledger.")
def ledger() -> None:
    pass


def _verify(rebuild: bool) -> None:
    from portal.services import verify

    settings = _settings()
    engine = _engine(settings)
    with Session(engine) as session:
        people = session.execute(select(func.count()).select_from(Practitioner)).scalar_one()
    started = time.perf_counter()
    with _bar("核对账本 ledger " + ("rebuild" if rebuild else "verify"), None) as advance:
        report = verify.check(engine, rebuild=rebuild, progress=advance)
    took = time.perf_counter() - started
    click.echo(
        f"{people:,} practitioners, {report.with_history:,} with a history: "
        f"{report.agree:,} agree, {len(report.mismatched):,} differ, "
        f"{len(report.missing):,} missing from the cache, {len(report.stale):,} stale, "
        f"{report.stale_statuses:,} registrations with yesterday's status ({took:.1f} s)"
    )
    for label, codes in (
        ("differ", report.mismatched),
        ("missing", report.missing),
        ("stale", report.stale),
    ):
        if codes:
            click.echo(f"  {label}: {', '.join(codes[:20])}{' …' if len(codes) > 20 else ''}")
    for problem in report.malformed[:20]:
        click.echo(f"  malformed: {problem}")
    if report.malformed:
        click.echo(f"账本中有 {len(report.malformed):,} 条记录无法重放，请逐条更正", err=True)
        if rebuild:
            raise SystemExit(1)
    if report.stale_statuses and not rebuild:
        click.echo("有登记备案状态未更新到今天：请运行 portal ledger refresh-statuses（每日一次）")
    if rebuild:
        click.echo(f"已重建 / rebuilt {report.rebuilt:,} cache rows")
    elif not report.ok:
        click.echo("缓存与账本不一致：请运行 portal ledger rebuild", err=True)
        raise SystemExit(1)
    else:
        click.echo("缓存与账本一致 / the cache agrees with the ledger")


@ledger.command(
    "verify",
    help="Check the ledger's hash chain; replay every ledger through the engine and compare.",
)
def ledger_verify() -> None:
    _verify_chain()
    _verify(rebuild=False)


def _verify_chain() -> None:
    """The ledger's hash chain first (portal.services.ledger_chain): exit 1 naming the first
    broken link or the entries written around it."""
    from portal.services import ledger_chain

    engine = _engine(_settings())
    with _bar("核对账本哈希链 ledger chain", None) as advance:
        report = ledger_chain.verify(engine, progress=advance)
    if report.ok:
        click.echo(
            f"账本哈希链完整 / the ledger chain is intact: {report.count:,} entries, head "
            f"{(report.head_hash or '')[:16]}…"
        )
        return
    if report.broken:
        click.echo(f"账本哈希链断裂 / the ledger chain is broken: {report.broken}")
    if report.unchained:
        ids = ", ".join(f"#{i}" for i in report.unchained)
        click.echo(f"未入链的账本记录 / entries written around the chain: {ids}")
    click.echo("账本可能被篡改：请保全数据库并报告安全负责人", err=True)
    raise SystemExit(1)


@ledger.command("rebuild", help="Rewrite every cache row that disagrees with the ledger.")
def ledger_rebuild() -> None:
    _verify(rebuild=True)


@ledger.command("refresh-statuses", help="Set every registration's stored status to today's.")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today.")
def ledger_refresh(on: datetime | None) -> None:
    from portal.services.verify import refresh

    settings = _settings()
    day = on.date() if on else china_today()
    report = refresh(_engine(settings), day)
    click.echo(
        f"{day}: 已更新 {report.changed:,} 条登记备案状态 / {report.changed:,} registrations "
        f"updated, {len(report.rebuilt):,} cache rows rebuilt, {len(report.failed):,} failed"
    )
    if report.failed:
        raise SystemExit(1)


@main.group(help="Webhooks for registration platforms.")
def webhooks() -> None:
    pass


@webhooks.command("add", help="Subscribe a platform's URL to the statuses of CODES.")
@click.option("--platform", required=True)
@click.option("--url", required=True)
@click.option("--secret", required=True, help="Shared HMAC-SHA256 key (16+ characters).")
@click.argument("codes", nargs=-1)
def webhooks_add(platform: str, url: str, secret: str, codes: tuple[str, ...]) -> None:
    from portal.db import session_scope
    from portal.services.errors import ServiceError
    from portal.services.registry import Act
    from portal.services.webhooks import subscribe

    engine = _engine(_settings())
    try:
        with session_scope(engine, write=True) as session:
            sub = subscribe(
                session,
                Act("cli", datetime.now(UTC), "订阅状态变化"),
                platform=platform,
                url=url,
                secret=secret,
                codes=list(codes),
            )
    except ServiceError as exc:
        raise click.UsageError(f"{exc.field}: {exc.message}") from exc
    click.echo(f"已订阅 / subscribed #{sub.id}: {platform} follows {len(codes)} practitioners")


@webhooks.command("deliver", help="Post the due messages (with --loop, every 30 seconds).")
@click.option("--loop", is_flag=True)
def webhooks_deliver(loop: bool) -> None:
    from portal.services.webhooks import deliver

    engine = _engine(_settings())
    while True:
        report = deliver(engine)
        click.echo(f"delivered {report.delivered}, failed {report.failed} (retried later)")
        if not loop:
            return
        time.sleep(30)


@main.command("import", help="Import registrations from CSV or XLSX (Annex 2 columns).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--good-rows", is_flag=True, help="Import the good rows even if some are bad.")
@click.option("--actor", default="cli", show_default=True, help="Who imports (recorded).")
def import_file(path: Path, good_rows: bool, actor: str) -> None:
    from portal.services.imports import import_registrations

    settings = _settings()
    engine = _engine(settings)
    with _bar(f"导入 {path.name}", None) as advance:
        report = import_registrations(
            engine,
            path,
            actor=actor,
            at=datetime.now(UTC),
            secret=settings.secret,
            good_rows=good_rows,
            progress=advance,
        )
    for problem in report.problems:
        click.echo(f"第 {problem.line} 行 {problem.column}：{problem.message}", err=True)
    click.echo(report.summary())
    if report.problems and not good_rows:
        raise SystemExit(1)


@main.group(help="The secret that seals ID numbers, birth dates and phones.")
def secret() -> None:
    pass


@secret.command("rotate", help="Re-seal private fields under a new secret (first line of stdin).")
def secret_rotate() -> None:
    """The new secret is read from standard input, never from an argument (it would show
    in the process list and the shell's history)."""
    from portal.services.secrets import SecretMismatch, rotate

    settings = _settings()
    new = sys.stdin.readline().strip()
    if len(new) < 16:
        raise click.UsageError("the new secret (first line of standard input) needs 16+ characters")
    if new == settings.secret:
        raise click.UsageError("the new secret is the same as PORTAL_SECRET")
    engine = _engine(settings)
    with Session(engine) as session:
        people = session.execute(select(func.count()).select_from(Practitioner)).scalar_one()
    try:
        with _bar("更换密钥 secret rotate", people) as advance:
            report = rotate(engine, settings.secret, new, progress=advance)
    except SecretMismatch as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"已更换 / rotated: {report.practitioners:,} practitioners, {report.resealed:,} fields "
        f"re-sealed, {report.unknown_digests:,} ID numbers still to be re-entered. Set "
        "PORTAL_SECRET (or the file PORTAL_SECRET_FILE names) to the new secret now."
    )


@main.group(help="Accounts of officers, institution administrators and auditors.")
def users() -> None:
    pass


def _password_from_stdin(username: str) -> str:
    """The password is the first line of standard input, never an argument."""
    from portal.services.accounts import check_password
    from portal.services.errors import ServiceError

    password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_password(password, username)
    except ServiceError as exc:
        raise click.UsageError(f"password (first line of standard input): {exc.message}") from exc
    return password


def _create_user(username: str, role: str, region: str, institution: str) -> None:
    from portal.db import session_scope
    from portal.services.accounts import create_account
    from portal.services.errors import ServiceError
    from portal.services.registry import Act
    from portal.services.roles import ROLES

    spec = ROLES.get(role)
    if spec is None:
        raise click.BadParameter(f"one of {', '.join(ROLES)}", param_hint="'--role'")
    if spec.scope == "region" and not region:
        raise click.BadParameter(
            f"{role} needs --region (2, 4 or 6 digits)", param_hint="'--region'"
        )
    if spec.scope == "institution" and not institution:
        raise click.BadParameter(f"{role} needs --institution", param_hint="'--institution'")
    password = _password_from_stdin(username)
    engine = _engine(_settings())
    option = {"region": "'--region'", "institution": "'--institution'", "role": "'--role'"}
    try:
        with session_scope(engine, write=True) as session:
            account = create_account(
                session, Act("cli", datetime.now(UTC), "命令行创建账号"), username=username,
                role=role, password=password, region=region, institution=institution,
            )  # fmt: skip
    except ServiceError as exc:
        if exc.field in option:
            raise click.BadParameter(exc.message, param_hint=option[exc.field]) from exc
        raise click.UsageError(f"{exc.field}: {exc.message}") from exc
    click.echo(f"已创建账号 / created {account.username} ({ROLES[role].title})")


@users.command("create-admin", help="The first provincial administrator (password: stdin).")
@click.option("--username", required=True)
def users_create_admin(username: str) -> None:
    _create_user(username, "province_admin", "", "")


@users.command("create", help="An account of any role (password: first line of stdin).")
@click.option("--username", required=True)
@click.option("--role", required=True)
@click.option("--region", default="", help="2, 4 or 6 digits (province, city, county).")
@click.option("--institution", default="", help="Institution code (institution_admin).")
def users_create(username: str, role: str, region: str, institution: str) -> None:
    _create_user(username, role, region, institution)


@users.command("deactivate", help="End the account and all its sessions.")
@click.option("--username", required=True)
def users_deactivate(username: str) -> None:
    from portal.db import session_scope
    from portal.services.accounts import deactivate, get_account
    from portal.services.errors import ServiceError
    from portal.services.registry import Act

    engine = _engine(_settings())
    try:
        with session_scope(engine, write=True) as session:
            deactivate(session, Act("cli", datetime.now(UTC), "命令行停用账号"),
                       get_account(session, username))  # fmt: skip
    except ServiceError as exc:
        raise click.BadParameter(exc.message, param_hint="'--username'") from exc
    click.echo(f"已停用 / deactivated {username}; its sessions have ended")


@main.group(help="The keys that sign check receipts.")
def keys() -> None:
    pass


@keys.command("rotate", help="Retire the current receipt key and make a new one.")
def keys_rotate() -> None:
    """Old receipts keep verifying: the retired key stays in /.well-known/jwks.json with its
    ``valid_to``. The change is in the audit log."""
    import getpass
    import json as json_module
    from datetime import UTC

    from portal.services import audit as chain
    from portal.services.receipts import make_key

    settings = _settings()
    engine = _engine(settings)
    actor = f"cli:{getpass.getuser()}"
    now = datetime.now(UTC)
    with engine.begin() as conn:
        kid = make_key(conn, settings.secret, actor, now)
        chain.append(
            conn,
            [{"at": now, "actor": actor, "action": "receipt_key_rotate", "entity": "receipt_key",
              "entity_id": None, "reason": "portal keys rotate",
              "detail": json_module.dumps({"kid": kid})}],
        )  # fmt: skip
    click.echo(f"新的凭证签名密钥 / new receipt key: {kid}（旧密钥保留在 JWKS 中供核验旧凭证）")


@main.group(help="The audit log: a hash chain anchored by its head.")
def audit() -> None:
    pass


@audit.command("verify", help="Walk the audit chain; exit 1 naming the first broken entry.")
def audit_verify() -> None:
    from portal.services import audit as chain

    engine = _engine(_settings())
    started = time.perf_counter()
    with _bar("核对审计日志 audit verify", chain.size(engine)) as advance:
        report = chain.verify(engine, progress=advance)
    took = time.perf_counter() - started
    if report.broken is None:
        click.echo(
            f"审计日志完整 / the audit chain is intact: {report.count:,} entries, head "
            f"{(report.head_hash or '')[:16]}… ({took:.1f} s)"
        )
        return
    where = (
        f"entry #{report.broken.entry_id}"
        if report.broken.entry_id is not None
        else f"seq {report.broken.seq}"
    )
    click.echo(
        f"审计日志链断裂 / the audit chain is broken at {where}: {report.broken.reason} "
        f"({report.count:,} entries intact before it)"
    )
    click.echo("审计日志可能被篡改：请保全数据库并报告安全负责人", err=True)
    raise SystemExit(1)


@main.group(help="The annual credit evaluation (Hunan-Credit Art. 18-22).")
def credit() -> None:
    pass


@credit.command("evaluate", help="Preview, commit or publish a year's credit evaluation.")
@click.option("--year", type=click.IntRange(2000, 9999), required=True)
@click.option("--region", default=None, help="2, 4 or 6 digits (default: the province, 43).")
@click.option("--commit", "commit_", is_flag=True, help="Commit the results.")
@click.option("--publish", "publish_", is_flag=True, help="Publish a committed year.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def credit_evaluate(
    year: int, region: str | None, commit_: bool, publish_: bool, as_json: bool
) -> None:
    """Without --commit or --publish: a preview, nothing written. Medical institutions
    without a health-commission consultation are held as 待征求意见 (Art. 21), not failed."""
    import json

    from portal.services import credit_evaluation as ce
    from portal.services.registry import Act

    if region is not None and not region.strip().isdigit():
        raise click.BadParameter("2, 4 or 6 digits", param_hint="'--region'")
    if region is not None and len(region.strip()) not in (2, 4, 6):
        raise click.BadParameter("2, 4 or 6 digits", param_hint="'--region'")
    # a county (6 digits) is well formed but not a jurisdiction: ce.check_region refuses it
    # with the reason (Hunan-Credit Art. 21), exit 1
    engine = _engine(_settings())
    act = Act("cli", datetime.now(UTC), "年度信用评价")
    try:
        summary = None
        if commit_ or not publish_:
            scope = ce.check_region(region)
            with _bar(f"信用评价 {year} {scope}", ce.count_subjects(engine, scope)) as advance:
                if commit_:
                    summary = ce.commit(engine, act, year, scope, progress=advance)
                else:
                    summary = ce.preview(engine, year, scope, progress=advance)
        if publish_:
            published = ce.publish(engine, act, year, region)
            if summary is None:
                summary = published
            else:
                summary.state = "published"
    except ce.CreditError as exc:
        click.echo(f"{exc.field}: {exc.message}", err=True)
        raise SystemExit(1) from exc
    assert summary is not None
    data = summary.to_json()
    for warning in summary.warnings:
        click.echo(warning, err=True)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    grades = ", ".join(f"{g} {n:,}" for g, n in data["grades"].items())
    kinds = ", ".join(f"{k} {n:,}" for k, n in data["kinds"].items())
    excluded = ", ".join(f"{k} {n:,}" for k, n in data["excluded"].items()) or "0"
    click.echo(
        f"{year} {summary.region} [{summary.state}]: {data['total']:,} subjects; grades {grades}; "
        f"{kinds}; held (待征求意见) {data['held']:,}; excluded {excluded}"
        + (f"; written {summary.written:,}, unchanged {summary.unchanged:,}" if commit_ else "")
    )
    from portal.services.regions import city_zh

    columns = ("A", "B", "C", "D", "held", "excluded")
    click.echo("city           " + "".join(f"{c:>9}" for c in columns))
    for city, values in data["cities"].items():
        label = f"{city} {city_zh(city)}"
        click.echo(f"{label:<15}" + "".join(f"{values.get(c, 0):>9,}" for c in columns))
    for held in data["held_institutions"]:
        click.echo(f"  待征求意见 held: {held['code']} ({held['region']})")


@main.group(help="The blacklist (Hunan-Credit Art. 33-35; Hunan-Rules Art. 17).")
def blacklist() -> None:
    pass


def _blacklist_day(on: datetime | None, what: str) -> None:
    from portal.clock import china_today
    from portal.db import session_scope
    from portal.services import blacklist as bl
    from portal.services.registry import Act

    day = on.date() if on else china_today()
    engine = _engine(_settings())
    act = Act("cli", datetime.now(UTC), "终止人员纳入名单" if what == "propose" else "公示期满移出")
    with session_scope(engine, write=True) as session:
        if what == "propose":
            made = bl.propose_terminated(session, act, day)
            click.echo(f"拟列入 / proposed: {len(made)}")
        else:
            ended = bl.end_publications(session, act, day)
            click.echo(f"移出 / removed: {len(ended)}")


@blacklist.command(
    "propose-terminated", help="Propose every terminated practitioner not yet proposed."
)
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today.")
def blacklist_propose_terminated(on: datetime | None) -> None:
    _blacklist_day(on, "propose")


@blacklist.command("end-publications", help="Remove the listings whose 3-year period is over.")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today.")
def blacklist_end_publications(on: datetime | None) -> None:
    _blacklist_day(on, "end")


@credit.group("archive", help="Credit archives (Hunan-Credit Art. 13-16).")
def credit_archive_group() -> None:
    """Subjects' archives of credit information."""


@credit_archive_group.command("sync", help="Back-fill the archives from the points ledger.")
@click.option("--actor", default="cli", show_default=True, help="Who writes (recorded).")
def credit_archive_sync(actor: str) -> None:
    """One item per decision and person, one per agreement action; idempotent."""
    from portal.db import session_scope
    from portal.services import credit_archive as archive
    from portal.services.registry import Act

    settings = _settings()
    engine = _engine(settings)
    act = Act(actor, datetime.now(UTC), "信用档案从记分台账补录（湘信用办法第十四条、第十六条）")
    with session_scope(engine, write=True) as session:
        total = archive.people_with_decisions(session)
        with _bar("信用档案 / archive sync", total) as advance:
            people = archive.sync_from_ledger(session, act, progress=advance)
        places = archive.sync_agreement_actions(session, act)
        places += archive.sync_institution_decisions(session, act)
    click.echo(
        f"已写入 / written: {people:,} practitioner items, {places:,} institution items "
        f"({total:,} practitioners with decisions looked at)"
    )
