"""The mediation HTTP API: the desk's commands and queries, the printable documents, and a party's own case."""
