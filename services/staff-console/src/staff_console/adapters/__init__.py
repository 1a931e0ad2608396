"""The console's edges: its web pages and live stream, the services' HTTP APIs, its keys."""
