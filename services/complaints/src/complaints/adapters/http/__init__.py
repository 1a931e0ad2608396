"""The complaints HTTP API."""
