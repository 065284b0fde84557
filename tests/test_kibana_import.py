"""Importing into Kibana, against a local server that checks requests the way Kibana does.

The server enforces what Kibana's saved-objects import route enforces (`kbn-xsrf`, multipart
field `file`, a `.ndjson` file name, `overwrite`/`createNewCopies` exclusive, API-key auth, the
space in the path, refusing objects newer than itself) and answers with Kibana's own body shapes:
HTTP 200 with `success: false` and per-object `conflict` / `missing_references` /
`unsupported_type` errors, 400 / 401 / 404 / 422 with `{statusCode, error, message}`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

from indexer.kibana import DashboardFacts, build_bundle, to_ndjson
from indexer.kibana.importer import KibanaImportError, import_objects, import_url
from indexer.kibana.versions import version_tuple
from spreadwatch.cli import cli

API_KEY = "c3ByZWFkd2F0Y2g6dGVzdA=="
BASIC = "Basic " + base64.b64encode(b"elastic:s3cret pass").decode()
SUPPORTED_TYPES = {"index-pattern", "lens", "search", "dashboard", "visualization", "tag"}
ROUTE = re.compile(r"^(?:/s/(?P<space>[a-z0-9_-]+))?/api/saved_objects/_import$")
FACTS = DashboardFacts("bytedance-intern-2024", "ByteDance", datetime(2024, 10, 17, tzinfo=UTC))


@dataclass
class LocalKibana:
    """State of the local Kibana (an HTTP server replying like the saved-objects import API):
    stored objects per space, its version, and the requests it saw."""

    version: str = "8.19.0"
    spaces: set[str] = field(default_factory=lambda: {"default", "comms"})
    stored: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


def _error(status: int, error: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"statusCode": status, "error": error, "message": message}


def _handle_import(kibana: LocalKibana, path: str, headers: Any, body: bytes) -> tuple[int, dict]:
    parts = urlsplit(path)
    route = ROUTE.match(parts.path)
    if route is None:
        return _error(404, "Not Found", "Not Found")
    if headers.get("kbn-xsrf") is None:
        return _error(400, "Bad Request", "Request must contain a kbn-xsrf header.")
    if headers.get("Authorization") not in (f"ApiKey {API_KEY}", BASIC):
        return _error(401, "Unauthorized", "[security_exception]: unable to authenticate")
    space = route.group("space") or "default"
    if space not in kibana.spaces:
        return _error(404, "Not Found", f"Saved object [space/{space}] not found")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    if query.get("overwrite") == "true" and query.get("createNewCopies") == "true":
        return _error(400, "Bad Request", "createNewCopies and overwrite cannot be used together")
    content_type = headers.get("Content-Type", "")
    if not content_type.startswith("multipart/form-data"):
        return _error(415, "Unsupported Media Type", "Unsupported Media Type")
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    files = {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}
    if "file" not in files:
        return _error(400, "Bad Request", "[request body.file]: expected value of type [object]")
    filename = files["file"].get_filename() or ""
    if not filename.endswith(".ndjson"):
        return _error(400, "Bad Request", f"Invalid file extension {Path(filename).suffix}")
    lines = files["file"].get_payload(decode=True).decode().splitlines()
    objects = [json.loads(line) for line in lines if line.strip()]
    kibana.requests.append({"space": space, "query": query, "objects": objects})
    return _import(kibana, space, objects, overwrite=query.get("overwrite") == "true")


def _import(
    kibana: LocalKibana, space: str, objects: list[dict[str, Any]], overwrite: bool
) -> tuple[int, dict]:
    for obj in objects:
        for key in ("typeMigrationVersion", "coreMigrationVersion"):
            if version_tuple(obj.get(key) or "0.0.0") > version_tuple(kibana.version):
                return _error(
                    422,
                    "Unprocessable Content",
                    f'Document "{obj["id"]}" belongs to a more recent version of Kibana '
                    f"[{obj[key]}] when the last known version is [{kibana.version}].",
                )
    in_file = {(o["type"], o["id"]) for o in objects}
    errors, results = [], []
    for obj in objects:
        meta = {"title": obj["attributes"].get("title", ""), "icon": obj["type"]}
        base = {"id": obj["id"], "type": obj["type"], "title": meta["title"], "meta": meta}
        missing = [
            {"type": r["type"], "id": r["id"]}
            for r in obj["references"]
            if (r["type"], r["id"]) not in in_file
            and (space, r["type"], r["id"]) not in kibana.stored
        ]
        if obj["type"] not in SUPPORTED_TYPES:
            errors.append({**base, "error": {"type": "unsupported_type"}})
        elif missing:
            errors.append({**base, "error": {"type": "missing_references", "references": missing}})
        elif (space, obj["type"], obj["id"]) in kibana.stored and not overwrite:
            errors.append({**base, "error": {"type": "conflict"}})
        else:
            kibana.stored[(space, obj["type"], obj["id"])] = obj
            results.append(
                {"type": obj["type"], "id": obj["id"], "meta": meta, "overwrite": overwrite}
            )
    return 200, {
        "successCount": len(results),
        "success": not errors,
        "warnings": [],
        "successResults": results,
        **({"errors": errors} if errors else {}),
    }


@pytest.fixture
def kibana() -> Iterator[LocalKibana]:
    state = LocalKibana()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, payload = _handle_import(state, self.path, self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


BUNDLE = build_bundle("swk", [FACTS])
NDJSON = to_ndjson(BUNDLE)


@pytest.mark.parametrize(
    "url", ["http://elastic:hunter2@k:5601", "ftp://k:5601", "k:5601", "http://k:notaport"]
)
def test_a_bad_kibana_url_is_refused_without_echoing_credentials(url: str) -> None:
    with pytest.raises(ValueError, match="Kibana") as refused:
        import_url(url, None)
    assert "hunter2" not in str(refused.value)


def test_a_clean_import_creates_every_object(kibana: LocalKibana) -> None:
    result = import_objects(NDJSON, kibana.url, api_key=API_KEY)
    assert (result.success, result.success_count, result.errors) == (True, len(BUNDLE), [])
    assert {(t, i) for _, t, i in kibana.stored} == {(o["type"], o["id"]) for o in BUNDLE}


def test_the_import_overwrites_earlier_copies(kibana: LocalKibana) -> None:
    import_objects(NDJSON, kibana.url, api_key=API_KEY)
    again = import_objects(NDJSON, kibana.url, api_key=API_KEY)
    assert again.success
    assert kibana.requests[-1]["query"] == {"overwrite": "true"}


def test_objects_go_into_the_named_space(kibana: LocalKibana) -> None:
    import_objects(NDJSON, kibana.url, space="comms", api_key=API_KEY)
    assert {space for space, _, _ in kibana.stored} == {"comms"}


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (None, "http://k:5601/api/saved_objects/_import?overwrite=true"),
        ("default", "http://k:5601/api/saved_objects/_import?overwrite=true"),
        ("comms", "http://k:5601/s/comms/api/saved_objects/_import?overwrite=true"),
    ],
)
def test_import_url_per_space(space: str | None, expected: str) -> None:
    assert import_url("http://k:5601/", space) == expected


def test_existing_objects_without_overwrite_are_reported_as_conflicts(kibana: LocalKibana) -> None:
    import_objects(NDJSON, kibana.url, api_key=API_KEY)
    result = import_objects(NDJSON, kibana.url, api_key=API_KEY, overwrite=False)
    assert not result.success
    assert {e.reason for e in result.errors} == {"conflict"}
    assert len(result.errors) == len(BUNDLE)


def test_missing_references_are_listed_per_object(kibana: LocalKibana) -> None:
    without_views = to_ndjson(o for o in BUNDLE if o["type"] != "index-pattern")
    result = import_objects(without_views, kibana.url, api_key=API_KEY)
    assert not result.success
    failed = {e.id for e in result.errors}
    users = {o["id"] for o in BUNDLE if any(r["type"] == "index-pattern" for r in o["references"])}
    assert failed == users
    assert result.success_count == 0
    dashboard = next(e for e in result.errors if e.type == "dashboard")
    assert dashboard.describe().endswith("missing_references (missing index-pattern swk-posts)")


def test_a_200_with_some_objects_failed_is_not_a_success(kibana: LocalKibana) -> None:
    odd = {**BUNDLE[0], "type": "weird-thing", "id": "x1"}
    result = import_objects(to_ndjson([*BUNDLE, odd]), kibana.url, api_key=API_KEY)
    assert (result.success, result.success_count) == (False, len(BUNDLE))
    assert [(e.id, e.reason) for e in result.errors] == [("x1", "unsupported_type")]


def test_a_bundle_newer_than_kibana_is_refused_with_the_reason(kibana: LocalKibana) -> None:
    kibana.version = "8.8.0"
    with pytest.raises(KibanaImportError, match=r"\(422\).*more recent version.*8\.19"):
        import_objects(NDJSON, kibana.url, api_key=API_KEY)
    assert kibana.stored == {}


def test_the_bundle_imports_into_the_oldest_supported_kibana(kibana: LocalKibana) -> None:
    kibana.version = "8.19.0"
    assert import_objects(NDJSON, kibana.url, api_key=API_KEY).success


def test_a_wrong_api_key_is_refused_with_a_hint(kibana: LocalKibana) -> None:
    with pytest.raises(KibanaImportError, match=r"\(401\).*--api-key"):
        import_objects(NDJSON, kibana.url, api_key="wrong")


def test_an_unknown_space_is_refused(kibana: LocalKibana) -> None:
    with pytest.raises(KibanaImportError, match=r"\(404\).*space/nope"):
        import_objects(NDJSON, kibana.url, space="nope", api_key=API_KEY)


def test_a_file_name_kibana_refuses_is_caught_before_sending(kibana: LocalKibana) -> None:
    with pytest.raises(ValueError, match=r"\.ndjson"):
        import_objects(NDJSON, kibana.url, api_key=API_KEY, filename="bundle.json")
    assert kibana.requests == []


def test_an_unreachable_kibana_is_a_clear_error() -> None:
    with pytest.raises(
        KibanaImportError, match=re.escape("cannot reach Kibana at http://127.0.0.1:9/")
    ):
        import_objects(NDJSON, "http://127.0.0.1:9", api_key=API_KEY, timeout=5)


def test_the_local_kibana_refuses_requests_without_kbn_xsrf(kibana: LocalKibana) -> None:
    """The server under the tests above checks the header (so those tests prove we send it)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"{kibana.url}/api/saved_objects/_import", data=b"x", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["message"] == "Request must contain a kbn-xsrf header."


# --- the command line -------------------------------------------------------------------------


def run(args: list[str], env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, args, env={"SPREADWATCH_KIBANA_API_KEY": API_KEY, **(env or {})})


def test_cli_imports_an_exported_file(kibana: LocalKibana, tmp_path: Path) -> None:
    bundle = tmp_path / "dash.ndjson"
    bundle.write_text(NDJSON, encoding="utf-8")
    result = run(["kibana", "import", "--url", kibana.url, "--file", str(bundle)])
    assert result.exit_code == 0, result.output
    assert f"imported {len(BUNDLE)} saved objects" in result.output
    assert len(kibana.stored) == len(BUNDLE)


def test_cli_lists_each_failed_object_and_exits_non_zero(
    kibana: LocalKibana, tmp_path: Path
) -> None:
    bundle = tmp_path / "partial.ndjson"
    bundle.write_text(
        to_ndjson(o for o in BUNDLE if o["type"] != "index-pattern"), encoding="utf-8"
    )
    result = run(["kibana", "import", "--url", kibana.url, "--file", str(bundle)])
    assert result.exit_code == 1
    assert "import incomplete: 0 imported" in result.output
    assert "dashboard swk-dashboard-bytedance-intern-2024" in result.output
    assert "missing_references" in result.output


def test_cli_never_prints_the_api_key(kibana: LocalKibana, tmp_path: Path) -> None:
    bundle = tmp_path / "dash.ndjson"
    bundle.write_text(NDJSON, encoding="utf-8")
    result = run(["kibana", "import", "--url", kibana.url, "--file", str(bundle)])
    assert API_KEY not in result.output


def test_cli_imports_with_a_user_and_the_password_from_the_environment(
    kibana: LocalKibana, tmp_path: Path
) -> None:
    bundle = tmp_path / "dash.ndjson"
    bundle.write_text(NDJSON, encoding="utf-8")
    env = {"SPREADWATCH_KIBANA_API_KEY": "", "SPREADWATCH_KIBANA_PASSWORD": "s3cret pass"}
    args = ["kibana", "import", "--url", kibana.url, "--user", "elastic", "--file", str(bundle)]
    result = run(args, env=env)
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output


def test_cli_import_without_a_url_is_a_usage_error() -> None:
    result = run(["kibana", "import"], env={"SPREADWATCH_KIBANA_URL": ""})
    assert result.exit_code == 2
    assert "--url" in result.output
