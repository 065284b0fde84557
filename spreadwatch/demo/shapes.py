"""Records in each platform's native API shape (see ../shared/facts/sources.md).

Replay servers serve these dicts as the platform would (wrapped in its search envelope, paged);
spiders parse them exactly as they parse the real API. Only what a spider or the story needs is
filled, but every field keeps the platform's own name and type.
"""

# Builders take the platform's fields positionally, in the order the platform lists them.
# ruff: noqa: PLR0917

from __future__ import annotations

import base64
import hashlib
import html
from datetime import UTC, datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_B32 = "234567abcdefghijklmnopqrstuvwxyz"


def iso_z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms_z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def weibo_time(at: datetime) -> str:
    """Weibo's absolute form: `Wed Oct 16 12:40:05 +0800 2024`."""
    local = at.astimezone(CST)
    return (
        f"{_WEEKDAYS[local.weekday()]} {_MONTHS[local.month - 1]} {local.day:02d} "
        f"{local:%H:%M:%S} +0800 {local.year}"
    )


def rfc822(at: datetime) -> str:
    utc = at.astimezone(UTC)
    return (
        f"{_WEEKDAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc:%Y %H:%M:%S} GMT"
    )


def followers_text(count: int) -> int | str:
    """Weibo gives big follower counts as text like `"12.3万"`."""
    return f"{count / 10000:.1f}万" if count >= 100_000 else count


def digest(*parts: object, size: int = 40) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:size]


def weibo_mblog(
    mid: str,
    at: datetime,
    text: str,
    user: dict,
    counts: tuple[int, int, int],
    retweeted: dict | None,
) -> dict:
    reposts, comments, likes = counts
    mblog = {
        "id": mid,
        "mid": mid,
        "bid": base64.b32encode(mid.encode()).decode()[:9],
        "created_at": weibo_time(at),
        "text": html.escape(text),
        "isLongText": False,
        "source": "微博 weibo.com",
        "reposts_count": reposts,
        "comments_count": comments,
        "attitudes_count": likes,
        "user": {
            "id": int(user["id"]),
            "screen_name": user["handle"],
            "followers_count": followers_text(user["followers"]),
            "verified": user["followers"] > 500_000,
            "profile_url": f"https://m.weibo.cn/u/{user['id']}",
        },
    }
    if retweeted is not None:
        mblog["retweeted_status"] = retweeted
    return mblog


def github_user(login: str, uid: int, followers: int, created: datetime) -> dict:
    return {
        "login": login,
        "id": uid,
        "type": "User",
        "html_url": f"https://github.com/{login}",
        "name": None,
        "followers": followers,
        "following": 0,
        "public_repos": 1,
        "created_at": iso_z(created),
    }


def _owner(login: str, uid: int) -> dict:
    return {"login": login, "id": uid, "type": "User", "html_url": f"https://github.com/{login}"}


def github_repo(
    rid: int,
    owner: tuple[str, int],
    name: str,
    description: str,
    at: datetime,
    fork_of: str | None = None,
) -> dict:
    full = f"{owner[0]}/{name}"
    return {
        "id": rid,
        "node_id": f"R_{digest(rid, size=12)}",
        "name": name,
        "full_name": full,
        "private": False,
        "owner": _owner(*owner),
        "html_url": f"https://github.com/{full}",
        "description": description,
        "fork": fork_of is not None,
        "url": f"https://api.github.com/repos/{full}",
        "created_at": iso_z(at),
        "updated_at": iso_z(at),
        "pushed_at": iso_z(at),
        "stargazers_count": 0,
        "watchers_count": 0,
        "forks_count": 0,
        "open_issues_count": 0,
        "language": None,
        "topics": [],
        "default_branch": "main",
    }


def github_readme(full_name: str, text: str) -> dict:
    content = base64.b64encode(text.encode()).decode()
    return {
        "name": "README.md",
        "path": "README.md",
        "sha": digest(full_name, text),
        "size": len(text.encode()),
        "encoding": "base64",
        "content": content,
        "html_url": f"https://github.com/{full_name}/blob/main/README.md",
        "download_url": f"https://raw.githubusercontent.com/{full_name}/main/README.md",
        "repository": full_name,
    }


def github_issue(
    iid: int, number: int, repo: str, user: tuple[str, int], title: str, body: str, at: datetime
) -> dict:
    return {
        "id": iid,
        "node_id": f"I_{digest(iid, size=12)}",
        "number": number,
        "title": title,
        "body": body,
        "user": _owner(*user),
        "state": "open",
        "comments": 0,
        "created_at": iso_z(at),
        "updated_at": iso_z(at),
        "html_url": f"https://github.com/{repo}/issues/{number}",
        "url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "repository_url": f"https://api.github.com/repos/{repo}",
        "author_association": "NONE",
        "reactions": {"total_count": 0, "+1": 0, "-1": 0},
    }


def github_comment(
    cid: int, repo: str, number: int, user: tuple[str, int], body: str, at: datetime
) -> dict:
    return {
        "id": cid,
        "node_id": f"IC_{digest(cid, size=12)}",
        "body": body,
        "user": _owner(*user),
        "created_at": iso_z(at),
        "updated_at": iso_z(at),
        "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{cid}",
        "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
        "author_association": "NONE",
        "reactions": {"total_count": 0},
    }


def github_stargazer(user: tuple[str, int], at: datetime) -> dict:
    return {"starred_at": iso_z(at), "user": _owner(*user)}


def hn_hit(
    oid: int,
    at: datetime,
    author: str,
    story: tuple[int, str],
    text: str,
    parent: int | None,
    points: int,
) -> dict:
    """An Algolia hit: a story when `parent` is None, else a comment under `parent`."""
    is_story = parent is None
    return {
        "objectID": str(oid),
        "created_at": iso_ms_z(at),
        "created_at_i": int(at.timestamp()),
        "author": author,
        "title": story[1] if is_story else None,
        "url": f"https://news.example/story/{oid}" if is_story else None,
        "story_text": None,
        "comment_text": None if is_story else html.escape(text),
        "points": points if is_story else None,
        "num_comments": 0 if is_story else None,
        "story_id": story[0],
        "story_title": None if is_story else story[1],
        "parent_id": parent,
        "_tags": ["story" if is_story else "comment", f"author_{author}", f"story_{story[0]}"],
    }


def reddit_thing(
    kind: str,
    rid: str,
    at: datetime,
    author: str,
    subreddit: str,
    text: str,
    title: str | None,
    link_id: str | None,
    score: int,
) -> dict:
    data = {
        "id": rid,
        "name": f"{kind}_{rid}",
        "author": author,
        "subreddit": subreddit,
        "subreddit_name_prefixed": f"r/{subreddit}",
        "score": score,
        "ups": score,
        "created_utc": float(int(at.timestamp())),
    }
    if kind == "t3":
        data.update(
            title=title,
            selftext=text,
            num_comments=0,
            num_crossposts=0,
            permalink=f"/r/{subreddit}/comments/{rid}/",
            url=f"https://www.reddit.com/r/{subreddit}/comments/{rid}/",
            is_self=True,
            over_18=False,
        )
    else:
        data.update(
            body=text,
            parent_id=link_id,
            link_id=link_id,
            permalink=f"/r/{subreddit}/comments/{(link_id or 't3_')[3:]}/_/{rid}/",
        )
    return {"kind": kind, "data": data}


def mastodon_status(
    sid: str,
    at: datetime,
    instance: str,
    account: dict,
    text: str,
    lang: str,
    tags: list[str],
    counts: tuple[int, int, int],
) -> dict:
    replies, reblogs, favourites = counts
    url = f"https://{instance}/@{account['handle']}/{sid}"
    return {
        "id": sid,
        "uri": f"https://{instance}/users/{account['handle']}/statuses/{sid}",
        "url": url,
        "created_at": iso_ms_z(at),
        "account": {
            "id": str(account["id"]),
            "username": account["handle"],
            "acct": account["handle"],
            "display_name": account["name"],
            "followers_count": account["followers"],
            "url": f"https://{instance}/@{account['handle']}",
            "bot": False,
        },
        "content": f"<p>{html.escape(text)}</p>",
        "language": lang,
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "reblog": None,
        "replies_count": replies,
        "reblogs_count": reblogs,
        "favourites_count": favourites,
        "tags": [{"name": t, "url": f"https://{instance}/tags/{t}"} for t in tags],
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "media_attachments": [],
        "mentions": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def bluesky_tid(at: datetime, seq: int) -> str:
    """A record key in the TID form: microseconds since the epoch, base32-sortable."""
    value = (int(at.timestamp() * 1_000_000) << 10) | (seq & 1023)
    chars = []
    for _ in range(13):
        chars.append(_B32[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def bluesky_post(
    did: str,
    handle: str,
    rkey: str,
    at: datetime,
    text: str,
    lang: str,
    counts: tuple[int, int, int, int],
    parent: dict | None,
) -> dict:
    replies, reposts, likes, quotes = counts
    record: dict = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": iso_ms_z(at),
        "langs": [lang],
    }
    if parent is not None:
        record["reply"] = {"root": parent, "parent": parent}
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": "bafyrei" + digest(did, rkey, size=40),
        "author": {"did": did, "handle": handle, "displayName": handle.split(".", maxsplit=1)[0]},
        "record": record,
        "replyCount": replies,
        "repostCount": reposts,
        "likeCount": likes,
        "quoteCount": quotes,
        "indexedAt": iso_ms_z(at + timedelta(seconds=2)),
    }


def bluesky_profile(did: str, handle: str, followers: int) -> dict:
    return {
        "did": did,
        "handle": handle,
        "displayName": handle.split(".", maxsplit=1)[0],
        "followersCount": followers,
        "followsCount": 100,
        "postsCount": 500,
    }


def news_item(
    title: str, publisher: str, domain: str, at: datetime, description: str, guid: str
) -> dict:
    """A Google News RSS item: the title carries ' - Publisher'."""
    return {
        "title": f"{title} - {publisher}",
        "link": f"https://news.google.com/rss/articles/{guid}",
        "guid": guid,
        "pubDate": rfc822(at),
        "description": f'<a href="https://{domain}/">{html.escape(title)}</a>&nbsp;&nbsp;'
        f'<font color="#6f6f6f">{html.escape(publisher)}</font> {html.escape(description)}',
        "source": {"url": f"https://{domain}", "name": publisher},
    }


def v2ex_topic(tid: int, at: datetime, member: dict, title: str, text: str, replies: int) -> dict:
    return {
        "id": tid,
        "title": title,
        "url": f"https://www.v2ex.com/t/{tid}",
        "content": text,
        "content_rendered": f"<p>{html.escape(text)}</p>",
        "replies": replies,
        "member": {
            "id": member["id"],
            "username": member["handle"],
            "url": f"https://www.v2ex.com/member/{member['handle']}",
        },
        "node": {"name": "career", "title": "职场话题"},
        "created": int(at.timestamp()),
        "last_modified": int(at.timestamp()),
    }


def v2ex_reply(rid: int, topic_id: int, at: datetime, member: dict, text: str) -> dict:
    return {
        "id": rid,
        "topic_id": topic_id,
        "content": text,
        "content_rendered": html.escape(text),
        "member": {
            "id": member["id"],
            "username": member["handle"],
            "url": f"https://www.v2ex.com/member/{member['handle']}",
        },
        "created": int(at.timestamp()),
    }


def toutiao_article(aid: str, at: datetime, title: str, text: str) -> dict:
    """The official statement as the pages spider reads it from the article page."""
    return {
        "id": aid,
        "url": f"https://www.toutiao.com/article/{aid}/",
        "title": title,
        "text": text,
        "author": {"name": "字节跳动", "id": "bytedance", "official": True},
        "published": at.astimezone(CST).isoformat(),
        "lang": "zh",
    }
