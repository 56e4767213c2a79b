"""Accounts' pages (server-rendered, the same services as the API): organizations, their
members, API keys, settings, audit log, export and deletion."""
