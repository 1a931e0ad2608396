"""The mediation HTTP API: commands, queries and the printable documents."""
