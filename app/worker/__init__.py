"""The background worker: its loop, the outbox fan-out, webhook delivery and the mail queue."""
