"""Evidence that survives deletion: WARC captures of what was said, and their export.

`crawlers/` hands each matching post's raw exchange (request and response as fetched) to
`evidence.capture`; `evidence.warcstore` appends them to per-incident, per-day WARC files under
the data folder with secrets stripped; `evidence.export` packs an incident's records into a WACZ
with an index page and a CSV manifest; `evidence.render` captures official pages as rendered by
headless Chromium. Depends on `indexer/` (to read posts) and the plain models only.
"""
