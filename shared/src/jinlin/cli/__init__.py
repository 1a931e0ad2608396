"""The ``jinlin`` command."""
