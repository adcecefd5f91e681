"""The ``portal`` command line (spec/DESIGN.md, "Command line")."""

from __future__ import annotations

import click

from portal.settings import Settings, SettingsError


@click.group(help="医保相关人员支付资格与信用门户 — the portal's command line.")
def main() -> None:
    pass


@main.command(help="Run the web app.")
@click.option("--host", default=None, help="Address (default PORTAL_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default PORTAL_PORT or 8000).")
def serve(host: str | None, port: int | None) -> None:
    import uvicorn

    from portal.app import create_app

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc
    host = host or settings.host
    port = port or settings.port
    click.echo(f"门户已启动 / portal running: http://{host}:{port}/")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
