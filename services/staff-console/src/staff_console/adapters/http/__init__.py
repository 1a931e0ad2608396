"""The console's web pages, its live stream and its forms."""
