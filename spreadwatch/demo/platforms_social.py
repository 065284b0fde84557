"""The international spread: Hacker News, Reddit, Mastodon, Bluesky and news feeds (zh/en/de)."""

# Builders take the platform's fields positionally, in the order the platform lists them.
# ruff: noqa: PLR0917

from __future__ import annotations

from datetime import datetime

from spreadwatch.demo import shapes, texts
from spreadwatch.demo import timeline as tl
from spreadwatch.demo.context import Context, Record, shift

MASTODON_INSTANCES = (("mastodon.social", "en"), ("chaos.social", "de"))


def _lang(ctx: Context, german_share: float) -> str:
    return "de" if ctx.rng.random() < german_share else "en"


def build_hackernews(ctx: Context) -> list[Record]:
    rng = ctx.rng
    story_id = 41_887_000 + rng.randint(0, 999)
    story = (story_id, texts.HN_STORY_TITLE)
    author = ctx.author("hackernews", 200)
    hit = shapes.hn_hit(story_id, tl.HN_STORY, author.handle, story, "", None, 412)
    records = [
        Record(
            "hackernews",
            "hit",
            str(story_id),
            tl.HN_STORY,
            hit,
            stance="report",
            lang="en",
            matches=True,
            url=f"https://news.ycombinator.com/item?id={story_id}",
            followers=0,
        )
    ]
    ids = [story_id]
    for _ in range(90):
        at = shift(tl.HN_STORY, rng.expovariate(1 / 480) + 1)
        if at >= tl.WINDOW_END:
            continue
        stance = rng.choice(("other", "other", "debunk", "rumour", "report"))
        oid = story_id + ctx.new_id()
        parent = rng.choice(ids)
        hit = shapes.hn_hit(
            oid, at, ctx.author("hackernews", 200).handle, story, ctx.text(stance, "en"), parent, 0
        )
        ids.append(oid)
        records.append(
            Record(
                "hackernews",
                "hit",
                str(oid),
                at,
                hit,
                stance=stance,
                lang="en",
                matches=True,
                url=f"https://news.ycombinator.com/item?id={oid}",
                followers=0,
            )
        )
    for _ in range(12):  # unrelated stories the search_by_date endpoint also returns
        at = tl.noise_time(rng)
        oid = 41_800_000 + ctx.new_id()
        hit = shapes.hn_hit(
            oid,
            at,
            ctx.author("hackernews", 200).handle,
            (oid, ctx.noise("en")),
            "",
            None,
            rng.randint(1, 90),
        )
        records.append(
            Record(
                "hackernews",
                "hit",
                str(oid),
                at,
                hit,
                stance="other",
                lang="en",
                url=f"https://news.ycombinator.com/item?id={oid}",
            )
        )
    return records


def _b36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"


def build_reddit(ctx: Context) -> list[Record]:
    rng = ctx.rng
    records: list[Record] = []
    for index, (sub, title) in enumerate(texts.REDDIT_TITLES):
        at = tl.REDDIT_FIRST if index == 0 else ctx.post_time(tl.DENIAL)
        stance = "rumour" if at < tl.DENIAL else "report"
        rid = _b36(3_155_000_000 + ctx.new_id())
        post = shapes.reddit_thing(
            "t3",
            rid,
            at,
            ctx.author("reddit", 250).handle,
            sub,
            ctx.text(stance, "en"),
            title,
            None,
            rng.randint(50, 3000),
        )
        records.append(
            Record(
                "reddit",
                "thing",
                f"t3_{rid}",
                at,
                post,
                stance=stance,
                lang="en",
                matches=True,
                url=post["data"]["url"],
                followers=0,
            )
        )
        for _ in range(36):
            c_at = shift(at, rng.expovariate(1 / 420) + 1)
            if c_at >= tl.WINDOW_END:
                continue
            c_stance = tl.stance_at(rng, c_at)
            cid = _b36(1_310_000_000 + ctx.new_id())
            comment = shapes.reddit_thing(
                "t1",
                cid,
                c_at,
                ctx.author("reddit", 250).handle,
                sub,
                ctx.text(c_stance, "en"),
                None,
                f"t3_{rid}",
                rng.randint(-3, 400),
            )
            records.append(
                Record(
                    "reddit",
                    "thing",
                    f"t1_{cid}",
                    c_at,
                    comment,
                    stance=c_stance,
                    lang="en",
                    matches=True,
                    url="https://www.reddit.com" + comment["data"]["permalink"],
                    followers=0,
                )
            )
    for _ in range(10):
        at = tl.noise_time(rng)
        rid = _b36(3_150_000_000 + ctx.new_id())
        post = shapes.reddit_thing(
            "t3",
            rid,
            at,
            ctx.author("reddit", 250).handle,
            "technology",
            ctx.noise("en"),
            ctx.noise("en"),
            None,
            rng.randint(1, 500),
        )
        records.append(
            Record(
                "reddit",
                "thing",
                f"t3_{rid}",
                at,
                post,
                stance="other",
                lang="en",
                url=post["data"]["url"],
            )
        )
    return records


def _mastodon_id(at: datetime, seq: int) -> str:
    return str((int(at.timestamp() * 1000) << 16) | (seq & 0xFFFF))


def build_mastodon(ctx: Context) -> list[Record]:
    rng = ctx.rng
    records: list[Record] = []
    for index in range(85):
        instance, lang = rng.choice(MASTODON_INSTANCES)
        noise = index >= 70
        at = (
            tl.noise_time(rng)
            if noise
            else (tl.MASTODON_FIRST if index == 0 else ctx.post_time(tl.MASTODON_FIRST))
        )
        if index == 0:
            instance, lang = MASTODON_INSTANCES[0]
        stance = None if noise else tl.stance_at(rng, at)
        text = ctx.noise(lang) if noise else ctx.text(stance or "other", lang)
        who = ctx.author(f"mastodon:{instance}", 120)
        account = {"id": who.id, "handle": who.handle, "name": who.name, "followers": who.followers}
        sid = _mastodon_id(at, index)
        counts = (rng.randint(0, 20), rng.randint(0, 60), rng.randint(0, 150))
        status = shapes.mastodon_status(
            sid, at, instance, account, text, lang, ["ByteDance", "AI"], counts
        )
        records.append(
            Record(
                "mastodon",
                "status",
                sid,
                at,
                status,
                stance=stance or "other",
                lang=lang,
                matches=not noise,
                url=status["url"],
                followers=who.followers,
                extra={"instance": instance},
            )
        )
    return records


def build_bluesky(ctx: Context) -> list[Record]:
    rng = ctx.rng
    records: list[Record] = []
    profiles: dict[str, Record] = {}
    for index in range(105):
        noise = index >= 90
        at = (
            tl.noise_time(rng)
            if noise
            else (tl.BLUESKY_FIRST if index == 0 else ctx.post_time(tl.BLUESKY_FIRST))
        )
        lang = "en" if index == 0 else _lang(ctx, 0.15)
        stance = None if noise else tl.stance_at(rng, at)
        text = ctx.noise(lang) if noise else ctx.text(stance or "other", lang)
        who = ctx.author("bluesky", 200)
        did = f"did:plc:{shapes.digest('bsky', who.id, size=24)}"
        handle = f"{who.handle}.bsky.social"
        rkey = shapes.bluesky_tid(at, index)
        counts = (rng.randint(0, 15), rng.randint(0, 80), rng.randint(0, 300), rng.randint(0, 10))
        post = shapes.bluesky_post(did, handle, rkey, at, text, lang, counts, None)
        url = f"https://bsky.app/profile/{handle}/post/{rkey}"
        records.append(
            Record(
                "bluesky",
                "post",
                post["uri"],
                at,
                post,
                stance=stance or "other",
                lang=lang,
                matches=not noise,
                url=url,
                followers=who.followers,
            )
        )
        if did not in profiles:
            profile = shapes.bluesky_profile(did, handle, who.followers)
            profiles[did] = Record("bluesky", "profile", did, tl.WINDOW_START, profile)
    return records + list(profiles.values())


def build_feeds(ctx: Context) -> list[Record]:
    """Google News search results per language: the press coverage after the statement."""
    rng = ctx.rng
    records: list[Record] = []
    firsts = {"zh": tl.NEWS_ZH, "en": tl.NEWS_EN, "de": tl.NEWS_DE}
    for lang, items in texts.NEWS.items():
        for index in range(12 if lang != "de" else 7):
            title, publisher = items[index % len(items)]
            if index >= len(items):  # syndicated copies: the same story under another outlet
                publisher = f"{publisher} ({rng.choice(('Syndication', 'Wire', 'Regional'))})"
            at = firsts[lang] if index == 0 else ctx.post_time(firsts[lang])
            stance = "report"
            records.append(_news(ctx, lang, title, publisher, at, stance))
    for lang in ("zh", "en", "de"):
        for _ in range(4):
            records.append(_news(ctx, lang, ctx.noise(lang), "Tech Wire", tl.noise_time(rng), None))
    return records


def _news(
    ctx: Context, lang: str, title: str, publisher: str, at: datetime, stance: str | None
) -> Record:
    guid = "CBMi" + shapes.digest(title, publisher, at, size=32)
    domain = f"news-{shapes.digest(publisher.split(' (', maxsplit=1)[0], size=6)}.example"
    description = ctx.text(stance, lang) if stance else ctx.noise(lang)
    item = shapes.news_item(title, publisher, domain, at, description, guid)
    return Record(
        "feeds",
        "item",
        guid,
        at,
        item,
        stance=stance or "other",
        lang=lang,
        matches=stance is not None,
        url=item["link"],
        followers=0,
        extra={"feed_lang": lang},
    )
