"""The billing-escrow HTTP API."""
