"""The mediation service's adapters: HTTP (the API, a party's own case) and the printable documents (HTML, PDF)."""
