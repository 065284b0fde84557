"""A small, hand-built spread of the founding case whose every figure is known.

Used by the analytics, timeline and search tests: indexed with `helpers.bulk` into a test's
fresh indices. Times are UTC, Oct 2024. The truth the tests assert is written next to the data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch, helpers

from indexer.connection import IndexNames
from indexer.templates import delete_all, init

INCIDENT = "bytedance-intern-2024"
OTHER = "other-case"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 10, day, hour, minute, tzinfo=UTC)


# id, time, platform, kind, stance, author, reach, reposts, fingerprint, text
POSTS: list[tuple[str, datetime, str, str, str, str, int, int, str | None, str]] = [
    (
        "weibo:1",
        at(18, 2),
        "weibo",
        "post",
        "rumour",
        "w_alpha",
        1000,
        50,
        "fpA",
        "字节实习生篡改代码 破坏 8000 张 H100 训练",
    ),
    (
        "weibo:2",
        at(18, 2, 30),
        "weibo",
        "post",
        "rumour",
        "w_beta",
        500,
        10,
        "fpA",
        "字节实习生篡改代码 破坏 8000 张 H100 训练",
    ),
    (
        "reddit:3",
        at(18, 3, 10),
        "reddit",
        "post",
        "rumour",
        "r_gamma",
        200,
        0,
        "fpA",
        "ByteDance intern sabotaged 8,000 H100 GPUs, losses of tens of millions",
    ),
    (
        "github:4",
        at(18, 4),
        "github",
        "repo",
        "other",
        "JusticeFighter110",
        50,
        0,
        "fpB",
        "Recording of the confession",
    ),
    (
        "github:5",
        at(18, 5),
        "github",
        "issue",
        "debunk",
        "gh_delta",
        10,
        0,
        None,
        "This recording is fake, the voice was edited",
    ),
    (
        "weibo:6",
        at(18, 6),
        "weibo",
        "post",
        "rumour",
        "w_alpha",
        1000,
        30,
        "fpC",
        "据说损失上千万美元",
    ),
    (
        "weibo:7",
        at(19, 1),
        "weibo",
        "post",
        "rumour",
        "w_eps",
        300,
        5,
        "fpA",
        "字节实习生篡改代码 破坏 8000 张 H100 训练",
    ),
    (
        "toutiao:8",
        at(19, 6),
        "toutiao",
        "statement",
        "denial",
        "bytedance",
        20000,
        900,
        None,
        "关于实习生破坏模型训练的声明：网传8000张卡、损失千万美元等信息严重夸大",
    ),
    (
        "weibo:9",
        at(19, 6, 20),
        "weibo",
        "post",
        "rumour",
        "w_beta",
        500,
        0,
        "fpD",
        "还是有人说 8000 张卡被搞坏了",
    ),
    (
        "weibo:10",
        at(19, 6, 40),
        "weibo",
        "post",
        "rumour",
        "w_zeta",
        100,
        0,
        None,
        "8000卡 千万美元 太离谱",
    ),
    (
        "feeds:11",
        at(19, 7, 10),
        "feeds",
        "article",
        "report",
        "caixin",
        5000,
        0,
        None,
        "ByteDance says intern's sabotage did not affect commercial products",
    ),
    (
        "feeds:12",
        at(19, 7, 20),
        "feeds",
        "article",
        "report",
        "caixin",
        5000,
        0,
        None,
        "字节跳动回应实习生破坏大模型训练",
    ),
    (
        "feeds:13",
        at(19, 7, 30),
        "feeds",
        "article",
        "report",
        "scmp",
        5000,
        0,
        None,
        "ByteDance fires intern for sabotaging AI model training",
    ),
    (
        "weibo:17",
        at(19, 7, 50),
        "weibo",
        "post",
        "rumour",
        "w_beta",
        50,
        2,
        "fpD",
        "还是有人说 8000 张卡被搞坏了",
    ),
    ("weibo:18", at(19, 7, 55), "weibo", "post", "rumour", "w_theta", 50, 1, None, "千万美元损失"),
    (
        "feeds:14",
        at(19, 8, 10),
        "feeds",
        "article",
        "report",
        "heise",
        3000,
        0,
        None,
        "Bytedance: Praktikant sabotierte KI-Training",
    ),
    ("weibo:15", at(19, 8, 30), "weibo", "post", "rumour", "w_iota", 100, 0, None, "8000张H100"),
    (
        "mastodon:16",
        at(19, 10),
        "mastodon",
        "post",
        "debunk",
        "m_kappa",
        80,
        3,
        None,
        "The 8,000 GPU figure is exaggerated; ByteDance denies it",
    ),
]

#: Known truth about POSTS (interval 1h where it matters).
RUMOUR_REACH = 1000 + 500 + 200 + 1000 + 300 + 500 + 100 + 50 + 50 + 100
DENIAL_REACH = 20000
PLATFORM_ORDER = ["weibo", "reddit", "github", "toutiao", "feeds", "mastodon"]

# GitHub events on the confession repo: (time, event).
EVENTS: list[tuple[datetime, str]] = [
    (at(18, 4, 10), "star"),
    (at(18, 4, 20), "star"),
    (at(18, 4, 50), "star"),
    (at(18, 4, 30), "fork"),
    (at(18, 5, 5), "star"),
    (at(18, 5, 10), "fork"),
    (at(18, 5, 20), "fork"),
    (at(18, 5, 30), "watch"),
]


def post_doc(row: tuple[Any, ...], incident: str = INCIDENT) -> dict[str, Any]:
    pid, when, platform, kind, stance, author, reach, reposts, fingerprint, text = row
    doc: dict[str, Any] = {
        "@timestamp": when.isoformat(),
        "incident": [incident],
        "platform": platform,
        "kind": kind,
        "native_id": pid.split(":", 1)[1],
        "url": f"https://{platform}.example/{pid.split(':', 1)[1]}",
        "author": {"handle": author, "official": author == "bytedance"},
        "text": text,
        "lang": "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en",
        "stance": stance,
        "reach": reach,
        "matched": {"queries": ["zh-intern"]},  # every post of the case matched the incident
        "engagement": {"reposts": reposts},
        "repo": "JusticeFighter110/confession" if platform == "github" else None,
    }
    if fingerprint:
        doc["fingerprint"] = fingerprint
    return doc


def index_case(client: Elasticsearch, names: IndexNames) -> None:
    """Index POSTS and EVENTS, plus one unrelated post of another incident that must not count."""
    actions: list[dict[str, Any]] = [
        {"_index": names.posts, "_id": row[0], "_source": post_doc(row)} for row in POSTS
    ]
    stray = ("weibo:99", at(17, 23), "weibo", "post", "rumour", "w_alpha", 99999, 999, "fpA", "x")
    actions.append({"_index": names.posts, "_id": "weibo:99", "_source": post_doc(stray, OTHER)})
    for n, (when, event) in enumerate(EVENTS):
        actions.append(
            {
                "_index": names.activity,
                "_id": f"github:{event}:{n}",
                "_source": {
                    "@timestamp": when.isoformat(),
                    "incident": [INCIDENT],
                    "platform": "github",
                    "event": event,
                    "repo": "JusticeFighter110/confession",
                    "actor": f"user{n}",
                },
            }
        )
    helpers.bulk(client, actions, refresh="wait_for")


def indexed_case(client: Elasticsearch, prefix: str) -> Iterator[IndexNames]:
    """Fresh indices under `prefix` holding the case, for a module-scoped fixture; removed after."""
    names = IndexNames(f"{prefix}-{uuid.uuid4().hex[:6]}")
    init(client, names)
    try:
        index_case(client, names)
        yield names
    finally:
        delete_all(client, names)
