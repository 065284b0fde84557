"""Send a bundle to Kibana's saved-objects import API and say honestly what happened.

Kibana answers HTTP 200 even when some objects failed (`success: false` with an `errors` list),
so a 200 alone is never reported as success. Uses only the standard library: one multipart POST
does not justify an HTTP client dependency.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib import error, request
from urllib.parse import quote, urlsplit

logger = logging.getLogger(__name__)


class KibanaImportError(RuntimeError):
    """Kibana refused the whole import, or could not be reached; the message says why."""


@dataclass(frozen=True)
class ObjectError:
    """One object Kibana did not import, with the reason in its own words."""

    type: str
    id: str
    title: str
    reason: str
    detail: str = ""

    def describe(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.type} {self.id} [{self.title}]: {self.reason}{extra}"


@dataclass(frozen=True)
class ImportResult:
    success: bool
    success_count: int
    errors: list[ObjectError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_url(base_url: str, space: str | None) -> str:
    """`/api/saved_objects/_import`, under `/s/<space>` for a space other than the default."""
    parts = urlsplit(base_url)
    if parts.username or parts.password:
        # Never echoed back: the URL may hold a password.
        raise ValueError(
            "put Kibana credentials in an API key or --user + SPREADWATCH_KIBANA_PASSWORD, "
            "not in the URL"
        )
    try:
        _ = parts.port
    except ValueError:
        raise ValueError(f"Kibana URL has an invalid port: {base_url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Kibana URL must look like http://host:5601, got {base_url!r}")
    root = base_url.rstrip("/")
    if space and space != "default":
        root += f"/s/{quote(space, safe='')}"
    return f"{root}/api/saved_objects/_import?overwrite=true"


def _multipart(ndjson: str, filename: str) -> tuple[bytes, str]:
    boundary = f"spreadwatch-{uuid.uuid4().hex}"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    )
    body = head.encode() + ndjson.encode("utf-8") + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def import_objects(
    ndjson: str,
    base_url: str,
    *,
    space: str | None = None,
    api_key: str | None = None,
    basic_auth: tuple[str, str] | None = None,
    filename: str = "spreadwatch.ndjson",
    overwrite: bool = True,
    timeout: float = 60.0,
) -> ImportResult:
    """POST the bundle; raise `KibanaImportError` when Kibana refuses the request itself."""
    if not filename.endswith(".ndjson"):
        raise ValueError(f"Kibana imports only *.ndjson files, not {filename!r}")
    url = import_url(base_url, space)
    if not overwrite:
        url = url.replace("?overwrite=true", "")
    body, content_type = _multipart(ndjson, filename)
    headers = {"kbn-xsrf": "true", "Content-Type": content_type}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    elif basic_auth is not None:
        token = base64.b64encode(":".join(basic_auth).encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    req = request.Request(url, data=body, headers=headers, method="POST")
    logger.info("importing %d saved objects into %s", ndjson.count("\n"), url)
    try:
        with request.urlopen(req, timeout=timeout) as response:
            payload = json.loads(response.read() or b"{}")
    except error.HTTPError as refused:
        raise KibanaImportError(_refusal(url, refused)) from None
    except (error.URLError, TimeoutError, ConnectionError) as unreachable:
        reason = getattr(unreachable, "reason", unreachable)
        raise KibanaImportError(f"cannot reach Kibana at {url}: {reason}") from None
    except json.JSONDecodeError:
        raise KibanaImportError(f"Kibana at {url} answered something that is not JSON") from None
    return parse_result(payload)


def _refusal(url: str, refused: error.HTTPError) -> str:
    raw = refused.read()
    try:
        message = json.loads(raw).get("message") or raw.decode(errors="replace")
    except (json.JSONDecodeError, AttributeError):
        message = raw.decode(errors="replace")[:300]
    hint = {
        401: " (check --api-key / SPREADWATCH_KIBANA_API_KEY, or --user and SPREADWATCH_KIBANA_PASSWORD)",
        403: " (the API key lacks saved-object privileges in this space)",
        404: " (unknown space, or not a Kibana URL)",
        422: " (the bundle is newer than this Kibana; spreadwatch targets 8.19 and later)",
    }.get(refused.code, "")
    return f"Kibana refused the import ({refused.code}): {message}{hint}"


def parse_result(payload: dict[str, Any]) -> ImportResult:
    """Kibana's import answer as a result; `success` only when Kibana says so and no error."""
    errors = [_object_error(item) for item in payload.get("errors") or []]
    warnings = [str(w.get("message", w)) for w in payload.get("warnings") or []]
    return ImportResult(
        success=bool(payload.get("success")) and not errors,
        success_count=int(payload.get("successCount") or 0),
        errors=errors,
        warnings=warnings,
    )


def _object_error(item: dict[str, Any]) -> ObjectError:
    problem = item.get("error") or {}
    reason = str(problem.get("type", "unknown"))
    detail = ""
    if reason == "missing_references":
        refs = problem.get("references") or []
        detail = "missing " + ", ".join(f"{r.get('type')} {r.get('id')}" for r in refs)
    elif reason in ("conflict", "ambiguous_conflict"):
        detail = "already exists; import with overwrite"
    elif "message" in problem:
        detail = str(problem["message"])
    title = item.get("title") or (item.get("meta") or {}).get("title") or ""
    return ObjectError(
        type=str(item.get("type")),
        id=str(item.get("id")),
        title=title,
        reason=reason,
        detail=detail,
    )
