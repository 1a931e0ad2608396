"""What connects the billing-escrow service to the world: its HTTP API (NATS is the kernel's relay)."""
