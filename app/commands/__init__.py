"""Command functions registered on the `upr-match` CLI (app/cli.py)."""
