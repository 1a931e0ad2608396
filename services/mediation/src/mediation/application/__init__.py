"""The mediation service's use cases: commands on cases, the consumers that open cases from the complaints desk's
escalations and fulfil obligations from other services' events, the overdue watcher, and the read models."""
