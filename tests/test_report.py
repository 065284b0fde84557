"""The HTML report of the founding case, on indexed data whose truth is known.

The founding-case spread (`spread_case`) plus one hostile post — a `<script>` in its text, markup
in its author handle and a `javascript:` URL — must come out as one self-contained page that tells
the story right (time to denial, platform order, phases, amplifiers, GitHub activity, clusters)
and shows the hostile post as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch, helpers
from spread_case import INCIDENT, OTHER, PLATFORM_ORDER, POSTS, at, index_case, post_doc

from indexer.connection import IndexNames
from indexer.templates import delete_all, init
from spreadwatch.cli import cli
from spreadwatch.names import platform_colours, platform_label
from spreadwatch.report import collect, render_html, write_report
from spreadwatch.report.render import fmt_delta, number
from spreadwatch.settings import Settings

NOW = datetime(2024, 11, 1, 12, 0, tzinfo=UTC)
HOSTILE_TEXT = "<script>alert(1)</script> 8000 H100 真的吗"
HOSTILE_AUTHOR = "<b>evil</b>@admin\u202emoc.elgoog\x1b[2J"
#: What a reader must see instead: the override and the escape shown, not obeyed.
SHOWN_AUTHOR = "<b>evil</b>@admin\\u202emoc.elgoog\\x1b[2J"


#: Claims some posts of the case make (the official statement answers the first).
CLAIMED = {"weibo:1": ["gpus-8000"], "reddit:3": ["gpus-8000"], "toutiao:8": ["gpus-8000"],
           "weibo:2": ["losses"]}  # fmt: skip


def index_report_case(client: Elasticsearch, names: IndexNames) -> None:
    """The founding case plus a hostile rumour post at 19 Oct 09:00 (in the decay phase)."""
    index_case(client, names)
    for doc_id, claims in CLAIMED.items():
        client.update(index=names.posts, id=doc_id, doc={"matched": {"claims": claims}})
    row = (
        "weibo:66",
        at(19, 9),
        "weibo",
        "post",
        "rumour",
        HOSTILE_AUTHOR,
        10,
        0,
        None,
        HOSTILE_TEXT,
    )
    hostile = post_doc(row)
    hostile["url"] = "javascript:alert(1)"
    helpers.bulk(
        client, [{"_index": names.posts, "_id": row[0], "_source": hostile}], refresh="wait_for"
    )


@pytest.fixture(scope="module")
def case(es_client: Elasticsearch, es_settings: Settings) -> Iterator[IndexNames]:
    names = IndexNames(f"{es_settings.index_prefix}-report")
    init(es_client, names)
    index_report_case(es_client, names)
    yield names
    delete_all(es_client, names)


@pytest.fixture(scope="module")
def html(es_client: Elasticsearch, case: IndexNames) -> str:
    data = collect(es_client, case, INCIDENT, title="ByteDance <intern> rumour", now=NOW)
    return render_html(data)


@pytest.fixture(scope="module")
def page(html: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(html)


def texts(page: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in page.xpath(xpath)]


def test_the_page_loads_nothing_from_anywhere(page: lxml.html.HtmlElement) -> None:
    assert page.xpath("//script") == []
    assert page.xpath("//link") == []
    assert page.xpath("//iframe|//object|//embed") == []
    sources = page.xpath("//@src")
    assert all(s.startswith("data:") for s in sources)
    assert not [s for s in page.xpath("//style/text()") if "url(" in s or "@import" in s]


def test_a_content_security_policy_forbids_scripts_and_fetches(page: lxml.html.HtmlElement) -> None:
    (policy,) = page.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert policy.startswith("default-src 'none'")
    assert "script-src" not in policy


def test_post_text_and_handles_are_escaped(html: str, page: lxml.html.HtmlElement) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert HOSTILE_TEXT in texts(page, "//section[@id='top-posts']//td[@class='post']")
    assert SHOWN_AUTHOR in texts(page, "//section[@id='top-posts']//td")
    assert page.xpath("//b[text()='evil']") == []


def test_bidi_overrides_and_escapes_in_names_are_shown_not_obeyed(
    html: str, page: lxml.html.HtmlElement
) -> None:
    assert "\u202e" not in html and "\x1b" not in html
    isolated = texts(page, "//section[@id='top-posts']//td/bdi")
    assert SHOWN_AUTHOR in isolated


def test_only_web_links_are_rendered(page: lxml.html.HtmlElement) -> None:
    hrefs = page.xpath("//a/@href")
    assert hrefs
    assert all(h.startswith(("https://", "http://")) for h in hrefs)


def test_the_title_is_escaped_too(html: str) -> None:
    assert "<title>ByteDance &lt;intern&gt; rumour — spreadwatch report</title>" in html


def test_time_to_denial_runs_from_the_first_rumour_to_the_official_denial(
    page: lxml.html.HtmlElement,
) -> None:
    # weibo:1 at 18 Oct 02:00 → toutiao:8 (bytedance) at 19 Oct 06:00.
    tiles = dict(
        zip(
            texts(
                page,
                "//section[@id='measures']//div[@class='tile' or contains(@class,'tile ')]/span",
            ),
            texts(page, "//section[@id='measures']//div[contains(@class,'tile')]/b"),
            strict=True,
        )
    )
    assert tiles["Time to denial"] == "1 d 4 h 0 min"
    assert tiles["Posts"] == str(len(POSTS) + 1)
    assert tiles["Platforms"] == str(len(PLATFORM_ORDER))


def test_platform_order_is_the_order_platforms_picked_it_up(page: lxml.html.HtmlElement) -> None:
    labels = [platform_label(p) for p in PLATFORM_ORDER]  # "Hacker News", "V2EX", not ids
    assert texts(page, "//section[@id='platforms']//ol/li/b") == labels


def test_phases_are_listed_in_order_with_the_denial(page: lxml.html.HtmlElement) -> None:
    rows = page.xpath("//section[@id='phases']//tbody/tr")
    names = [" ".join(r.xpath("td")[0].text_content().split()) for r in rows]
    assert names == ["rumour", "evidence", "denial", "coverage", "decay"]
    denial = rows[2].xpath("td")
    assert denial[1].text_content() == "2024-10-19 06:00 UTC"
    assert "toutiao · bytedance" in denial[4].text_content()


@pytest.mark.parametrize("chart", ["stance", "platform", "cumulative", "github"])
def test_each_chart_is_an_inline_svg(page: lxml.html.HtmlElement, chart: str) -> None:
    (figure,) = page.xpath(f"//figure[@id='chart-{chart}']")
    svgs = figure.xpath(".//*[local-name()='svg']")
    assert len(svgs) == 1
    assert svgs[0].get("role") == "img"
    assert len(svgs[0].xpath(".//*[local-name()='path']")) > 10


def test_the_timeline_marks_the_official_denial(page: lxml.html.HtmlElement) -> None:
    (figure,) = page.xpath("//figure[@id='chart-stance']")
    labels = [t.text_content().strip() for t in figure.xpath(".//*[local-name()='text']")]
    assert "official denial 19 Oct 06:00" in labels
    assert {"rumour", "evidence", "coverage", "decay"} <= set(labels)
    assert "2024-10-19 06:00 UTC" in figure.xpath("./figcaption")[0].text_content()


def test_the_denial_phase_leads_with_the_statement(page: lxml.html.HtmlElement) -> None:
    headings = texts(page, "//section[@id='top-posts']/h3")
    assert headings[2].startswith("Denial")
    first = page.xpath("//section[@id='top-posts']/table")[2].xpath(".//tbody/tr")[0]
    cells = [c.text_content().strip() for c in first.xpath("td")]
    assert cells[1:5] == ["Toutiao", "bytedance", "denial", "20.0k"]


def test_amplifiers_are_ranked_by_reach(page: lxml.html.HtmlElement) -> None:
    rows = page.xpath("//section[@id='amplifiers']//tbody/tr")
    first = [c.text_content() for c in rows[0].xpath("td")]
    assert first == ["bytedance", "Toutiao", "1", "20.0k", "900"]
    # Each account's reach counted once (its widest post): the order follows that truth.
    widest: dict[str, int] = {}
    for row in POSTS:
        widest[row[5]] = max(widest.get(row[5], 0), row[6])
    expected = sorted(widest, key=lambda a: (-widest[a], a))[: len(rows)]
    assert [r.xpath("td")[0].text_content() for r in rows] == expected


def test_github_activity_is_a_chart_with_a_per_repository_table(
    page: lxml.html.HtmlElement,
) -> None:
    assert page.xpath("//section[@id='github']//figure/*[local-name()='svg']")
    rows = [
        [c.text_content() for c in r.xpath("td")]
        for r in page.xpath("//section[@id='github']//tbody/tr")
    ]
    # Stars 3 + 1 and forks 1 + 2 from the activity events; the issue is github:5 — no hourly rows.
    assert rows == [["JusticeFighter110/confession", "4", "3", "1"]]


def test_near_duplicate_clusters_count_accounts(page: lxml.html.HtmlElement) -> None:
    rows = page.xpath("//section[@id='clusters']//tbody/tr")
    # fpA: weibo:1 (w_alpha), weibo:2 (w_beta), reddit:3 (r_gamma), weibo:7 (w_eps).
    cells = [c.text_content() for c in rows[0].xpath("td")]
    assert (len(rows), cells[0], cells[1], cells[2]) == (1, "4", "4", "2024-10-18 02:00 UTC")


def test_the_same_data_renders_the_same_page(
    es_client: Elasticsearch, case: IndexNames, html: str
) -> None:
    again = collect(es_client, case, INCIDENT, title="ByteDance <intern> rumour", now=NOW)
    assert render_html(again) == html


@pytest.mark.parametrize(
    ("stored", "utc"),
    [
        ("2024-10-19T14:05:00+08:00", "2024-10-19 06:05"),
        ("2024-10-18T23:30:00-05:00", "2024-10-19 04:30"),
    ],
)
def test_times_are_shown_in_utc_whatever_offset_a_post_was_stored_with(
    es_client: Elasticsearch, index_names: IndexNames, stored: str, utc: str
) -> None:
    doc = post_doc(("weibo:1", at(19, 0), "weibo", "post", "rumour", "u", 1, 0, None, "t"))
    helpers.bulk(
        es_client,
        [{"_index": index_names.posts, "_id": "weibo:1", "_source": doc | {"@timestamp": stored}}],
        refresh="wait_for",
    )
    page = lxml.html.fromstring(render_html(collect(es_client, index_names, INCIDENT, now=NOW)))
    assert f"posts from {utc} UTC to {utc} UTC" in texts(page, "//header/p[@class='meta']")[0]
    assert texts(page, "//section[@id='platforms']//li") == [
        f"Weibo — first post {utc} UTC by u: t link"
    ]


def test_an_incident_without_posts_says_so(es_client: Elasticsearch, case: IndexNames) -> None:
    page = lxml.html.fromstring(render_html(collect(es_client, case, "nothing-here", now=NOW)))
    assert "No posts are indexed for this incident yet" in page.text_content()
    assert page.xpath("//*[local-name()='svg']") == []


@pytest.mark.parametrize("name", ["report.txt", "report", "report.pdf"])
def test_the_report_must_be_an_html_file(
    es_client: Elasticsearch, case: IndexNames, tmp_path: Path, name: str
) -> None:
    data = collect(es_client, case, "nothing-here", now=NOW)
    with pytest.raises(ValueError, match=r"\*\.html"):
        write_report(data, tmp_path / name)


def cli_env(case: IndexNames, es_settings: Settings) -> dict[str, str]:
    return {
        "SPREADWATCH_INDEX_PREFIX": case.prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
        "SPREADWATCH_ES_URL": es_settings.es_url or "",
    }


def test_cli_writes_the_report_for_an_incident_id(
    case: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()  # a missing folder is an error (tests/test_sane_config.py)
    args = ["report", INCIDENT, "--out", str(out), "--incidents-dir", str(tmp_path)]
    result = CliRunner().invoke(cli, args, env=cli_env(case, es_settings))
    assert result.exit_code == 0, result.output
    assert f"({len(POSTS) + 1} posts of {INCIDENT})" in result.output
    page = lxml.html.fromstring(out.read_text(encoding="utf-8"))
    assert texts(page, "//h1") == [INCIDENT]


def test_cli_takes_the_title_from_the_incident_file(
    case: IndexNames, es_settings: Settings, tmp_path: Path
) -> None:
    incident = tmp_path / "case.yml"
    incident.write_text(
        f"id: {INCIDENT}\ntitle: GPU sabotage\nwindow: {{start: 2024-10-17T00:00:00Z}}\n"
        "queries: [{name: q, any: [ByteDance]}]\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.html"
    args = ["report", str(incident), "--out", str(out)]
    result = CliRunner().invoke(cli, args, env=cli_env(case, es_settings))
    assert result.exit_code == 0, result.output
    assert texts(lxml.html.fromstring(out.read_text(encoding="utf-8")), "//h1") == ["GPU sabotage"]


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_cli_writes_a_title_holding_surrogates_as_its_character_and_an_escape(
    case: IndexNames, es_settings: Settings, tmp_path: Path, fmt: str
) -> None:
    """A JSON-style escaped emoji in the YAML title is two surrogate code points (PyYAML does
    not join them), a lone one cannot be written as UTF-8 at all: the report failed on both."""
    incident = tmp_path / "case.yml"
    incident.write_text(
        f'id: {INCIDENT}\ntitle: "GPU \\ud83d\\udd25 sabotage \\udc00"\n'
        "window: {start: 2024-10-17T00:00:00Z}\nqueries: [{name: q, any: [ByteDance]}]\n",
        encoding="utf-8",
    )
    out = tmp_path / f"r.{fmt}"
    args = ["report", str(incident), "--format", fmt, "--out", str(out)]
    result = CliRunner().invoke(cli, args, env=cli_env(case, es_settings))
    assert result.exit_code == 0, result.output
    if fmt == "html":
        heading = texts(lxml.html.fromstring(out.read_text(encoding="utf-8")), "//h1")
        assert heading == ["GPU \U0001f525 sabotage \\udc00"]
    else:
        first_page = pdfium.PdfDocument(str(out))[0].get_textpage().get_text_range()
        assert "GPU" in first_page and "sabotage \\udc00" in first_page


def test_cli_refuses_a_report_name_that_is_not_html(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", INCIDENT, "--out", str(tmp_path / "r.txt")])
    assert result.exit_code == 2
    assert "must end in .html" in result.output


def _side_truth(side: str) -> list[tuple[str, int, str]]:
    """(id, reach, share) of the side's five widest posts, from the case's rows themselves."""
    rows = [(r[0], r[6]) for r in POSTS if r[4] == side and r[6] > 0]
    if side == "rumour":
        rows.append(("weibo:66", 10))  # the hostile post index_report_case adds
    total = sum(reach for _, reach in rows)
    widest = sorted(rows, key=lambda row: -row[1])[:5]
    return [(pid, reach, f"{reach / total * 100:.1f}%") for pid, reach in widest]


def test_the_posts_that_decide_the_reach_ratio_are_each_sides_widest_with_their_share(
    page: lxml.html.HtmlElement,
) -> None:
    rows = page.xpath("//section[@id='reach-deciders']//tbody/tr")
    shown = [
        (*(" ".join(c.text_content().split()) for c in row.xpath("td")[:3]), row.xpath(".//code[@class='id']")[0].text)
        for row in rows
    ]  # fmt: skip
    expected = [
        (side, share, number(reach), pid)
        for side in ("rumour", "denial")
        for pid, reach, share in _side_truth(side)
    ]
    assert shown == expected


def test_the_reach_deciders_say_how_each_label_was_decided(
    es_client: Elasticsearch, case: IndexNames
) -> None:
    es_client.update(index=case.posts, id="weibo:1", doc={"stance_source": "model",
                     "stance_confidence": 0.61}, refresh=True)  # fmt: skip
    try:
        data = collect(es_client, case, INCIDENT, now=NOW)
    finally:
        es_client.update(index=case.posts, id="weibo:1", doc={"stance_source": None,
                         "stance_confidence": None}, refresh=True)  # fmt: skip
    page = lxml.html.fromstring(render_html(data))
    row = page.xpath("//section[@id='reach-deciders']//tbody/tr[.//code[@class='id']='weibo:1']")[0]
    assert row.xpath("td")[3].text_content() == "labelled by the model, 61% sure"
    assert (
        "spreadwatch stance set bytedance-intern-2024 ID LABEL"
        in page.xpath("//section[@id='reach-deciders']")[0].text_content()
    )


def test_without_reach_figures_there_is_no_reach_deciders_section(
    es_client: Elasticsearch, case: IndexNames
) -> None:
    data = collect(es_client, case, INCIDENT, now=NOW)
    page = lxml.html.fromstring(render_html(replace(data, deciders={})))
    assert page.xpath("//section[@id='reach-deciders']") == []


def test_amplifiers_without_reach_figures_say_so(
    es_client: Elasticsearch, case: IndexNames
) -> None:
    data = collect(es_client, case, INCIDENT, now=NOW)
    zero = [replace(a, reach=0) for a in data.amplifiers]
    page = lxml.html.fromstring(render_html(replace(data, amplifiers=zero)))
    section = page.xpath("//section[@id='amplifiers']")[0].text_content()
    assert "No reach figures were collected" in section


def test_amplifiers_with_reach_figures_have_no_such_note(page: lxml.html.HtmlElement) -> None:
    assert "No reach figures" not in page.xpath("//section[@id='amplifiers']")[0].text_content()


def test_an_incident_without_a_denial_says_so(es_client: Elasticsearch, case: IndexNames) -> None:
    # spread_case indexes one stray weibo rumour under OTHER: no denial, no GitHub activity.
    page = lxml.html.fromstring(render_html(collect(es_client, case, OTHER, now=NOW)))
    assert "No official denial is indexed" in page.text_content()
    tiles = texts(page, "//section[@id='measures']//div[contains(@class,'tile')]/b")
    onset = datetime(2024, 10, 17, 23, 0, tzinfo=UTC)  # the stray post
    assert tiles[2] == f"none yet ({fmt_delta(NOW - onset)} since onset)"
    charts = [f.get("id") for f in page.xpath("//figure[@class='chart']")]
    assert charts == ["chart-stance", "chart-cumulative", "chart-platform"]
    assert "No GitHub activity indexed" in page.xpath("//section[@id='github']")[0].text_content()


def test_cli_renders_years_of_star_history(
    es_client: Elasticsearch, es_settings: Settings, tmp_path: Path
) -> None:
    """An hourly histogram over 2011-2024 stars would need ~120,000 buckets (the report used to
    exit 1 with too_many_buckets_exception); the curve's interval follows the span instead."""
    names = IndexNames(f"{es_settings.index_prefix}-report-years")
    init(es_client, names)
    try:
        index_case(es_client, names)
        first = datetime(2011, 3, 1, 12, tzinfo=UTC)
        stars = [
            {
                "_index": names.activity,
                "_id": f"github:star:old{n}",
                "_source": {
                    "@timestamp": (first + timedelta(days=9 * n)).isoformat(),
                    "incident": [INCIDENT],
                    "platform": "github",
                    "event": "star",
                    "repo": "justicefighter110/confession",
                },
            }
            for n in range(500)
        ]
        helpers.bulk(es_client, stars, refresh="wait_for")
        out = tmp_path / "years.html"
        args = ["report", INCIDENT, "--out", str(out), "--incidents-dir", str(tmp_path)]
        result = CliRunner().invoke(cli, args, env=cli_env(names, es_settings))
    finally:
        delete_all(es_client, names)
    assert result.exit_code == 0, result.output
    page = lxml.html.fromstring(out.read_text(encoding="utf-8"))
    caption = texts(page, "//section[@id='github']//figcaption")[0]
    assert "per 90d" in caption
    rows = page.xpath("//section[@id='github']//tbody/tr")
    assert sum(int(r.xpath("td")[1].text_content()) for r in rows) == 500 + 4


def test_the_report_opens_with_an_executive_summary(page: lxml.html.HtmlElement) -> None:
    text = " ".join(page.xpath("//section[@id='summary']")[0].text_content().split())
    assert text.startswith(
        f"The rumour started on Weibo on 18 Oct 02:00 UTC and reached {len(PLATFORM_ORDER)} "
        f"platforms ({len(POSTS) + 1} posts). @bytedance denied it on Toutiao 19 Oct 06:00 UTC, "
        "1 d 4 h later."
    )
    assert (
        'The claim heard most, "gpus-8000" (3 posts), is answered by the denial; 1 claim is not.'
        in text
    )


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ([("weibo:1", at(18, 2), "weibo", "post", "rumour", "a", 10, 0, None, "r")],
         "reached 1 platform (1 post)."),
        ([("weibo:1", at(18, 2), "weibo", "post", "rumour", "a", 10, 0, None, "r"),
          ("weibo:2", at(18, 3), "weibo", "post", "rumour", "b", 10, 0, None, "r"),
          ("toutiao:3", at(19, 6), "toutiao", "post", "denial", "bytedance", 10, 0, None, "no")],
         'The claim heard most, "gpus-8000" (1 post), is not answered'),
    ],
    ids=["one-post", "one-claim-post"],
)  # fmt: skip
def test_the_summary_counts_one_post_in_the_singular(
    es_client: Elasticsearch, index_names: IndexNames, rows: list[tuple], said: str
) -> None:
    docs = [post_doc(row) for row in rows]
    docs[0]["matched"]["claims"] = ["gpus-8000"]
    helpers.bulk(
        es_client,
        [
            {"_index": index_names.posts, "_id": r[0], "_source": d}
            for r, d in zip(rows, docs, strict=True)
        ],
        refresh="wait_for",
    )
    page = lxml.html.fromstring(render_html(collect(es_client, index_names, INCIDENT, now=NOW)))
    assert said in " ".join(page.xpath("//section[@id='summary']")[0].text_content().split())


def test_languages_are_counted(page: lxml.html.HtmlElement) -> None:
    rows = {
        r.xpath("td")[0].text_content(): r.xpath("td")[1].text_content()
        for r in page.xpath("//section[@id='languages']//tbody/tr")
    }
    chinese = sum(1 for row in POSTS if any("\u4e00" <= ch <= "\u9fff" for ch in row[9])) + 1
    assert rows == {"zh": str(chinese), "en": str(len(POSTS) + 1 - chinese)}


def test_every_platform_gets_its_own_colour() -> None:
    colours = platform_colours(["weibo", "toutiao", "v2ex", "linuxdo", "myforum", "otherforum"])
    assert len(set(colours.values())) == len(colours)


def test_phase_labels_do_not_overlap(es_client: Elasticsearch, case: IndexNames) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from indexer.phases import phases
    from spreadwatch.report.charts import _mark_denial, _mark_phases

    found = phases(es_client, case, INCIDENT)
    figure = Figure(figsize=(10, 3.2))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    # Over a fortnight, phases an hour apart sit on nearly the same spot.
    axes.set_xlim(_num(found.span.start), _num(found.span.start + timedelta(days=14)))
    _mark_phases(axes, found)
    _mark_denial(axes, found)
    renderer = figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in axes.texts]
    assert len(boxes) >= 4
    for i, first in enumerate(boxes):
        for second in boxes[i + 1 :]:
            assert not first.overlaps(second), (first, second)


def _num(when: datetime) -> float:
    import matplotlib.dates as mdates

    return float(mdates.date2num(when))
