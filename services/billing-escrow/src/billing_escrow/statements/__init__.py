"""The notary's statements as documents: signed JSON, ISO 20022 camt.053 XML, a PDF in Chinese; their offline
verification; and the ``jinlin notary`` commands.

- ``keys``: the center's Ed25519 signing key (``load_or_create_signing_key``), public key export and key id;
- ``render``: ``statement_documents`` / ``render_documents`` and ``sign_statement_event`` (for the application layer);
- ``verify``: ``verify_statement_files`` (signature, chain, arithmetic, XML = JSON);
- ``pull``: fetching new statements from NATS as the notary's user;
- ``camt``, ``pdf``, ``signing``: the forms themselves.

This package imports nothing at load time, so the ``jinlin`` command can load its CLI plugin cheaply.
"""
