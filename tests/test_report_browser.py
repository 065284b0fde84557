"""The report in a real headless Chromium (Debian's `chromium` package), driven over CDP.

It must render with its charts laid out, run no script, log no console error and fetch nothing
(the page's CSP would log a violation as an error). A control page that does log an error proves
the harness would notice. Install: `apt-get install -y chromium fonts-noto-cjk`.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from spread_case import INCIDENT
from test_report import HOSTILE_TEXT, NOW, index_report_case
from websockets.sync.client import ClientConnection, connect

from indexer.connection import IndexNames
from spreadwatch.report import collect, write_report

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1200,900",
    "--remote-debugging-port=0",
]


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is required for this check: apt-get install -y chromium fonts-noto-cjk"
    return found


@dataclass
class Page:
    """One loaded page: what the console and the log said, and a way to ask the DOM."""

    socket: ClientConnection
    session: str
    problems: list[str] = field(default_factory=list)
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.counter)
        message = {"id": ident, "method": method, "params": params, "sessionId": self.session}
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=30))
            if reply.get("id") == ident:
                assert "error" not in reply, reply["error"]
                return reply.get("result", {})
            self._note(reply)

    def wait_for(self, event: str) -> None:
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            self._note(message)
            if message.get("method") == event:
                return

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in (
            "error",
            "warning",
            "assert",
        ):
            self.problems.append(f"console.{params['type']}: {params['args']}")
        elif method == "Runtime.exceptionThrown":
            self.problems.append(f"exception: {params['exceptionDetails']}")
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            self.problems.append(f"log: {params['entry']['text']}")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientConnection]:
    profile = tmp_path_factory.mktemp("chromium-profile")
    process = subprocess.Popen(
        [chromium_binary(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
        assert process.poll() is None, "Chromium exited at start"
        assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
        time.sleep(0.1)
    port, path = port_file.read_text().splitlines()[:2]
    with connect(f"ws://127.0.0.1:{port}{path}", max_size=None) as socket:
        yield socket
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def open_page(socket: ClientConnection, url: str) -> Page:
    socket.send(
        json.dumps({"id": 0, "method": "Target.createTarget", "params": {"url": "about:blank"}})
    )
    target = _reply(socket, 0)["targetId"]
    socket.send(
        json.dumps(
            {
                "id": 0,
                "method": "Target.attachToTarget",
                "params": {"targetId": target, "flatten": True},
            }
        )
    )
    page = Page(socket, _reply(socket, 0)["sessionId"])
    for domain in ("Page", "Runtime", "Log"):
        page.send(f"{domain}.enable")
    page.send("Page.navigate", url=url)
    page.wait_for("Page.loadEventFired")
    return page


def _reply(socket: ClientConnection, ident: int) -> dict[str, Any]:
    while True:
        message = json.loads(socket.recv(timeout=30))
        if message.get("id") == ident and "sessionId" not in message:
            assert "error" not in message, message["error"]
            return message["result"]


@pytest.fixture(scope="module")
def report_page(
    browser: ClientConnection,
    es_client: Elasticsearch,
    index_names_module: IndexNames,
    tmp_path_factory: pytest.TempPathFactory,
) -> Page:
    out = tmp_path_factory.mktemp("report") / "report.html"
    data = collect(es_client, index_names_module, INCIDENT, title="ByteDance intern", now=NOW)
    write_report(data, out)
    page = open_page(browser, out.as_uri())
    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    (out.parent / "report.png").write_bytes(base64.b64decode(shot["data"]))
    return page


@pytest.fixture(scope="module")
def index_names_module(es_client: Elasticsearch, es_settings: Any) -> Iterator[IndexNames]:
    from indexer.templates import delete_all, init

    names = IndexNames(f"{es_settings.index_prefix}-browser")
    init(es_client, names)
    index_report_case(es_client, names)
    yield names
    delete_all(es_client, names)


def test_the_report_renders_without_console_errors(report_page: Page) -> None:
    report_page.evaluate("document.title")
    assert report_page.problems == []


def test_every_chart_is_laid_out_with_a_real_size(report_page: Page) -> None:
    sizes = report_page.evaluate(
        "[...document.querySelectorAll('figure.chart svg')]"
        ".map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })"
    )
    assert len(sizes) == 4
    assert all(width > 600 and height > 150 for width, height in sizes), sizes


def test_no_script_runs_and_the_hostile_post_shows_as_text(report_page: Page) -> None:
    assert report_page.evaluate("document.scripts.length") == 0
    shown = report_page.evaluate("document.querySelector('#top-posts').innerText")
    assert HOSTILE_TEXT in shown


def test_the_page_fetched_nothing(report_page: Page) -> None:
    entries = report_page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert entries == []


def test_the_harness_notices_a_console_error(browser: ClientConnection, tmp_path: Path) -> None:
    control = tmp_path / "control.html"
    control.write_text("<!DOCTYPE html><title>c</title><script>console.error('boom')</script>")
    page = open_page(browser, control.as_uri())
    page.evaluate("1")
    assert any("boom" in problem for problem in page.problems)


# ---------------------------------------------------------------- the alert e-mail (#14)

EMAIL_ALERT = {
    "_id": "a-denial",
    "incident": "bytedance-intern-2024",
    "rule": "denial",
    "rule_type": "official_denial",
    "key": "denial",
    "subject": "Official denial: @bytedance_pr on Toutiao — ByteDance intern rumour",
    "summary": "@bytedance_pr on Toutiao at 2024-10-19 06:00 UTC.",
    "window_start": "2024-10-19T06:00:00+00:00",
    "window_end": "2024-10-19T12:00:00+00:00",
    "details": {
        "headline": "Official denial: @bytedance_pr on Toutiao",
        "incident_title": "ByteDance intern rumour",
        "numbers": [["published", "2024-10-19 06:00 UTC"]],
        "posts": [
            {"author": "bytedance_pr", "platform": "toutiao", "stance": "denial", "reach": 2507000,
             "claims": ["gpus-8000"], "text": "关于实习生破坏模型训练的声明 " + HOSTILE_TEXT,
             "url": "https://www.toutiao.com/article/1", "id": "toutiao:1",
             "source": "model", "confidence": 0.93},
        ],
        "story": {
            "platforms": [{"platform": "weibo", "at": "2024-10-17T22:10:00+00:00"},
                          {"platform": "toutiao", "at": "2024-10-19T06:00:00+00:00"}],
            "recent": {"hours": 3, "posts": 38, "day_posts": 76},
            "reach": {"rumour": 10_000_000, "denial": 1_200_000},
            "denial": {"at": "2024-10-19T06:00:00+00:00", "platform": "toutiao",
                       "author": "@bytedance_pr"},
        },
        "chart": {
            "interval": "3h",
            "series": [[f"2024-10-{17 + (h // 24):02d}T{h % 24:02d}:00:00+00:00",
                        {"rumour": (h * 7) % 11, "denial": 3 if h >= 33 else 0}]
                       for h in range(18, 60, 3)],
            "denial_at": "2024-10-19T06:00:00+00:00",
        },
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def email_page(browser: ClientConnection, tmp_path_factory: pytest.TempPathFactory) -> Page:
    """The HTML part as a mail client shows it: the inline chart resolved from its cid."""
    from alerts.render import render_message

    message = render_message(
        [EMAIL_ALERT], "sw@example.org", ["comms@example.org"], "http://kibana.local:5601",
        report_url="https://intra.example/reports",
    )  # fmt: skip
    html = message.get_body(preferencelist=("html",))
    [image] = [p for p in message.walk() if p.get_content_type() == "image/png"]
    inline = "data:image/png;base64," + base64.b64encode(image.get_content()).decode()
    page_file = tmp_path_factory.mktemp("email") / "email.html"
    page_file.write_text(html.get_content().replace("cid:timeline", inline), encoding="utf-8")
    page = open_page(browser, page_file.as_uri())
    shot = page.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    (page_file.parent / "email.png").write_bytes(base64.b64decode(shot["data"]))
    return page


def test_the_email_renders_with_its_chart_and_no_console_error(email_page: Page) -> None:
    size = email_page.evaluate(
        "(() => { const i = document.querySelector('img'); "
        "return [i.complete, i.naturalWidth, i.getBoundingClientRect().width]; })()"
    )
    assert size[0] is True and size[1] >= 600 and size[2] > 300, size
    assert email_page.problems == []


def test_the_email_says_what_happened_first(email_page: Page) -> None:
    sentence = email_page.evaluate("document.querySelector('.what-happened').innerText")
    assert sentence == (
        "@bytedance_pr denied the rumour on Toutiao 19 Oct 06:00 UTC, 1 d 7 h after it started "
        "on Weibo; 38 posts in the last 3 h, 4.0× the day's rate; the official denial has 12% "
        "of the rumour's reach so far."
    )
    body = email_page.evaluate("document.body.innerText")
    assert "denies the rumour (labelled by the model, 93% sure) · claims: gpus-8000" in body
    assert "reach 2.5M" in body and "A label wrong? Set it by hand" in body
    assert HOSTILE_TEXT in body and email_page.evaluate("document.scripts.length") == 0
    links = email_page.evaluate("[...document.querySelectorAll('a')].map(a => a.textContent)")
    assert {"Full report", "Kibana dashboard", "Discover"} <= set(links)
