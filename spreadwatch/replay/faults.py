"""Scripted bad replies, for `ReplayServer.script(pattern, [...])`.

These are what real APIs do to a crawler on a bad day: rate limits (403/429 with the platform's
headers and `retry-after`), server errors, truncated JSON, a huge body, garbage bytes, and markup
or script inside text. Each builder returns a `Reply`; one scripted reply answers one request.
"""

from __future__ import annotations

import json
import time
from typing import Any

from spreadwatch.replay.server import Reply


def rate_limited(
    status: int = 429,
    retry_after: float | None = 1,
    reset_in: float | None = None,
    resource: str = "core",
    message: str = "API rate limit exceeded",
) -> Reply:
    """A GitHub-style rate-limit reply: `x-ratelimit-remaining: 0`, reset epoch, `retry-after`."""
    headers = {
        "x-ratelimit-limit": "60",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "60",
        "x-ratelimit-resource": resource,
    }
    if reset_in is not None:
        headers["x-ratelimit-reset"] = str(int(time.time() + reset_in))
    if retry_after is not None:
        headers["retry-after"] = str(int(retry_after))
    body = {"message": message, "documentation_url": "https://docs.github.com/rest/rate-limit"}
    reply = Reply.json(body, status=status).with_headers(headers)
    reply.etag = False
    return reply


def graphql_rate_limited(reset_in: float = 1) -> Reply:
    """GitHub's GraphQL rate limit: HTTP 200 with an error of type `RATE_LIMITED`
    (github/docs#22607) and the `graphql` resource's headers at 0."""
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "5000",
        "x-ratelimit-resource": "graphql",
        "x-ratelimit-reset": str(int(time.time() + reset_in)),
    }
    body = {
        "errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]
    }
    reply = Reply.json(body).with_headers(headers)
    reply.etag = False
    return reply


def secondary_limit(
    retry_after: float | None = 60, resource: str = "core", remaining: int = 4990
) -> Reply:
    """GitHub's secondary rate limit: a 403 while the primary budget still has requests left
    (`x-ratelimit-remaining` above 0), with `retry-after` when GitHub sends one."""
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-used": str(5000 - remaining),
        "x-ratelimit-reset": str(int(time.time() + 3600)),
        "x-ratelimit-resource": resource,
    }
    if retry_after is not None:
        headers["retry-after"] = str(int(retry_after))
    body = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before "
        "you try again. If you reach out to GitHub Support for help, please include the request "
        "ID 0431:1C2F:3E7B21:7C1E64:61DA1F8E.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        "#about-secondary-rate-limits",
    }
    reply = Reply.json(body, status=403).with_headers(headers)
    reply.etag = False
    return reply


def forbidden(message: str = "Resource not accessible") -> Reply:
    """A plain 403 (no rate-limit headers at zero): a refusal, not something to wait out."""
    reply = Reply.json({"message": message}, status=403)
    reply.etag = False
    return reply


def server_error(
    status: int = 502, body: str = "Bad Gateway", content_type: str = "text/plain; charset=utf-8"
) -> Reply:
    reply = Reply.text(body, content_type, status=status)
    reply.etag = False
    return reply


#: nginx's reason phrases for the errors it answers itself when the server behind it fails.
GATEWAY_REASONS = {
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


def gateway_error(status: int = 502) -> Reply:
    """What a reverse proxy in front of a service (nginx, as a Kubernetes ingress runs it)
    answers when the host behind it is down (502), has no live upstream (503) or does not answer
    in time (504): its own HTML page, not the service's format."""
    title = f"{status} {GATEWAY_REASONS[status]}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return server_error(status, page, "text/html")


def truncated_json(data: Any, keep: float = 0.6) -> Reply:
    """A 200 whose JSON body stops part-way (a dropped connection behind a proxy)."""
    body = json.dumps(data).encode("utf-8")
    return Reply(status=200, body=body[: max(1, int(len(body) * keep))], etag=False)


def garbage(content_type: str = "application/json; charset=utf-8") -> Reply:
    """A 200 with bytes that are neither JSON nor XML nor UTF-8."""
    return Reply(
        status=200,
        body=b"\x00\xff\xfe<<not json>>\x9c\x80" * 8,
        content_type=content_type,
        etag=False,
    )


def connection_dropped() -> Reply:
    """No answer at all: the server closes the connection (a reset, a dead proxy)."""
    return Reply(status=0, etag=False, abort=True)


def stalled(seconds: float = 120.0) -> Reply:
    """A server that holds the request this long, then drops it (a hung upstream)."""
    return Reply(status=0, etag=False, abort=True, delay=seconds)


def huge_body(size: int = 2 * 1024 * 1024, content_type: str = "application/json") -> Reply:
    """A 200 of `size` bytes (default 2 MB) of valid JSON: a list of long strings."""
    chunk = json.dumps("x" * 1000)
    count = max(1, size // (len(chunk) + 1))
    body = ("[" + ",".join([chunk] * count) + "]").encode("utf-8")
    return Reply(status=200, body=body, content_type=content_type, etag=False)


#: Text that must come out of a crawl as inert text, never as markup or script.
HOSTILE_TEXT = (
    '<script>alert("x")</script><img src=x onerror="alert(1)">'
    "<b>bold</b> &lt;escaped&gt; javascript:alert(2)"
)
