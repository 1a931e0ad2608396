"""The staff console: the center's web UI, built from every service's events (see ``bootstrap``)."""
