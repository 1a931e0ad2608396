"""The console's durable JetStream consumers: one per service stream, each reading all of that service's events.

Their names are the ones the console's NATS user is allowed to use (``jinlin.natsauth.policy``); the processed-
message claims in the console's database are kept under the same names.
"""

from dataclasses import dataclass

from staff_console.settings import ConsoleSettings


@dataclass(frozen=True)
class Durable:
    name: str
    stream: str
    subjects: str


def console_durables(settings: ConsoleSettings) -> list[Durable]:
    return [
        Durable("console-complaints", settings.complaints_stream, "jinlin.complaints.>"),
        Durable("console-mediation", settings.mediation_stream, "jinlin.mediation.>"),
        Durable("console-escrow", settings.escrow_stream, "jinlin.escrow.>"),
    ]
