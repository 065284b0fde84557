"""A README re-checked unchanged is not an edit, whatever case the stored repo name is in."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from crawlers.items import Author
from crawlers.parsers.github import readme_post
from crawlers.recheck.github import judge
from crawlers.recheck.model import Reply, Target
from indexer.merge import is_edit

REPO = "JusticeFighter110/ByteDance-Intern-Truth"


def _readme() -> dict[str, str]:
    return {
        "type": "file",
        "encoding": "base64",
        "path": "README.md",
        "content": base64.encodebytes("# 录音\n\n8000+ H100 GPUs".encode()).decode("ascii"),
        "html_url": f"https://github.com/{REPO}/blob/main/README.md",
    }


def test_a_readme_rechecked_by_its_case_folded_id_is_not_an_edit() -> None:
    crawled = readme_post(_readme(), REPO, Author(handle="JusticeFighter110"))
    key = REPO.lower()  # what the posts index holds: ids and `repo` are case-folded
    target = Target("github", f"{key}:readme", "article", repo=key)
    reply = Reply(
        200, json.dumps(_readme()).encode(), received_at=datetime(2024, 10, 20, tzinfo=UTC)
    )
    verdict = judge(target, reply)
    assert verdict.post is not None
    assert verdict.post.title == crawled.title == f"README of {REPO}"
    stored = {"text": crawled.text, "title": crawled.title}
    assert not is_edit(stored, {"text": verdict.post.text, "title": verdict.post.title})


def test_a_readme_without_its_address_keeps_the_name_it_was_asked_for() -> None:
    readme = {k: v for k, v in _readme().items() if k != "html_url"}
    assert readme_post(readme, REPO, Author()).title == f"README of {REPO}"
