"""`spreadwatch search`, `timeline` and `reclassify` on indexed data whose truth is known."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch, helpers
from spread_case import INCIDENT, POSTS, at, indexed_case, post_doc

from indexer.connection import IndexNames
from indexer.search import COLUMNS, QuerySyntaxError, SearchRequest, parse_when, search_posts
from spreadwatch.cli import cli
from spreadwatch.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def case(es_client: Elasticsearch, es_settings: Settings) -> Iterator[IndexNames]:
    yield from indexed_case(es_client, es_settings.index_prefix)


def env_for(names: IndexNames, es_settings: Settings) -> dict[str, str]:
    return {
        "SPREADWATCH_INDEX_PREFIX": names.prefix,
        "SPREADWATCH_DATA_DIR": str(es_settings.data_dir),
        "SPREADWATCH_ES_URL": es_settings.es_url or "",
    }


def run(names: IndexNames, es_settings: Settings, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env_for(names, es_settings))


def ids(es_client, names, **fields) -> list[str]:  # type: ignore[no-untyped-def]
    result = search_posts(es_client, names, SearchRequest(**{"incident": INCIDENT, **fields}))
    return [row.id for row in result.rows]


# ---------------------------------------------------------------- times


NOW = datetime(2024, 10, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-10-18", datetime(2024, 10, 18, tzinfo=UTC)),
        ("2024-10-18T12:00Z", datetime(2024, 10, 18, 12, tzinfo=UTC)),
        ("2024-10-18T14:00+02:00", datetime(2024, 10, 18, 12, tzinfo=UTC)),
        ("3d", NOW - timedelta(days=3)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
    ],
)
def test_times_are_dates_datetimes_or_ages(text, expected):
    assert parse_when(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "18.10.2024", "3 days", "-3d"])
def test_an_unreadable_time_is_a_clear_error(text):
    with pytest.raises(ValueError, match="use a date"):
        parse_when(text, now=NOW)


@pytest.mark.parametrize("text", ["99999999d", "9999999999999w", "500000000h"])
def test_an_age_too_long_to_be_a_date_is_a_clear_error(text):
    with pytest.raises(ValueError, match="longer than 1,000 years"):
        parse_when(text, now=NOW)


# ---------------------------------------------------------------- the library


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ByteDance", {"reddit:3", "feeds:11", "feeds:13", "feeds:14", "mastodon:16"}),
        ("ByteDance intern", {"reddit:3", "feeds:13"}),
        ('"ByteDance fires"', {"feeds:13"}),
        ("author.handle:caixin", {"feeds:11", "feeds:12"}),
        ("recording OR Praktikant", {"github:4", "github:5", "feeds:14"}),
        ("stance:debunk", {"github:5", "mastodon:16"}),
    ],
)
def test_query_string_syntax_runs_over_text_title_and_author(es_client, case, query, expected):
    assert set(ids(es_client, case, query=query, limit=50)) == expected


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"platform": ["feeds"]}, {"feeds:11", "feeds:13", "feeds:14"}),
        ({"stance": ["debunk"]}, {"mastodon:16"}),
        ({"stance": ["report", "debunk"]}, {"feeds:11", "feeds:13", "feeds:14", "mastodon:16"}),
        ({"since": at(19, 8)}, {"feeds:14", "mastodon:16"}),
        ({"until": at(19, 0)}, {"reddit:3"}),
    ],
)
def test_filters_narrow_the_matches(es_client, case, filters, expected):
    assert set(ids(es_client, case, query="ByteDance", **filters)) == expected


def test_a_time_window_includes_its_start_and_excludes_its_end(es_client, case):
    found = ids(es_client, case, query="*", since=at(19, 7), until=at(19, 8), sort="oldest")
    assert found == ["feeds:11", "feeds:12", "feeds:13", "weibo:17", "weibo:18"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("oldest", ["weibo:1", "weibo:2", "reddit:3"]),
        ("newest", ["mastodon:16", "weibo:15", "feeds:14"]),
        ("reach", ["toutiao:8", "feeds:13", "feeds:12"]),
    ],
)
def test_sort_orders_by_time_or_reach(es_client, case, sort, expected):
    assert ids(es_client, case, query="*", sort=sort, limit=3) == expected


#: Posts tying on reach, several also on time: only platform and native id tell them apart.
TIES = [
    (f"{platform}:{native}", at(19, hour), platform, "post", "rumour", "u", reach, 0, None, "t")
    for platform, native, hour, reach in [
        ("weibo", "b", 9, 500), ("reddit", "z", 9, 500), ("weibo", "a", 9, 500),
        ("mastodon", "m", 8, 500), ("reddit", "c", 9, 500), ("feeds", "q", 9, 70),
        ("feeds", "p", 9, 70), ("github", "x", 7, 500),
    ]
]  # fmt: skip


@pytest.mark.parametrize(
    "indexed_order",
    [TIES, TIES[::-1], TIES[3:] + TIES[:3]],
    ids=["as-listed", "reversed", "rotated"],
)
def test_posts_tying_on_reach_come_in_one_order_whatever_order_they_were_indexed_in(
    es_client, index_names, indexed_order
):
    """Reach, then newest first, then platform and native id (as the time sorts end)."""
    helpers.bulk(
        es_client,
        [{"_index": index_names.posts, "_id": r[0], "_source": post_doc(r)} for r in indexed_order],
        refresh="wait_for",
    )
    expected = [r[0] for r in sorted(TIES, key=lambda r: (-r[6], -r[1].timestamp(), r[2], r[0]))]
    assert ids(es_client, index_names, query="*", sort="reach", limit=50) == expected


def test_the_total_counts_every_match_beyond_the_limit(es_client, case):
    result = search_posts(es_client, case, SearchRequest(query="*", incident=INCIDENT, limit=2))
    assert (result.total, len(result.rows)) == (len(POSTS), 2)


def test_without_an_incident_filter_every_incident_is_searched(es_client, case):
    result = search_posts(es_client, case, SearchRequest(query="*", limit=1))
    assert result.total == len(POSTS) + 1


def test_an_unparsable_query_names_the_column_where_parsing_stopped(es_client, case):
    with pytest.raises(QuerySyntaxError) as raised:
        search_posts(es_client, case, SearchRequest(query="text:(8000 AND"))
    assert raised.value.column == 14


@pytest.mark.parametrize(
    ("query", "field", "column", "suggested"),
    [
        ("platfrom:reddit", "platfrom", 1, "'platform'"),
        ("ByteDance AND autor.handle:caixin", "autor.handle", 15, "'author.handle'"),
        ("author:caixin", "author", 1, "'author."),  # an object, not a field
        ("likes:>10", "likes", 1, "'engagement.likes'"),
        ("ByteDance OR reech:>10", "reech", 14, "'reach'"),
        ("text:(intern OR titel:intern)", "titel", 17, "'title'"),
        ("_exists_:reahc", "reahc", 10, "'reach'"),
        ("-lnag : de", "lnag", 2, "'lang'"),
    ],
)
def test_a_field_posts_do_not_have_is_named_not_an_empty_result(
    es_client, case, query, *, field, column, suggested
):
    with pytest.raises(QuerySyntaxError) as raised:
        search_posts(es_client, case, SearchRequest(query=query))
    assert raised.value.reason.startswith(f"unknown field {field!r}; did you mean {suggested}")
    assert raised.value.column == column


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("author.handle : caixin", {"feeds:11", "feeds:12"}),
        ("_exists_:reach AND platform:reddit", {"reddit:3"}),
        ('"ByteDance fires" OR stance:debunk', {"feeds:13", "github:5", "mastodon:16"}),
        ("ByteDance AND @timestamp:[2024-10-19T08:00 TO *]", {"feeds:14", "mastodon:16"}),
        ("_id:weibo\\:1", {"weibo:1"}),
    ],
)
def test_queries_naming_only_fields_posts_have_run(es_client, case, query, expected):
    assert set(ids(es_client, case, query=query, limit=50)) == expected


@pytest.mark.parametrize(
    ("since", "until"), [(at(19, 8), at(19, 7)), (at(19, 8), at(19, 8))], ids=["after", "same"]
)
def test_a_window_ending_before_it_starts_is_refused_not_empty(es_client, case, since, until):
    with pytest.raises(ValueError, match="time window is empty"):
        search_posts(es_client, case, SearchRequest(since=since, until=until))


@pytest.mark.parametrize("limit", [0, 10_001])
def test_a_limit_outside_1_to_10000_is_refused(es_client, case, limit):
    with pytest.raises(ValueError, match="limit"):
        search_posts(es_client, case, SearchRequest(limit=limit))


# ---------------------------------------------------------------- the search command


def test_json_output_has_the_stable_columns(case, es_settings):
    result = run(
        case, es_settings, "search", "ByteDance", "--incident", INCIDENT, "--format", "json"
    )
    payload = json.loads(result.output)
    assert payload["total"] == 5
    assert [list(post) for post in payload["posts"]] == [list(COLUMNS)] * 5


def test_ndjson_output_is_one_post_per_line(case, es_settings):
    result = run(case, es_settings, "search", "ByteDance", "--format", "ndjson", "--sort", "oldest")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["id"] for line in lines] == [
        "reddit:3",
        "feeds:11",
        "feeds:13",
        "feeds:14",
        "mastodon:16",
    ]


def test_csv_output_starts_with_the_column_header(case, es_settings):
    result = run(case, es_settings, "search", "author.handle:caixin", "--format", "csv")
    rows = list(csv.reader(io.StringIO(result.output.removeprefix("\ufeff"))))
    assert rows[0] == ["time (UTC)", *COLUMNS[1:]]
    assert sorted(row[6] for row in rows[1:]) == ["feeds:11", "feeds:12"]


def test_table_output_shows_a_header_the_rows_and_the_total(case, es_settings):
    result = run(case, es_settings, "search", "*", "--incident", INCIDENT, "--limit", "3")
    lines = result.output.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == [
        "time (UTC)",
        "platform",
        "kind",
        "stance",
        "author",
        "reach",
        "id",
        "text",
    ]
    assert len(lines) == 5
    assert lines[-1] == f"(3 of {len(POSTS)} posts)"


@pytest.mark.parametrize(
    ("stored", "utc"),
    [
        ("2024-10-19T14:05:00+08:00", "2024-10-19 06:05"),
        ("2024-10-18T23:30:00-05:00", "2024-10-19 04:30"),
        ("2024-10-19T06:05:00Z", "2024-10-19 06:05"),
    ],
)
def test_the_table_shows_times_in_utc_whatever_offset_a_post_was_stored_with(
    es_client, index_names, es_settings, stored, utc
):
    doc = post_doc(("weibo:1", at(19, 0), "weibo", "post", "rumour", "u", 1, 0, None, "t"))
    helpers.bulk(
        es_client,
        [{"_index": index_names.posts, "_id": "weibo:1", "_source": doc | {"@timestamp": stored}}],
        refresh="wait_for",
    )
    result = run(index_names, es_settings, "search", "*", "--incident", INCIDENT)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith(f"{utc}  weibo")


def test_a_bad_query_is_a_readable_error_with_a_caret_and_exit_2(case, es_settings):
    result = run(case, es_settings, "search", "text:(8000 AND")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'error: bad query: Encountered "<EOF>" at line 1, column 14.',
        "  text:(8000 AND",
        "               ^",
    ]


def test_an_unknown_field_is_a_usage_error_with_a_caret(case, es_settings):
    result = run(case, es_settings, "search", "stance:denial AND platfrom:reddit")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        "error: bad query: unknown field 'platfrom'; did you mean 'platform'?"
    )
    assert lines[1:] == ["  stance:denial AND platfrom:reddit", "                    ^"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "cannot read time 'yesterday'"),
        (["--since", "99999999d"], "'99999999d' is longer than 1,000 years"),
        (["--since", "2024-10-20", "--until", "2024-10-19"], "time window is empty"),
        (["--limit", "0"], "0 is not in the range"),
        (["--stance", "maybe"], "unknown stance 'maybe' (known: debunk, denial, other, report"),
        (["--stance", "rumor"], "unknown stance 'rumor'; did you mean 'rumour'?"),
        (["--platform", "twitter"], "unknown platform 'twitter'"),
        (["--platform", "redit"], "unknown platform 'redit'; did you mean 'reddit'?"),
        (["--incident", "bytedance-intern"], "did you mean 'bytedance-intern-2024'?"),
        (["--sort", "newst"], "unknown sort 'newst'; did you mean 'newest'?"),
        (["--format", "xml"], "unknown format 'xml'"),
    ],
)
def test_bad_options_are_usage_errors(case, es_settings, args, message):
    result = run(case, es_settings, "search", "*", *args)
    assert (result.exit_code, message in result.stderr) == (2, True)


def test_the_installed_command_prints_no_traceback_on_a_bad_query(case, es_settings):
    done = subprocess.run(
        [str(PROJECT / ".venv" / "bin" / "spreadwatch"), "search", "title:[1 TO"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env_for(case, es_settings)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: bad query")
    assert "Traceback" not in done.stderr


def test_control_and_bidi_characters_in_posts_are_escaped_on_the_terminal(
    es_client, es_settings, index_names
):
    row = ("weibo:66", at(18, 9), "weibo", "post", "rumour", "evil\x1b[2J", 1, 0, None,
           "8000 \x1b[31mred\x1b[0m \u202etxet")  # fmt: skip
    helpers.bulk(
        es_client,
        [{"_index": index_names.posts, "_id": row[0], "_source": post_doc(row)}],
        refresh="wait_for",
    )
    for fmt in ("table", "csv", "json", "ndjson"):
        output = run(index_names, es_settings, "search", "8000", "--format", fmt).output
        assert ("\x1b" in output, "\u202e" in output) == (False, False), fmt
    table = run(index_names, es_settings, "search", "8000").output
    assert "8000 \\x1b[31mred\\x1b[0m \\u202etxet" in table


# ---------------------------------------------------------------- timeline


def test_timeline_prints_phases_measures_platform_order_and_a_chart(case, es_settings, tmp_path):
    result = run(
        case,
        es_settings,
        "timeline",
        INCIDENT,
        "--interval",
        "1h",
        "--incidents-dir",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "  denial    2024-10-19 06:00 → 2024-10-19 07:00" in out
    assert "  time to denial           1d 4h 00m" in out
    assert "  rumour share before      71.4 %" in out
    assert "  rumour share after       45.5 %" in out
    assert "  denial reach ÷ rumour    5.26  (20000 / 3800)" in out
    assert "  post-denial half-life    2h 00m  (resolution 1h)" in out
    chart = [line for line in out.splitlines() if " │" in line]
    assert len(chart) == 33  # 2024-10-18 02:00 … 2024-10-19 10:00, hourly
    denial_line = next(line for line in chart if line.startswith("2024-10-19 06:00"))
    assert denial_line.endswith("◀ denial")
    # 3 posts of the busiest bucket's 5 fill 30 of 50 columns: 2 rumours, 1 denial.
    assert denial_line.split("│")[1].split()[0] == "R" * 20 + "D" * 10


def test_timeline_json_carries_boundaries_and_measures(case, es_settings, tmp_path):
    result = run(
        case, es_settings, "timeline", INCIDENT, "--format", "json",
        "--interval", "1h", "--incidents-dir", str(tmp_path),
    )  # fmt: skip
    payload = json.loads(result.output)
    assert payload["phases"]["measures"]["time_to_denial"] == 28 * 3600
    assert payload["phases"]["denial"]["id"] == "toutiao:8"
    assert [p["platform"] for p in payload["origin"]["per_platform"]][:2] == ["weibo", "reddit"]


def _widest(side: str, size: int = 3) -> list[tuple[str, str]]:
    """(id, share of the side's reach) of the side's widest posts, from the case's rows."""
    rows = [(r[0], r[1], r[6]) for r in POSTS if r[4] == side and r[6] > 0]
    total = sum(reach for _, _, reach in rows)
    widest = sorted(rows, key=lambda row: (-row[2], row[1]))[:size]
    return [(pid, f"{reach / total * 100:5.1f} %") for pid, _, reach in widest]


def test_timeline_names_the_posts_that_decide_the_reach_ratio(case, es_settings, tmp_path):
    result = run(case, es_settings, "timeline", INCIDENT, "--incidents-dir", str(tmp_path))
    lines = result.output.split("Posts that decide the reach ratio")[1].split("\n\n")[0]
    shown = [(line.split()[4], line[10:17]) for line in lines.splitlines()[1:]]
    assert shown == _widest("rumour") + _widest("denial")
    assert "label source unknown" in lines  # the case's posts carry no stance_source


def test_timeline_json_carries_the_posts_that_decide_the_reach_ratio(case, es_settings, tmp_path):
    result = run(case, es_settings, "timeline", INCIDENT, "--format", "json",
                 "--incidents-dir", str(tmp_path))  # fmt: skip
    deciders = json.loads(result.output)["reach_deciders"]
    assert [d["post"]["id"] for d in deciders["rumour"]] == [i for i, _ in _widest("rumour")]
    assert [round(d["share"], 3) for d in deciders["denial"]] == [1.0]


@pytest.mark.parametrize(
    ("interval", "message"),
    [
        ("hourly", "'hourly' is not a duration"),
        ("1y", "'1y' is not a duration"),
        ("-1d", "'-1d' is not a duration"),
        ("0h", "'0h' is shorter than 1s"),
        ("9999999d", "'9999999d' is longer than 1,000 years"),
    ],
)
def test_timeline_refuses_an_interval_it_cannot_use(case, es_settings, interval, message):
    result = run(case, es_settings, "timeline", INCIDENT, "--interval", interval)
    assert (result.exit_code, message in result.stderr) == (2, True), result.stderr


@pytest.mark.parametrize("interval", ["3600", "3600s", "60m", "1h"])
def test_timeline_intervals_are_durations_in_any_unit(case, es_settings, tmp_path, interval):
    result = run(
        case, es_settings, "timeline", INCIDENT, "--interval", interval,
        "--incidents-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "(resolution 1h)" in result.output


def test_timeline_refuses_an_interval_giving_hundreds_of_rows_and_suggests_one(
    case, es_settings, tmp_path
):
    # The case spans 2024-10-18 02:00 → 2024-10-19 10:xx: 1m buckets would be ~1,950 rows.
    result = run(
        case, es_settings, "timeline", INCIDENT, "--interval", "1m",
        "--incidents-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "interval 1m gives 1," in result.stderr
    assert "try 30m" in result.stderr
    assert " │" not in result.output


def test_timeline_of_an_unknown_incident_is_a_usage_error_naming_the_closest(
    case, es_settings, tmp_path
):
    result = run(
        case, es_settings, "timeline", "bytedance-intern", "--incidents-dir", str(tmp_path)
    )
    assert result.exit_code == 2
    assert "unknown incident 'bytedance-intern'; did you mean 'bytedance-intern-2024'?" in (
        result.stderr
    )


def test_timeline_of_an_incident_file_without_posts_says_so(case, es_settings, tmp_path):
    (tmp_path / "quiet.yml").write_text(
        INCIDENT_FILE.replace("id: bytedance-intern-2024", "id: quiet-case"), encoding="utf-8"
    )
    result = run(case, es_settings, "timeline", "quiet-case", "--incidents-dir", str(tmp_path))
    assert (result.exit_code, result.output.strip()) == (0, "quiet-case: no posts indexed")


# ---------------------------------------------------------------- reclassify

INCIDENT_FILE = """\
id: bytedance-intern-2024
title: ByteDance intern GPU sabotage rumour
window: {start: 2024-10-17T00:00:00Z}
languages: [zh, en]
queries:
  - {name: intern-zh, lang: zh, any: ["实习生"]}
  - {name: intern-en, lang: en, any: ["ByteDance intern"]}
claims:
  - {name: gpus-8000, patterns: ["8000", "8,000"]}
official:
  organisation: ByteDance
  accounts: [{platform: toutiao, handle: bytedance_pr}]
  statements: [https://toutiao.example/2]  # its title alone names no denial: pinned
"""


def stored(es_client, names, doc_id):  # type: ignore[no-untyped-def]
    return es_client.get(index=names.posts, id=doc_id)["_source"]


@pytest.fixture
def stale(es_client: Elasticsearch, index_names: IndexNames, tmp_path: Path) -> Path:
    """Posts indexed with outdated stances, and the incident file that should correct them."""
    rows = [
        ("weibo:1", at(18, 2), "weibo", "post", "other", "w_alpha", 10, 0, None,
         "字节实习生破坏 8000 张 H100"),
        ("toutiao:2", at(19, 6), "toutiao", "statement", "other", "bytedance_pr", 10, 0, None,
         "关于实习生的情况说明"),
        ("reddit:3", at(18, 5), "reddit", "post", "rumour", "r_x", 10, 0, None,
         "The ByteDance intern confession recording is fake"),
        ("reddit:4", at(18, 6), "reddit", "post", "other", "r_y", 10, 0, None, "8000 H100"),
    ]  # fmt: skip
    actions = [{"_index": index_names.posts, "_id": r[0], "_source": post_doc(r)} for r in rows[:3]]
    actions.append(
        {"_index": index_names.posts, "_id": "reddit:4", "_source": post_doc(rows[3], "other")}
    )
    helpers.bulk(es_client, actions, refresh="wait_for")
    path = tmp_path / "case.yml"
    path.write_text(INCIDENT_FILE, encoding="utf-8")
    return path


def test_reclassify_recomputes_stance_and_matches_from_the_incident_file(
    es_client, es_settings, index_names, stale
):
    result = run(index_names, es_settings, "reclassify", str(stale))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{INCIDENT}: 3 posts scanned, 3 changed, 0 detached, 0 failed"
    assert lines[-1] == "stances now: debunk 1, denial 1, rumour 1"
    rumour, official, debunk = (
        stored(es_client, index_names, i) for i in ("weibo:1", "toutiao:2", "reddit:3")
    )
    assert (rumour["stance"], rumour["matched"]["claims"]) == ("rumour", ["gpus-8000"])
    assert rumour["matched"]["queries"] == ["intern-zh"]
    assert (official["stance"], official["author"]["official"]) == ("denial", True)
    assert (debunk["stance"], debunk["matched"]["queries"]) == ("debunk", ["intern-en"])


def test_reclassify_leaves_other_incidents_alone(es_client, es_settings, index_names, stale):
    run(index_names, es_settings, "reclassify", str(stale))
    assert stored(es_client, index_names, "reddit:4")["stance"] == "other"


def test_reclassify_twice_changes_nothing_the_second_time(
    es_client, es_settings, index_names, stale
):
    run(index_names, es_settings, "reclassify", str(stale))
    again = run(index_names, es_settings, "reclassify", str(stale))
    assert "3 posts scanned, 0 changed, 0 detached, 0 failed" in again.output


def test_reclassify_of_an_unknown_incident_id_is_an_error(es_settings, index_names, tmp_path):
    result = run(index_names, es_settings, "reclassify", "nope", "--incidents-dir", str(tmp_path))
    assert result.exit_code != 0
    assert "no incident file with id 'nope'" in str(result.exception or result.output)


@pytest.mark.parametrize("args", [["search", "*"], ["timeline", "any-case"]])
def test_before_any_index_exists_the_commands_say_to_run_init(es_settings, tmp_path, args):
    names = IndexNames(f"{es_settings.index_prefix}-never-initialised")
    result = run(
        names,
        es_settings,
        *args,
        *(["--incidents-dir", str(tmp_path)] if args[0] == "timeline" else []),
    )
    assert result.exit_code == 1
    assert "run `spreadwatch init`" in result.stderr


def test_queries_use_language_subfields_only_where_the_mapping_has_them(es_client, case):
    from indexer.connection import ClusterFeatures
    from indexer.search import LANGUAGE_FIELDS, SEARCH_FIELDS, fields_for

    has_languages = ClusterFeatures(es_client).language_analyzers  # False on the embedded node
    node = fields_for(dict(es_client.indices.get_mapping(index=case.posts)))
    assert node == SEARCH_FIELDS + (LANGUAGE_FIELDS if has_languages else [])
    without = fields_for({"x-v1": {"mappings": {"_meta": {"language_subfields": False}}}})
    with_languages = fields_for({"x-v1": {"mappings": {"_meta": {"language_subfields": True}}}})
    assert (without, with_languages) == (SEARCH_FIELDS, SEARCH_FIELDS + LANGUAGE_FIELDS)
