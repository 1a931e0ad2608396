"""What connects the complaints service to the world: HTTP (its own API and Open311) and NATS."""
