"""Fixtures for the scheduler tests: a runtime on the test cluster with its own job store and
a real SMTP server of its own (aiosmtpd) for what it e-mails."""

from __future__ import annotations

import pytest
from alerts_support import Inbox, SmtpServer, free_port
from scheduler_support import PY

from alerts.mailer import SmtpConfig, SmtpSender
from indexer.connection import IndexNames
from scheduler.runtime import Runtime


@pytest.fixture
def make_runtime(es_client, session_names, settings_for, tmp_path):  # type: ignore[no-untyped-def]
    """A runtime with its own job store, on the session's indices unless `names` is given."""
    mail = SmtpServer(Inbox(), free_port())
    mail.start()

    def build(
        crawl_command: tuple[str, ...] = (PY, "-c", "pass"),
        names: IndexNames | None = None,
        **options: float,
    ) -> Runtime:
        names = names or session_names
        settings = settings_for(
            index_prefix=names.prefix,
            scheduler_db_url=f"sqlite:///{tmp_path / 'jobs.sqlite'}",
        )
        return Runtime(
            settings=settings,
            client=es_client,
            names=names,
            sender=SmtpSender(SmtpConfig.from_url(mail.url), timeout=5),
            crawl_command=crawl_command,
            **options,  # type: ignore[arg-type]
        )

    yield build
    mail.stop()
