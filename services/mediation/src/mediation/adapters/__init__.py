"""The mediation service's adapters: HTTP (the API and the printable documents)."""
