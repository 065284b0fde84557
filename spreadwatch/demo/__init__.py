"""The founding case replayed end to end: a reconstructed dataset, its truth, and `spreadwatch demo`.

The dataset is a RECONSTRUCTION of the October 2024 ByteDance-intern rumour from public reporting:
every post, author and follower count in it is generated (see `generate.py`), none is a real post.
Its timeline follows the reporting's anchors; `data/truth.json` records what the generator knows
(origin, first post per platform, denial time, phase boundaries) so the demo's story can be checked.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

#: The demo's incident file (its id, bytedance-intern-2024-demo, names what the demo indexes).
DEMO_INCIDENT_FILE = Path(__file__).parent / "incident.yml"

#: Simulated hours per wall second: the incident's 12 days paced over two minutes (the rounds'
#: crawls take longer on a 2-core machine: about 8 minutes, docs/benchmarks.md `bench_demo`).
DEFAULT_SPEED = 2.4
#: Simulated time between crawl rounds.
DEFAULT_ROUND = timedelta(hours=6)

RECONSTRUCTION_NOTICE = (
    "RECONSTRUCTION: the posts in this demo are generated from public reporting on the October "
    "2024 ByteDance-intern rumour; they are not real posts and the authors are not real people."
)
