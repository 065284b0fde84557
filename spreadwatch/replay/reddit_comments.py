"""Reddit comment trees as the API serves them: `/comments/{article}` and `/api/morechildren`.

`/comments/{article}` answers a JSON array of two listings: the link (`t3`) alone, then its
top-level comments, each `t1` carrying its answers under `replies` (a `Listing`, or `""` when
it has none). At most `limit` comments come in the tree (pre-order, siblings by `sort`); the
rest are `more` stubs under the deepest comment that was served (or the link), each listing the
ids of the comments it stands for, which `/api/morechildren?link_id=&children=` (at most 100
ids) returns flat, under `json.data.things`. Only comments whose time has passed are in it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

#: The most comments one `/comments` answer holds (Reddit's cap for `limit`).
MAX_LIMIT = 500
#: The most ids one `/api/morechildren` call takes.
MAX_CHILDREN = 100

Thing = dict[str, Any]


def created(thing: Thing) -> float:
    value = thing["data"].get("created_utc")
    return float(value) if isinstance(value, int | float) else 0.0


def listing(children: list[Thing]) -> Thing:
    data = {"after": None, "before": None, "dist": None, "modhash": "", "geo_filter": "",
            "children": children}  # fmt: skip
    return {"kind": "Listing", "data": data}


class CommentTree:
    """The visible comments of one link, by parent fullname, in the order `sort` asks for."""

    def __init__(self, things: list[Thing], link: str, now: float, sort: str = "new") -> None:
        self.link = link
        comments = [
            t for t in things
            if t.get("kind") == "t1" and t["data"].get("link_id") == link and created(t) <= now
        ]  # fmt: skip
        if sort == "old":
            comments.sort(key=created)
        elif sort == "top":
            comments.sort(key=lambda t: (-(t["data"].get("score") or 0), created(t)))
        else:  # new (and the orders the replay does not rank: confidence, hot...)
            comments.sort(key=created, reverse=True)
        self.children: dict[str, list[Thing]] = {}
        for comment in comments:
            self.children.setdefault(str(comment["data"].get("parent_id")), []).append(comment)

    def preorder(self, parent: str) -> Iterator[Thing]:
        for child in self.children.get(parent, []):
            yield child
            yield from self.preorder(str(child["data"].get("name")))

    def page(self, limit: int) -> list[Thing]:
        """The top-level listing's children: up to `limit` comments, the rest as `more` stubs."""
        served = {str(t["data"]["name"]) for t in list(self.preorder(self.link))[:limit]}
        return self._level(self.link, served, depth=0)

    def _level(self, parent: str, served: set[str], depth: int) -> list[Thing]:
        out: list[Thing] = []
        left: list[str] = []
        for child in self.children.get(parent, []):
            name = str(child["data"]["name"])
            if name not in served:
                left += [str(child["data"]["id"])]
                left += [str(t["data"]["id"]) for t in self.preorder(name)]
                continue
            thing = copy.deepcopy(child)
            answers = self._level(name, served, depth + 1)
            thing["data"]["replies"] = listing(answers) if answers else ""
            thing["data"]["depth"] = depth
            out.append(thing)
        if left:
            out.append(_more(parent, left, depth))
        return out

    def flat(self, ids: list[str]) -> list[Thing]:
        """The comments named by `ids` (base-36, no prefix), without their answers."""
        wanted = set(ids)
        found = [t for t in self.preorder(self.link) if str(t["data"].get("id")) in wanted]
        return [_without_replies(t) for t in found]


def _more(parent: str, ids: list[str], depth: int) -> Thing:
    first = ids[0]
    data = {"count": len(ids), "name": f"t1_{first}", "id": first, "parent_id": parent,
            "depth": depth, "children": ids}  # fmt: skip
    return {"kind": "more", "data": data}


def _without_replies(thing: Thing) -> Thing:
    flat = copy.deepcopy(thing)
    flat["data"]["replies"] = ""
    return flat
