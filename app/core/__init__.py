"""The base every layer stands on, free of the web framework.

Settings, the database engine and sessions, the problem exceptions, who is calling, log-safe text, the
Prometheus series, backups.
"""
