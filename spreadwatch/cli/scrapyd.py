"""`spreadwatch scrapyd deploy URL...`: the crawlers, as an egg, onto Scrapyd daemons."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import click

from spreadwatch.cli.context import AppContext


@click.group("scrapyd")
def scrapyd_group() -> None:
    """Run crawls on Scrapyd daemons (the monitor uses SPREADWATCH_SCRAPYD_URLS)."""


@scrapyd_group.command("deploy")
@click.argument("urls", nargs=-1)
@click.option("--version", "version", help="Version to deploy as [default: the time now].")
@click.pass_obj
def deploy(app: AppContext, urls: tuple[str, ...], version: str | None) -> None:
    """Build the crawlers' egg once and upload it to every daemon at URLS.

    Without URLS, deploys to SPREADWATCH_SCRAPYD_URLS. Each daemon must have spreadwatch's
    dependencies installed and the same SPREADWATCH_* settings as the monitor.
    """
    from crawlers.deploy import DeployError, build_egg
    from scheduler.scrapyd_api import ScrapydDaemon, ScrapydError

    settings = app.settings
    targets = [u.rstrip("/") for u in urls] or settings.scrapyd_url_list
    if not targets:
        raise click.UsageError("give the daemons' URLs or set SPREADWATCH_SCRAPYD_URLS")
    for url in targets:
        if not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URLS")
    password = settings.secret("scrapyd_password")
    auth = (settings.scrapyd_username, password or "") if settings.scrapyd_username else None
    version = version or str(int(time.time()))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="spreadwatch-egg-") as folder:
        try:
            egg = build_egg(Path(folder) / "spreadwatch.egg")
        except DeployError as error:
            raise click.ClickException(str(error)) from None
        for url in targets:
            daemon = ScrapydDaemon(url, settings.scrapyd_project, auth)
            try:
                spiders = daemon.add_version(version, egg)
            except ScrapydError as error:
                click.echo(f"{url}: FAILED: {error}", err=True)
                failed += 1
                continue
            click.echo(f"{url}: {settings.scrapyd_project} {version} ({spiders} spiders)")
    if failed:
        raise click.exceptions.Exit(1)


commands = [scrapyd_group]
