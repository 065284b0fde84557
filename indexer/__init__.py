"""Elasticsearch: connection, embedded node, mappings, writer, analytics, Kibana objects.

This package imports nothing from crawlers/, scheduler/, alerts/ or the CLI; it may use the
shared models `spreadwatch.settings` and `spreadwatch.incident`.
"""
