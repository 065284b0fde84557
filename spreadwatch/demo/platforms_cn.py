"""Where the rumour started: Weibo, a Chinese tech forum (V2EX), and the official Toutiao statement."""

# Builders take the platform's fields positionally, in the order the platform lists them.
# ruff: noqa: PLR0917

from __future__ import annotations

from datetime import datetime

from spreadwatch.demo import shapes, texts
from spreadwatch.demo import timeline as tl
from spreadwatch.demo.context import Author, Context, Record, shift

WEIBO_POSTS = 430
WEIBO_NOISE = 60
V2EX_TOPICS = 6
V2EX_REPLIES = 140
V2EX_NOISE_TOPICS = 3


def _mid(ctx: Context, at_seconds: int) -> str:
    return str(
        5_090_000_000_000_000 + (at_seconds - 1_728_950_400) * 1000 + ctx.rng.randint(0, 999)
    )


def _plain(text: str) -> str:
    import html  # noqa: PLC0415

    return html.unescape(text)


def _counts(ctx: Context, followers: int) -> tuple[int, int, int]:
    scale = max(followers, 10) ** 0.5
    rng = ctx.rng
    return (
        int(scale * rng.random() * 0.8),
        int(scale * rng.random() * 0.5),
        int(scale * rng.random() * 3),
    )


def _weibo_record(
    ctx: Context,
    at: datetime,
    text: str,
    stance: str | None,
    retweeted: dict | None = None,
    author: Author | None = None,
) -> Record:
    who = author or ctx.author("weibo", 400, "zh")
    mid = _mid(ctx, int(at.timestamp()))
    user = {"id": who.id, "handle": who.handle, "followers": who.followers}
    mblog = shapes.weibo_mblog(mid, at, text, user, _counts(ctx, who.followers), retweeted)
    return Record(
        "weibo",
        "mblog",
        mid,
        at,
        mblog,
        stance=stance or "other",
        lang="zh",
        matches=stance is not None,
        url=f"https://m.weibo.cn/detail/{mid}",
        followers=who.followers,
    )


def build_weibo(ctx: Context) -> list[Record]:
    """The origin post, chatter with reposts and near-duplicate copies, and noise."""
    rng = ctx.rng
    origin_author = ctx.pool("weibo", 400, "zh")[7]
    origin = _weibo_record(ctx, tl.ORIGIN, texts.ORIGIN_WEIBO, "rumour", author=origin_author)
    origin.extra["role"] = "origin"
    records = [origin]
    for _ in range(WEIBO_POSTS - 1):
        at = ctx.post_time(shift(tl.ORIGIN, 6))
        roll = rng.random()
        if roll < 0.3:  # a repost of an earlier post, with a short comment
            earlier = rng.choice([r for r in records if r.at < at] or [origin])
            comment = rng.choice(("转发微博", "转发", "卧槽", "真的假的", "mark", "等官方回应"))
            source = earlier.data.get("retweeted_status") or earlier.data
            chain = f"{comment}//@{source['user']['screen_name']}:{_plain(source['text'])}"
            rec = _weibo_record(ctx, at, chain, earlier.stance, retweeted=source)
            rec.extra["repost_of"] = source["id"]
        elif roll < 0.38 and at < tl.DENIAL:  # copy-paste of the origin text
            text = (
                rng.choice(texts.OPENERS["zh"])
                + texts.ORIGIN_WEIBO
                + rng.choice(texts.CLOSERS["zh"])
            )
            rec = _weibo_record(ctx, at, text, "rumour")
            rec.extra["copy_of"] = origin.id
        else:
            stance = tl.stance_at(rng, at)
            rec = _weibo_record(ctx, at, ctx.text(stance, "zh"), stance)
        records.append(rec)
    records += [
        _weibo_record(ctx, tl.noise_time(rng), ctx.noise("zh"), None) for _ in range(WEIBO_NOISE)
    ]
    return records


def build_v2ex(ctx: Context) -> list[Record]:
    """Forum topics in the career node, their replies, and unrelated topics."""
    rng = ctx.rng
    records: list[Record] = []
    for index in range(V2EX_TOPICS + V2EX_NOISE_TOPICS):
        noise = index >= V2EX_TOPICS
        at = (
            tl.FORUM_FIRST
            if index == 0
            else (tl.noise_time(rng) if noise else ctx.post_time(tl.FORUM_FIRST))
        )
        stance = None if noise else ("rumour" if index == 0 else tl.stance_at(rng, at))
        body = ctx.noise("zh") if noise else ctx.text(stance or "other", "zh")
        title = body[:24] if index else "字节跳动实习生投毒大模型训练，8000张H100？"
        member = ctx.author("v2ex", 150, "zh")
        tid = 1_080_000 + index * 137 + rng.randint(0, 99)
        replies = []
        for _ in range(rng.randint(2, 6) if noise else V2EX_REPLIES // V2EX_TOPICS):
            r_at = shift(at, rng.expovariate(1 / 600) + 1)
            if r_at >= tl.WINDOW_END:
                continue
            r_stance = None if noise else tl.stance_at(rng, r_at)
            r_text = ctx.noise("zh") if noise else ctx.text(r_stance or "other", "zh")
            who = ctx.author("v2ex", 150, "zh")
            rid = ctx.new_id() * 11
            replies.append(
                Record(
                    "v2ex",
                    "reply",
                    str(rid),
                    r_at,
                    shapes.v2ex_reply(
                        rid, tid, r_at, {"id": int(who.id), "handle": who.handle}, r_text
                    ),
                    stance=r_stance or "other",
                    lang="zh",
                    matches=r_stance is not None,
                    url=f"https://www.v2ex.com/t/{tid}#r_{rid}",
                    followers=0,
                )
            )
        topic = shapes.v2ex_topic(
            tid, at, {"id": int(member.id), "handle": member.handle}, title, body, len(replies)
        )
        records.append(
            Record(
                "v2ex",
                "topic",
                str(tid),
                at,
                topic,
                stance=stance or "other",
                lang="zh",
                matches=stance is not None,
                url=topic["url"],
                followers=0,
            )
        )
        records += replies
    return records


def build_toutiao(ctx: Context) -> list[Record]:
    """ByteDance's statement: the first official denial."""
    text = texts.STATEMENT_TEXT + texts.STATEMENT_NOTE
    article = shapes.toutiao_article("7427384520000000001", tl.DENIAL, texts.STATEMENT_TITLE, text)
    record = Record(
        "toutiao",
        "article",
        article["id"],
        tl.DENIAL,
        article,
        stance="denial",
        lang="zh",
        matches=True,
        url=article["url"],
        followers=2_000_000,
    )
    record.extra["role"] = "official_denial"
    return [record]
