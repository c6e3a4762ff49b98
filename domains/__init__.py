"""Domains: outside systems hookstream syncs with (Airtable, SQL), one package each.

A domain package imports `common/` and third-party libraries only, so the
ingress, the workers and the CLI all use the same logic.
"""
