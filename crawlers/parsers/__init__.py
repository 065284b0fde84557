"""Pure parsers: one platform's API JSON or HTML in, `crawlers.items.Post`/`Activity` out.

They do no I/O, so they are tested on fixtures of each API's real shape, and the spiders,
the Jetstream consumer and the replay servers share them. A record of an unexpected shape raises
`ParseError` naming the field; callers count it as a drop and go on.
"""

from crawlers.parsers.common import ParseError

__all__ = ["ParseError"]
