"""Page-number paging with an RFC 8288 `Link` header, the way GitHub (and many APIs) do it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from spreadwatch.replay.server import ReplayRequest


def page_of(
    items: list[Any],
    request: ReplayRequest,
    default: int = 30,
    maximum: int = 100,
    path: str | None = None,
) -> tuple[list[Any], dict[str, str]]:
    """The slice of `items` for the request's `page`/`per_page`, and the `Link` header for it.

    `path` puts another path than the request's in the links (GitHub links repository lists by
    the repository's id: `/repositories/1234/stargazers?page=2`).
    """
    per_page = request.int_param("per_page", default, 1, maximum)
    page = request.int_param("page", 1)
    last = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    if page < last:
        links.append(f'<{_url(request, page + 1, path)}>; rel="next"')
        links.append(f'<{_url(request, last, path)}>; rel="last"')
    if page > 1:
        links.append(f'<{_url(request, 1, path)}>; rel="first"')
        links.append(f'<{_url(request, page - 1, path)}>; rel="prev"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


def _url(request: ReplayRequest, page: int, path: str | None = None) -> str:
    query = {k: v for k, v in request.query.items() if k != "page"}
    query["page"] = str(page)
    return f"{request.base_url}{path or request.path}?{urlencode(query)}"
