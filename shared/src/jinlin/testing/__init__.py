"""Test fixtures every package reuses: real nats-server, SQLite files, PostgreSQL databases."""
