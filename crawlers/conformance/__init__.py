"""The conformance check: recorded real API responses read the way the spiders read them.

`python -m crawlers.conformance DIR` feeds every record of DIR (a `real-responses` folder:
`<platform>.jsonl` files, see its README) through the parser the platform's spider uses and
every ingest stage (validate, normalise, match with every post kept, stance, fingerprint),
compares each document with what the record itself says (`crawlers.conformance.expected`,
written apart from the parsers) and prints a table per platform: records, records read with every field right, documents, wrong or missing fields by
field, counted drops by reason, crashes. It exits 1 on any crash and on any wrong id, time, URL,
text, links or repost/reply/quote/thread edge of a record in a current shape (old shapes, such as
GitHub's 2012 answers, may be refused with a counted drop), 2 when DIR is not such a folder.
"""
