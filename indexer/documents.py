"""Mappings as code: one `elasticsearch.dsl` Document per kind of record spreadwatch stores.

Only field types every Elasticsearch has are used (the embedded integ-test distribution lacks
analysis-common, mapper-extras and data streams). Language subfields are added to the posts
template at setup time when the cluster has the analysis-common module (see `templates.py`).
"""

from __future__ import annotations

from typing import Any

from elasticsearch.dsl import (
    Boolean,
    Date,
    Document,
    Float,
    InnerDoc,
    Integer,
    Keyword,
    Long,
    Object,
    Text,
)

#: Bump when a mapping changes incompatibly; `spreadwatch init` migrates by alias.
#: Keyword values longer than this are not indexed (`ignore_above`, set on every keyword
#: field that names none) and are cut to it at ingest, counted (`spreadwatch/truncated/<field>`).
#: Well under Lucene's 32,766-byte term limit even in 4-byte characters.
KEYWORD_MAX_CHARS = 2048

MAPPING_VERSIONS = {"posts": 1, "activity": 1, "runs": 1, "alerts": 1, "monitors": 1, "state": 1}

STANCES = ("rumour", "denial", "debunk", "report", "other")
#: The stance fields of a post (`indexer.stance.Stance.fields`).
STANCE_FIELDS = (
    "stance",
    "stance_confidence",
    "stance_source",
    "stance_cues",
    "stance_model",
)
#: `stance_source` of a label a person set (`indexer.stance_human`): no classifier overwrites it.
HUMAN = "human"


def is_human(doc: dict[str, Any]) -> bool:
    return doc.get("stance_source") == HUMAN


#: Set on a post written with the lexicon's provisional label, until the learned head labels it
#: (`indexer.stance_pending`); and when it did.
PENDING = "stance_pending"
LABELLED_AT = "stance_labelled_at"
#: Everything a post's stance is: what a label that stands carries over a newer crawl's.
KEPT_STANCE_FIELDS = (*STANCE_FIELDS, "claim_stances", PENDING, LABELLED_AT)


def is_settled(doc: dict[str, Any]) -> bool:
    """Labelled for good (by a person, the learned head, or as a pinned statement), not by the
    lexicon alone or waiting for the head."""
    return doc.get("stance_source") in (HUMAN, "model", "official") and not doc.get(PENDING)


def kept_stance(stored: dict[str, Any]) -> dict[str, Any]:
    """The stance fields of `stored`, to be carried over a newer crawl's label."""
    return {name: stored.get(name) for name in KEPT_STANCE_FIELDS}


KINDS = (
    "post", "comment", "repost", "repo", "issue", "pull_request", "commit", "article", "statement",
    "event",
)  # fmt: skip


class Author(InnerDoc):
    id = Keyword()
    handle = Keyword()
    name = Text(fields={"keyword": Keyword(ignore_above=256)})
    url = Keyword(ignore_above=2048)
    followers = Long()
    official = Boolean()
    verified = Boolean()


class Engagement(InnerDoc):
    likes = Long()
    reposts = Long()
    replies = Long()
    quotes = Long()
    views = Long()
    stars = Long()
    forks = Long()
    score = Long()


class Matched(InnerDoc):
    queries = Keyword()
    claims = Keyword()
    official = Boolean()
    statement = Boolean()  # pinned by the incident file's official.statements
    kept = Boolean()  # matched nothing; kept by its spider for context (a matched story's thread)


class CommitPerson(InnerDoc):
    name = Keyword(ignore_above=256)
    login = Keyword(ignore_above=256)
    date = Date()


class CommitStats(InnerDoc):
    additions = Long()
    deletions = Long()
    total = Long()


class CommitFile(InnerDoc):
    filename = Keyword(ignore_above=1024)
    status = Keyword()
    additions = Long()
    deletions = Long()
    changes = Long()


class Commit(InnerDoc):
    """A commit's own facts; `files` (from the commit detail) only for matching commits."""

    sha = Keyword()
    author = Object(CommitPerson)
    committer = Object(CommitPerson)
    parents = Integer()
    stats = Object(CommitStats)
    files = Object(CommitFile, multi=True)


class Source(InnerDoc):
    spider = Keyword()
    run = Keyword()
    query = Keyword(ignore_above=512)


class Evidence(InnerDoc):
    """Where a post's archived copy lives (`evidence.warcstore.Capture`)."""

    warc = Keyword()
    record_id = Keyword()
    digest = Keyword()
    captured_at = Date()
    uri = Keyword(ignore_above=4096)


class Post(Document):
    """A post, comment, repo, issue, commit, article or statement. `_id` = `{platform}:{id}`."""

    timestamp = Date(required=True)  # stored as @timestamp, see Meta/`to_source`
    incident = Keyword()
    platform = Keyword()
    kind = Keyword()
    native_id = Keyword()
    url = Keyword(ignore_above=4096)
    #: The join key of `url` (`spreadwatch.urls.canonical_url`): one value per article.
    url_canonical = Keyword(ignore_above=4096)
    #: The platform's own address when `url` was resolved to the publisher's (Google News).
    via = Keyword(ignore_above=4096)
    author = Object(Author)
    title = Text(analyzer="standard")
    text = Text(analyzer="standard")
    # Snowball-stemmed copies for word forms on clusters without language analyzers
    # (computed by the writer, see indexer/stemming.py).
    title_stemmed = Text(analyzer="standard")
    text_stemmed = Text(analyzer="standard")
    lang = Keyword()
    hashtags = Keyword()
    mentions = Keyword()
    links = Keyword(ignore_above=4096)
    media = Keyword(ignore_above=4096)  # attached images and videos
    domain = Keyword()
    repo = Keyword()
    reply_to = Keyword()
    quote_of = Keyword()
    repost_of = Keyword()
    thread = Keyword()
    engagement = Object(Engagement)
    reach = Long()
    stance = Keyword()
    stance_confidence = Float()
    stance_source = Keyword()  # official, lexicon, model or human (set by hand)
    stance_cues = Keyword()
    stance_model = Keyword()
    #: The lexicon's label waits for the learned head (`indexer.stance_pending`); when it came.
    stance_pending = Boolean()
    stance_labelled_at = Date()
    matched = Object(Matched)
    claim_stances = Keyword()  # "<claim>:<stance>" per claim named (indexer/claims.py)
    fingerprint = Keyword()
    fingerprint_bands = Keyword()
    first_seen = Date()
    last_seen = Date()
    source = Object(Source)
    # Evidence: the archived copy, and what happened to the post since (docs/evidence.md).
    evidence = Object(Evidence)
    deleted_at = Date()
    deleted_how = Keyword()
    deleted_evidence = Object(Evidence)
    edited_at = Date()
    #: Earlier versions, oldest first: {text, title, seen_from, seen_until, evidence}.
    versions = Object(enabled=False)
    #: The rendered capture (screenshot and DOM records) of an official or evidence page.
    rendered = Object(enabled=False)
    #: Text or title was cut to the `text_max_chars` setting.
    truncated = Boolean()
    #: Published before the incident's window (kept only when the incident asks for history).
    before_window = Boolean()
    commit = Object(Commit)

    class Meta:
        dynamic = "false"


class Activity(Document):
    """A point in a time series: a GitHub star/fork/watch or an engagement snapshot."""

    timestamp = Date(required=True)
    incident = Keyword()
    platform = Keyword()
    event = Keyword()  # star, fork, watch, issue, comment, release, push, engagement, ...
    post_id = Keyword()
    repo = Keyword()
    actor = Keyword()
    engagement = Object(Engagement)
    source = Object(Source)
    before_window = Boolean()

    class Meta:
        dynamic = "false"


class Count(InnerDoc):
    key = Keyword()
    count = Long()


class Run(Document):
    """One crawl or alert job run: what it fetched, dropped, and how it ended."""

    timestamp = Date(required=True)  # start
    finished = Date()
    duration_s = Float()
    run_id = Keyword()
    job = Keyword()  # crawl, alerts, engagement, stream
    incident = Keyword()
    source = Keyword()
    status = Keyword()  # ok, failed, timeout, partial, refused
    finish_reason = Keyword()
    items_scraped = Long()
    items_indexed = Long()
    items_updated = Long()
    items_dropped = Long()
    items_spooled = Long()
    items_lost = Long()
    items_dead_lettered = Long()
    items_unchanged = Long()
    spool_replayed = Long()
    activity_written = Long()
    edited = Long()  # posts whose text changed (evidence)
    deleted = Long()  # posts newly found deleted
    evidence_captured = Long()  # WARC response records written
    evidence_bytes = Long()
    gave_up = Long()
    drops = Object(Count, multi=True)
    refusals = Object(Count, multi=True)
    rejected = Object(Count, multi=True)
    http_status = Object(Count, multi=True)
    requests = Long()
    not_modified = Long()
    errors = Text()
    error_count = Long()
    host = Keyword()

    class Meta:
        dynamic = "false"


class Alert(Document):
    """Every alert spreadwatch raised, with its delivery state, so restarts neither lose nor repeat."""

    timestamp = Date(required=True)
    incident = Keyword()
    rule = Keyword()
    rule_type = Keyword()
    key = Keyword()
    state = Keyword()  # pending, sent, failed, silenced, superseded
    subject = Text(fields={"keyword": Keyword(ignore_above=512)})
    summary = Text()
    recipients = Keyword()
    attempts = Integer()
    seq = Long()  # raise order within one run (alerts of a run share @timestamp)
    sent_at = Date()
    first_attempt_at = Date()  # the e-mail's Date header, kept for every retry and resend
    failed_recipients = Keyword()
    deliveries = Object(enabled=False)  # per recipient: state, attempts, code, error, at
    superseded_at = Date()
    last_error = Text()
    window_start = Date()
    window_end = Date()
    value = Float()
    details = Object(enabled=False)

    class Meta:
        dynamic = "false"


class MonitorJob(InnerDoc):
    id = Keyword()
    next_run = Date()
    schedule = Keyword(ignore_above=512)


class IncidentFileError(InnerDoc):
    file = Keyword(ignore_above=4096)
    incident = Keyword()
    error = Text()
    since = Date()
    running_last_good = Boolean()


class MonitorBeat(Document):
    """A running monitor's heartbeat (`kind: heartbeat`, one document per host and job store,
    rewritten every few seconds): what `spreadwatch status` reads to tell a live monitor from a
    stopped one. Other kinds of monitor document (a standby lease) share the index."""

    timestamp = Date(required=True)  # the last tick
    kind = Keyword()  # heartbeat
    monitor_id = Keyword()  # host:pid
    host = Keyword()
    pid = Long()
    version = Keyword()
    state = Keyword()  # running, stopped
    started = Date()
    stopped = Date()
    interval_s = Float()
    job_store = Keyword(ignore_above=1024)
    jobs = Object(MonitorJob, multi=True)
    incident_files = Integer()
    incident_errors = Object(IncidentFileError, multi=True)
    role = Keyword()  # active (holds the lease, runs the jobs) or standby
    # The standby lease (`kind: lease`, `_id` lease; see scheduler/lease.py).
    holder = Keyword()  # host:pid:token of the monitor running the jobs
    acquired = Date()
    expires = Date()  # for people: takeover is decided on the standby's own clock
    ttl_s = Float()

    class Meta:
        dynamic = "false"


class CrawlStateDoc(Document):
    """A source's incremental crawl state for one incident (`_id` `{incident}:{source}`),
    written with optimistic concurrency (`crawlers/state_es.py`). The state itself is stored,
    not indexed: its keys are URLs and ids, which must never become mapped fields."""

    timestamp = Date(required=True)  # the last commit
    incident = Keyword()
    source = Keyword()
    state = Object(enabled=False)

    class Meta:
        dynamic = "false"


DOCUMENTS: dict[str, type[Document]] = {
    "posts": Post,
    "activity": Activity,
    "runs": Run,
    "alerts": Alert,
    "monitors": MonitorBeat,
    "state": CrawlStateDoc,
}
