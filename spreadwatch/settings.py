"""The one validated settings object, built at an entry point and passed down.

Every value comes from `SPREADWATCH_*` environment variables or a settings file (dotenv format,
named by `SPREADWATCH_SETTINGS_FILE` or `--settings`). Nothing in the project reads `os.environ`
for its configuration anywhere else: this module imports nothing from the project, so every
layer may take a `Settings` without depending on the front door.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SPREADWATCH_"

#: Default public base URLs of the sources; each is overridable by
#: `SPREADWATCH_<SOURCE>_BASE_URL` (tests, benchmarks and the demo point them at replay servers).
DEFAULT_BASE_URLS: dict[str, str] = {
    "github": "https://api.github.com",
    "hackernews": "https://hn.algolia.com",
    "reddit": "https://oauth.reddit.com",
    "reddit_public": "https://www.reddit.com",
    "reddit_auth": "https://www.reddit.com",
    "mastodon": "",  # per instance, from the incident file
    "bluesky": "https://bsky.social",
    "bluesky_public": "https://public.api.bsky.app",
    "jetstream": "wss://jetstream2.us-east.bsky.network",
    "weibo": "https://m.weibo.cn",
    "telegram": "https://t.me",
    "feeds": "",  # feeds carry their own URLs; a base URL rewrites their scheme and host
    "pages": "",
}


def default_data_dir() -> Path:
    """Where spreadwatch keeps the embedded node, spool files and the job store.

    Root gets a system location: Elasticsearch must run as an unprivileged user, which cannot
    traverse root's home folder.
    """
    if os.geteuid() == 0:
        return Path("/var/lib/spreadwatch")
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "spreadwatch"


class SettingsError(ValueError):
    """Settings that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    """Everything configurable about a spreadwatch process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # Elasticsearch: none configured means the embedded node.
    es_url: str | None = None
    es_api_key: SecretStr | None = None
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_ca_certs: Path | None = None
    es_verify_certs: bool = True
    es_request_timeout: float = Field(default=30.0, gt=0, le=3600)
    index_prefix: str = "spreadwatch"
    #: Primary shards of new indices, and replicas (None: 0 on one node, 1 once a second joins).
    es_shards: int = Field(default=1, ge=1, le=64)
    es_replicas: int | None = Field(default=None, ge=0, le=16)
    #: Copies of a shard that must be active before a write proceeds ("1", "2", ..., "all").
    es_wait_for_active_shards: str = "1"

    # The embedded node.
    data_dir: Path = Field(default_factory=default_data_dir)
    es_version: str = "9.5.4"
    es_port: int = Field(default=9200, ge=1, le=65535)
    es_heap: str = "512m"
    es_start_timeout: float = Field(default=120.0, gt=0, le=3600)
    java_home: Path | None = None
    maven_command: str = "mvn"

    # Alerts and e-mail.
    smtp_url: SecretStr | None = None
    smtp_from: str = "spreadwatch@localhost"
    smtp_timeout: float = Field(default=20.0, gt=0, le=600)
    #: Seconds a recipient's delivery is retried (capped backoff) before it counts as failed.
    alert_max_age: Annotated[float, Field(gt=0, le=90 * 86400)] = 7 * 86400.0
    kibana_url: str | None = None
    #: Where the monitor's scheduled reports are published (`<report_url>/<incident>.html`);
    #: alert e-mails link there. Unset: the e-mail names the command that writes the report.
    report_url: str | None = None
    kibana_api_key: SecretStr | None = None
    kibana_password: SecretStr | None = None

    # Scheduler.
    scheduler_db_url: str | None = None
    #: Seconds before a crawl is stopped (SIGTERM, then SIGKILL): a positive number.
    crawl_timeout: float = Field(default=900.0, gt=0, le=7 * 86400)
    #: Seconds between the monitor's heartbeats (`spreadwatch status` tells a live monitor by them).
    heartbeat_interval: float = Field(default=5.0, ge=0.5, le=300)
    #: Seconds a standby monitor waits after the active one's last renewal before taking over.
    lease_ttl: float = Field(default=15.0, ge=2, le=3600)

    #: Where crawl state lives: the cluster (any host can run any crawl) or the data folder.
    state_store: Literal["elasticsearch", "file"] = "elasticsearch"

    # Crawls on Scrapyd daemons instead of local processes (comma-separated URLs).
    scrapyd_urls: str | None = None
    scrapyd_project: str = "spreadwatch"
    scrapyd_username: str | None = None
    scrapyd_password: SecretStr | None = None
    #: Seconds a Scrapyd may stay unreachable (no answer, or its gateway's 502/503/504) before
    #: its running crawl counts as lost.
    scrapyd_lost_after: float = Field(default=15.0, ge=1, le=3600)

    # Crawling: secrets are referenced here by value from the environment, never from files
    # committed with the project.
    github_token: SecretStr | None = None
    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None
    mastodon_token: SecretStr | None = None
    weibo_cookie: SecretStr | None = None
    user_agent: str = "spreadwatch/0.1 (+https://github.com/spreadwatch/spreadwatch)"
    #: The bulk writer's batch: documents per write, and the longest a document waits.
    bulk_batch_size: Annotated[int, Field(ge=1, le=10_000)] = 500
    bulk_flush_seconds: Annotated[float, Field(gt=0, le=300)] = 5.0
    #: Records per page asked of GitHub's lists (GitHub allows 1-100; its own default is 30).
    github_per_page: int = Field(default=100, ge=1, le=100)
    #: Post texts and titles longer than this are cut (flagged `truncated`, counted).
    text_max_chars: int = Field(default=100_000, ge=1_000)
    #: The learned stance head labels every post (on by default: it beats the lexicon
    #: on real tweets, the zh/de/en held-out set, press relays and flat claims about an unseen
    #: incident; docs/stance.md). False: the explainable lexicon alone.
    stance_model: bool = True
    #: With the head on: crawls and the stream write the lexicon's label at once (marked
    #: `stance_pending`) and the head labels those posts afterwards (the monitor's `stance:`
    #: job, each alert run first, the end of `spreadwatch crawl`), so it never slows the
    #: ingest. False: the head labels each writer batch before it is written.
    stance_deferred: bool = True
    #: Seconds between the monitor's runs of the head over each incident's pending posts.
    stance_every: int = Field(default=2, ge=1, le=3600)
    #: The moment a crawl happens at, for replays on a simulated clock (the demo sets it per
    #: round): first_seen, last_seen, deleted_at, captures are stamped with it. Unset: real time.
    crawl_as_of: datetime | None = None

    # Per-source base URLs (`SPREADWATCH_GITHUB_BASE_URL`, ...).
    github_base_url: str = DEFAULT_BASE_URLS["github"]
    hackernews_base_url: str = DEFAULT_BASE_URLS["hackernews"]
    reddit_base_url: str = DEFAULT_BASE_URLS["reddit"]
    reddit_public_base_url: str = DEFAULT_BASE_URLS["reddit_public"]
    reddit_auth_base_url: str = DEFAULT_BASE_URLS["reddit_auth"]
    mastodon_base_url: str = DEFAULT_BASE_URLS["mastodon"]
    bluesky_base_url: str = DEFAULT_BASE_URLS["bluesky"]
    bluesky_public_base_url: str = DEFAULT_BASE_URLS["bluesky_public"]
    jetstream_base_url: str = DEFAULT_BASE_URLS["jetstream"]
    weibo_base_url: str = DEFAULT_BASE_URLS["weibo"]
    telegram_base_url: str = DEFAULT_BASE_URLS["telegram"]
    feeds_base_url: str = DEFAULT_BASE_URLS["feeds"]
    pages_base_url: str = DEFAULT_BASE_URLS["pages"]
    #: Non-public networks crawls may still reach (comma-separated addresses or CIDRs: local
    #: replays `127.0.0.1/32`, an intranet source `10.20.0.0/16`). Empty: a URL or redirect
    #: target resolving to a loopback, private, link-local or reserved address is refused.
    allow_private_networks: str = ""

    # Evidence (docs/evidence.md): WARC captures of matching posts, rendered official pages.
    evidence_capture: Annotated[str, Field(pattern=r"^(matched|off)$")] = "matched"
    #: Captures older than this many days that no post refers to any more are pruned (0 = never).
    evidence_retention_days: int = Field(default=90, ge=0)
    #: A pywb (or other Wayback-style) collection URL; archived copies link through it.
    evidence_replay_url: str | None = None
    #: Matched posts whose author reaches at least this many are re-checked for deletion/edits.
    evidence_recheck_min_reach: int = Field(default=10_000, ge=0)
    chromium_command: str = "chromium"
    render_timeout: float = Field(default=60.0, gt=0)

    log_level: Annotated[str, Field(pattern=r"(?i)^(debug|info|warning|error)$")] = "info"
    log_format: Annotated[str, Field(pattern=r"^(console|json)$")] = "console"

    @field_validator("es_url", "scrapyd_urls")
    @classmethod
    def _check_url_list(cls, value: str | None) -> str | None:
        """One URL or a comma-separated list (a cluster's nodes, the client retries others;
        Scrapyd daemons)."""
        if value is None or not value.strip():
            return None
        urls = [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        for url in urls:
            _require_http_url(url)
        return ",".join(urls)

    @field_validator("allow_private_networks")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        networks = []
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            try:
                networks.append(str(ipaddress.ip_network(part, strict=False)))
            except ValueError:
                raise ValueError(f"{part!r} is not an address or CIDR like 10.0.0.0/8") from None
        return ",".join(networks)

    @field_validator("crawl_as_of")
    @classmethod
    def _check_as_of(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"needs a time zone, e.g. {value.isoformat()}+00:00, got {value.isoformat()}"
            )
        return value.astimezone(UTC)

    @field_validator("es_wait_for_active_shards")
    @classmethod
    def _check_active_shards(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "all" and not (value.isdigit() and int(value) >= 1):
            raise ValueError('must be a number of shard copies (1, 2, ...) or "all"')
        return value

    @field_validator("kibana_url", "report_url")
    @classmethod
    def _check_kibana_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        _require_http_url(value)
        return value.rstrip("/")

    @field_validator("index_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not value or value != value.lower() or any(c in value for c in ' "*\\<|,>/?#:'):
            raise ValueError('must be lowercase, without spaces or any of " * \\ < | , > / ? # :')
        if value.startswith(("_", "-", "+")):
            raise ValueError("must not start with _, - or +")
        return value

    @field_validator("es_port")
    @classmethod
    def _check_port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("must be a TCP port between 1 and 65535")
        return value

    @field_validator("es_heap")
    @classmethod
    def _check_heap(cls, value: str) -> str:
        if not value[:-1].isdigit() or value[-1].lower() not in "mg":
            raise ValueError("must look like 512m or 1g")
        return value

    @property
    def embedded(self) -> bool:
        """True when spreadwatch provides its own Elasticsearch node."""
        return self.es_url is None

    @property
    def scrapyd_url_list(self) -> list[str]:
        """The Scrapyd daemons crawls are dispatched to (empty: local crawl processes)."""
        return self.scrapyd_urls.split(",") if self.scrapyd_urls else []

    @property
    def es_urls(self) -> list[str]:
        """The configured nodes' URLs (empty for the embedded node)."""
        return self.es_url.split(",") if self.es_url else []

    def base_url(self, source: str) -> str:
        """The base URL a spider for `source` talks to (override or public default)."""
        value = getattr(self, f"{source}_base_url", None)
        if value is None:
            raise SettingsError(f"no base URL setting for source {source!r}")
        return str(value).rstrip("/")

    def secret_values(self) -> list[str]:
        """Every secret's clear value, so log output can be scrubbed of them."""
        values = [getattr(self, name) for name in type(self).model_fields]
        secrets = [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
        if self.smtp_url is not None:
            password = urlsplit(self.smtp_url.get_secret_value()).password
            secrets.append(password or "")
        for url in self.es_urls:  # `https://user:password@host` is a way to give them too
            password = urlsplit(url).password or ""
            secrets += [password, unquote(password)]
        return [s for s in secrets if s]

    def secret(self, name: str) -> str | None:
        """The clear value of a secret setting, for the one place that sends it."""
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else value

    def credential(self, setting: str, variable: str | None) -> str | None:
        """A source's secret: the setting, else the environment variable the incident file
        names for it (`token_env`, `cookie_env`...; `spreadwatch.sources.Credential`)."""
        value = self.secret(setting)
        if not value and variable:
            value = os.environ.get(variable) or None
        return value


def without_password(url: str) -> str:
    """`url` with the password of its userinfo written `***` (`https://elastic:***@host`): how a
    URL that may carry credentials is shown in messages."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{host}").geturl()


def _require_http_url(value: str) -> None:
    parts = urlsplit(value)
    shown = without_password(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL like http://127.0.0.1:9200, got {shown!r}")
    try:
        _ = parts.port
    except ValueError as error:
        raise ValueError(f"has an invalid port: {shown!r}") from error


def load_settings(settings_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from the environment and an optional dotenv-style settings file.

    Raises `SettingsError` naming the variable on a bad value, so the CLI can print one line.
    """
    file = settings_file or _settings_file_from_env()
    if file is not None and not file.is_file():
        raise SettingsError(f"settings file {file} does not exist")
    try:
        return Settings(_env_file=file, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def _settings_file_from_env() -> Path | None:
    value = os.environ.get(f"{ENV_PREFIX}SETTINGS_FILE")
    return Path(value) if value else None


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        problems.append(f"{ENV_PREFIX}{field.upper()}: {item['msg']}")
    return "; ".join(problems)
