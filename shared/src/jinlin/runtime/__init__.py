"""Running real processes: the embedded nats-server and service children."""
