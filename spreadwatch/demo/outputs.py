"""What the demo leaves in its output folder: report, alert e-mails, Kibana objects, the story.

Each file is made by the project's own code — the HTML report by `spreadwatch.report`, the
NDJSON by `indexer.kibana` — from what the demo indexed; the e-mails are the bytes the SMTP
server received. The report is as of `now`, the simulated clock's end of the story (its phases,
time since onset and "generated" line), as the alerts were as of each round's moment.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from indexer.connection import IndexNames
from indexer.kibana import build_bundle, write_ndjson
from indexer.kibana.facts import dashboard_facts
from spreadwatch.demo import RECONSTRUCTION_NOTICE
from spreadwatch.demo.smtp_sink import SmtpSink
from spreadwatch.demo.story import Story, render_story
from spreadwatch.incident import Incident
from spreadwatch.report import collect, write_report


def write_outputs(
    client: Elasticsearch,
    *,
    names: IndexNames,
    incident: Incident,
    story: Story,
    sink: SmtpSink,
    out: Path,
    now: datetime,
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    description = f"{RECONSTRUCTION_NOTICE} {incident.description}"
    data = collect(
        client, names, incident.id, title=incident.title, description=description, now=now
    )
    written.append(write_report(data, out / "report.html"))
    written += sink.write_eml(out / "emails")
    bundle = build_bundle(names.prefix, [dashboard_facts(client, names, incident)])
    written.append(write_ndjson(bundle, out / "kibana.ndjson"))
    story_txt = out / "story.txt"
    story_txt.write_text(render_story(story) + "\n", encoding="utf-8")
    story_json = out / "story.json"
    story_json.write_text(
        json.dumps(story.as_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    written += [story_txt, story_json]
    return written
