"""What the console knows without any I/O: verifying and ordering events, evidence files, charts, words."""
