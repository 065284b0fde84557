"""The forum `pages` entries shipped in the founding case's incident file, on real forum markup.

The entries are taken from incidents/bytedance-intern-2024.yml unchanged and run by the real
pages spider against fixtures of V2EX's and LINUX DO's (Discourse) HTML as the sites serve it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from social_crawl import crawl, write_incident

from spreadwatch.replay import ReplayServer
from spreadwatch.replay.pages import PagesData, PagesReplay

ROOT = Path(__file__).resolve().parent.parent
FORUMS = Path(__file__).parent / "fixtures" / "forums"


def shipped_page(name: str) -> dict[str, Any]:
    incident = yaml.safe_load((ROOT / "incidents" / "bytedance-intern-2024.yml").read_text("utf-8"))
    return next(p for p in incident["sources"]["pages"]["pages"] if p["name"] == name)


@pytest.fixture
def forums() -> Iterator[ReplayServer]:
    pages = {
        "/?tab=tech": (FORUMS / "v2ex_tab_tech.html").read_text("utf-8"),
        "/t/1081234": (FORUMS / "v2ex_topic.html").read_text("utf-8"),
        "/latest": (FORUMS / "linuxdo_latest.html").read_text("utf-8"),
        "/t/topic/231456": (FORUMS / "linuxdo_topic.html").read_text("utf-8"),
    }
    with ReplayServer(PagesReplay(PagesData(pages=pages))) as server:
        yield server


def run(server: ReplayServer, tmp_path: Path, name: str) -> Any:
    incident = write_incident(tmp_path, {"pages": {"pages": [shipped_page(name)]}}, timezone="Asia/Shanghai")  # fmt: skip
    return crawl("pages", incident, tmp_path, SPREADWATCH_PAGES_BASE_URL=server.url)


def test_v2ex_topics_and_their_replies_are_read(forums: ReplayServer, tmp_path: Path) -> None:
    result = run(forums, tmp_path, "v2ex-tech")
    topics = [p for p in result.items if p.get("title")]
    replies = {p["native_id"]: p for p in result.items if p["native_id"].startswith("r_")}
    assert {t["title"] for t in topics} == {"字节跳动实习生给大模型训练投毒，8000 多张卡白跑了？", "Rust 1.82 发布了，有哪些值得关注的变化"}  # fmt: skip
    rumour = next(t for t in topics if "8000" in t["title"])
    assert rumour["author"]["handle"] == "gpu_rumor"
    assert rumour["timestamp"].startswith("2024-10-18 12:15:03")
    assert rumour["engagement"]["replies"] == 42
    assert set(replies) == {"r_15123401", "r_15123477"}
    assert replies["r_15123477"]["author"]["handle"] == "bytewatcher"
    assert replies["r_15123477"]["timestamp"].startswith("2024-10-19 04:40:02")
    assert "严重夸大" in replies["r_15123477"]["text"]


def test_linuxdo_topics_are_followed_from_the_list_and_read_post_by_post(forums: ReplayServer, tmp_path: Path) -> None:  # fmt: skip
    result = run(forums, tmp_path, "linuxdo-latest")
    by_author = {p["author"]["handle"]: p for p in result.items}
    assert set(by_author) == {"tech_news_bot", "llm_trainer"}
    assert by_author["tech_news_bot"]["timestamp"].startswith("2024-10-19 05:02:11")
    assert "8000 多卡" in by_author["tech_news_bot"]["text"]
    assert by_author["llm_trainer"]["platform"] == "linuxdo"
    assert forums.count(path=r"^/t/topic/231456$") == 1
    assert forums.count(path=r"^/t/topic/231470$") == 1  # the other listed topic (404 here)
