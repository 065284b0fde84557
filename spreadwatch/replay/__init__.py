"""Local replay servers for the outside world: real-shaped API responses from local data.

Tests, benchmarks and the demo start a `ReplayServer` around a platform app (`GithubReplay`,
`FeedsReplay`, `PagesReplay`, ...) and point `SPREADWATCH_<SOURCE>_BASE_URL` at its `url`.
"""

from spreadwatch.replay.server import (
    REPLAY_NETWORKS,
    LoggedRequest,
    ReplayApp,
    ReplayRequest,
    ReplayServer,
    Reply,
    parse_time,
    visible,
)

__all__ = [
    "REPLAY_NETWORKS",
    "LoggedRequest",
    "ReplayApp",
    "ReplayRequest",
    "ReplayServer",
    "Reply",
    "parse_time",
    "visible",
]
