"""What alert e-mails say, on a small founding-case spread whose figures are known: the sentence
that says what happened, each post's stance and claims, diversified top posts, the chart of the
incident with the denial, the source's error, formatted numbers, links onwards."""

from __future__ import annotations

import io
from datetime import timedelta
from html import unescape

import pytest
from alerts_support import (
    NOW,
    incident_with,
    index_docs,
    index_posts,
    official_denial,
    post,
    run_doc,
)
from PIL import Image

from alerts.engine import Delivery, raise_alerts
from alerts.mailer import SmtpConfig, SmtpSender
from alerts.store import AlertStore
from alerts.wording import label_provenance
from spreadwatch.names import DENIAL_COLOUR

pytest_plugins = ["conftest_alerts"]

H = timedelta(hours=1)
ORIGIN = NOW - timedelta(hours=36)  # 18 Oct 00:00 UTC, on Weibo
DENIED = NOW - timedelta(hours=6)  # 19 Oct 06:00 UTC, on Toutiao
CLAIMS = {"matched": {"queries": ["zh"], "claims": ["gpus-8000"]}}


@pytest.fixture
def index_names(emptied_indices):
    return emptied_indices


def founding_spread(client, names):  # type: ignore[no-untyped-def]
    """Weibo first (36 h ago), Reddit 14 h later, a 2.5M account, the denial 6 h ago."""
    docs = [
        post("w1", ORIGIN, reach=2000, **CLAIMS),
        post("r1", ORIGIN + 14 * H, platform="reddit", reach=1000),
        post(
            "big",
            ORIGIN + 20 * H,
            reach=2_507_000,
            author={"id": "liu", "handle": "liuzhang", "followers": 2_507_000},
            **CLAIMS,
        ),
        official_denial("s1", DENIED, reach=93_000, stance_source="model", **CLAIMS),
    ]
    # The last 3 h: 12 posts, 9 of them by one loud Weibo account.
    docs += [post(f"loud{i}", NOW - H * 2.5 + i * 10 * (H / 60), reach=900_000 - i,
                  author={"id": "loud", "handle": "loud", "followers": 900_000})
             for i in range(9)]  # fmt: skip
    docs += [post("h1", NOW - H, platform="hackernews", reach=50)]
    docs += [post("m1", NOW - 2 * H, platform="mastodon", reach=40)]
    docs += [post("w2", NOW - H / 2, reach=30)]
    index_posts(client, names, docs)


def deliver(client, names, smtp_server, rules, **options):  # type: ignore[no-untyped-def]
    raise_alerts(client, names, incident_with(rules), NOW)
    sender = SmtpSender(SmtpConfig.from_url(smtp_server.url), timeout=5)
    Delivery(AlertStore(client, names), sender, "sw@example.org", **options).deliver(NOW)
    return smtp_server.inbox.messages


def parts(message):  # type: ignore[no-untyped-def]
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return " ".join(plain.split()), html


@pytest.fixture
def denial_mail(es_client, index_names, smtp_server):  # type: ignore[no-untyped-def]
    founding_spread(es_client, index_names)
    rules = [{"name": "denial", "type": "official_denial"}]
    [message] = deliver(
        es_client, index_names, smtp_server, rules,
        kibana_url="http://kibana.local:5601", report_url="https://intra.example/reports",
    )  # fmt: skip
    return message


def test_the_denial_mail_opens_with_what_happened(denial_mail) -> None:  # type: ignore[no-untyped-def]
    plain, html = parts(denial_mail)
    # Truth from the fixture: denial 30 h after the first Weibo post; 12 posts in the last 3 h
    # against 15 in the last day (r1, big, s1 and the 12): 12/3 ÷ 15/24 = 6.4; denial reach 93,000 of the rumour's 2,000 +
    # 1,000 + 2,507,000 + 9 × ~900,000 + 50 + 40 + 30 = 10,610,084 → 1%.
    rumour_reach = 2000 + 1000 + 2_507_000 + sum(900_000 - i for i in range(9)) + 50 + 40 + 30
    share = f"{93_000 / rumour_reach:.0%}"
    sentence = (
        "@bytedance denied the rumour on Toutiao 19 Oct 06:00 UTC, 1 d 6 h after it started on "
        f"Weibo; 12 posts in the last 3 h, 6.4× the day's rate; the official denial has {share} "
        "of the rumour's reach so far."
    )
    assert sentence in plain, plain[:600]
    assert sentence in " ".join(unescape(html).split())


def test_each_post_says_its_stance_who_labelled_it_and_its_claims(denial_mail) -> None:  # type: ignore[no-untyped-def]
    plain, html = parts(denial_mail)
    line = "@bytedance on Toutiao (reach 93.0k): denies the rumour (labelled by the model, 90% sure); claims: gpus-8000"  # fmt: skip
    assert line in plain
    assert "denies the rumour (labelled by the model, 90% sure)" in unescape(html)


def test_each_post_gives_its_id_and_how_to_correct_its_label(denial_mail) -> None:  # type: ignore[no-untyped-def]
    plain, html = parts(denial_mail)
    listed = plain.split("The posts behind this alert:")[1]
    assert " id toutiao:s1 " in listed
    hint = "A label wrong? Set it by hand: spreadwatch stance set bytedance-intern-2024 ID LABEL"
    assert hint in listed
    assert "<code>toutiao:s1</code>" in html and hint in " ".join(
        unescape(html).replace("<code>", "").replace("</code>", "").split()
    )


@pytest.mark.parametrize(
    ("source", "confidence", "said"),
    [
        ("model", 0.523, "labelled by the model, 52% sure"),
        ("lexicon", 0.8, "labelled by the lexicon rules, 80% sure"),
        ("human", 1.0, "label set by hand"),
        ("official", 1.0, "the pinned statement"),
        (None, None, "label source unknown"),
    ],
)
def test_who_labelled_a_post_is_said_in_words(source, confidence, said) -> None:  # type: ignore[no-untyped-def]
    assert label_provenance(source, confidence) == said


def test_the_chart_covers_the_incident_with_the_denial_marked(
    denial_mail, es_client, index_names
) -> None:  # type: ignore[no-untyped-def]
    [alert] = AlertStore(es_client, index_names).recent(size=1)
    chart = alert["details"]["chart"]
    assert chart["denial_at"].startswith("2024-10-19T06:00")
    assert len(chart["series"]) >= 12  # never a single bar
    first_bucket = chart["series"][0][0]
    assert first_bucket <= ORIGIN.isoformat()  # from the first post on
    [png] = [p for p in denial_mail.walk() if p.get_content_type() == "image/png"]
    image = Image.open(io.BytesIO(png.get_content())).convert("RGB")
    target = tuple(int(DENIAL_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    colours = {colour: count for count, colour in image.getcolors(maxcolors=1 << 24) or []}
    denial_pixels = colours.get(target, 0)
    assert denial_pixels > 50  # the dashed line and its label are drawn


def test_links_carry_no_credentials_of_the_configured_urls(
    es_client, index_names, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    """A Kibana or report URL may be configured with basic-auth credentials; the links go to
    every recipient, so they must not carry them."""
    founding_spread(es_client, index_names)
    rules = [{"name": "denial", "type": "official_denial"}]
    [message] = deliver(
        es_client, index_names, smtp_server, rules,
        kibana_url="http://elastic:k1bana-pw@kibana.local:5601",
        report_url="https://reports:s3cret@intra.example/reports",
    )  # fmt: skip
    plain, html = parts(message)
    assert "Full report: https://intra.example/reports/bytedance-intern-2024.html" in plain
    assert "http://kibana.local:5601/app/dashboards#/view/" in plain
    for secret in ("k1bana-pw", "s3cret", "elastic:", "reports:"):
        assert secret not in plain and secret not in unescape(html)


def test_links_lead_to_the_report_and_kibana(denial_mail, index_names) -> None:  # type: ignore[no-untyped-def]
    plain, html = parts(denial_mail)
    assert "Full report: https://intra.example/reports/bytedance-intern-2024.html" in plain
    assert f"/app/dashboards#/view/{index_names.prefix}-dashboard-bytedance-intern-2024?" in plain
    assert '<a href="https://intra.example/reports/bytedance-intern-2024.html">' in html


def test_without_a_report_url_the_mail_names_the_command(
    es_client, index_names, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    founding_spread(es_client, index_names)
    [message] = deliver(
        es_client, index_names, smtp_server, [{"name": "d", "type": "official_denial"}]
    )
    plain, _ = parts(message)
    assert "Full report: spreadwatch report bytedance-intern-2024 --out report.html" in plain


def test_an_influential_author_says_which_side_and_numbers_are_readable(
    es_client, index_names, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    founding_spread(es_client, index_names)
    rules = [{"name": "big", "type": "influential_author", "followers": 2_000_000}]
    [message] = deliver(es_client, index_names, smtp_server, rules)
    assert message["Subject"].startswith(
        "Influential author: @liuzhang (2.5M followers) spreads the rumour on Weibo"
    )
    plain, _ = parts(message)
    assert "(reach 2.5M)" in plain and "2507000" not in plain


def test_top_posts_are_one_per_author_across_platforms(es_client, index_names, smtp_server) -> None:  # type: ignore[no-untyped-def]
    founding_spread(es_client, index_names)
    rules = [{"name": "vol", "type": "threshold", "window": "3h", "count": 5}]
    [message] = deliver(es_client, index_names, smtp_server, rules)
    plain, _ = parts(message)
    listed = plain.split("The posts behind this alert:")[1]
    assert listed.count("@loud on Weibo") == 1
    for platform in ("Hacker News", "Mastodon"):
        assert f"on {platform}" in listed


def test_a_silent_source_mail_carries_the_error(es_client, index_names, smtp_server) -> None:  # type: ignore[no-untyped-def]
    runs = [run_doc("reddit", NOW - 3 * H, "ok", 5)]
    for hours in (2, 1):
        failed = run_doc("reddit", NOW - hours * H, "failed", 0)
        failed |= {
            "errors": ["HTTP 503 Service Unavailable from oauth.reddit.com"],
            "error_count": 1,
        }
        runs.append(failed)
    index_docs(es_client, index_names.runs, runs)
    rules = [{"name": "quiet", "type": "silent_source", "runs": 2}]
    [message] = deliver(es_client, index_names, smtp_server, rules)
    plain, _ = parts(message)
    assert "Reddit returned nothing: HTTP 503 Service Unavailable from oauth.reddit.com" in plain
    assert "last error: HTTP 503 Service Unavailable" in plain
