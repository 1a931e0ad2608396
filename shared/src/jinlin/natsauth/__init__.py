"""NATS users and permissions: a key per service, the staff console, the notary and the provisioner, and the
server config include that grants each of them only what it needs (``jinlin nats init-auth``).

The modules are imported on their own (``jinlin.natsauth.keys`` by the NATS connection), so this package imports
nothing at load time.
"""
