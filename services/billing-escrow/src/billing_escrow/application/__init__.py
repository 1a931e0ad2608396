"""The billing-escrow use cases: loading and changing aggregates, read models, policies and watchers."""
