"""``jinlin demo``: the Jinyuan Huating (金园华庭) direct-supply electricity handover, played through the services'
public HTTP APIs as the center's staff would.

- :mod:`jinlin.demo.story`: who and what (the compound, the residents' complaints, the parties, the households,
  the amounts), all fixed, so that a second playing sends the very same requests.
- :mod:`jinlin.demo.client`: a small HTTP client that sends every command with an ``Idempotency-Key`` derived from
  its step and retries it with the same key when the connection fails.
- :mod:`jinlin.demo.script`: the story, phase by phase, waiting for what other services do in reply (the case
  opened by the escalation, the complaints resolved by the agreement, the term fulfilled by the arrears payment).
- :mod:`jinlin.demo.staff`: who plays which part: ``jinlin up``'s development staff and a second finance desk member
  (a payment out is co-signed by someone other than its requester).
- :mod:`jinlin.demo.cli`: the ``jinlin demo`` command (``--up`` starts the stack first and keeps it running;
  ``make demo``).

Playing it twice duplicates nothing: each command's key replays its first answer, request bodies are derived only
from the story and from earlier (replayed) answers, and the bulk steps (households, payments, meters) first look at
what is already there.

Nothing is imported here: ``jinlin`` loads the command's module on every start, and it should stay light.
"""
