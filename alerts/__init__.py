"""Alert rules, their evaluation against Elasticsearch, and e-mail rendering and sending."""
