"""``python -m jinlin.contracts SERVICE [--docs DIR] [--check]``: rewrite (or check) a service's event documents.

The service's contract is ``CONTRACT`` in ``<package>.contracts``, the package being the one of its app factory.
"""

import argparse
import importlib
import sys
from importlib.metadata import entry_points
from pathlib import Path

from jinlin.contracts.files import drift, write
from jinlin.contracts.model import ServiceContract
from jinlin.service import ENTRY_POINT_GROUP, ServiceSpec, service_named


def _spec(name: str) -> ServiceSpec:
    # The entry point of that name alone, so that another service failing to import does not stop this one.
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == name:
            spec = entry_point.load()
            if isinstance(spec, ServiceSpec):
                return spec
    return service_named(name)


def load_contract(name: str) -> ServiceContract:
    spec = _spec(name)
    package = spec.app_factory.split(":", 1)[0].split(".", 1)[0]
    contract = getattr(importlib.import_module(f"{package}.contracts"), "CONTRACT", None)
    if not isinstance(contract, ServiceContract):
        raise SystemExit(f"{package}.contracts has no CONTRACT (a jinlin.contracts.ServiceContract)")
    return contract


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jinlin.contracts", description=__doc__)
    parser.add_argument("service", nargs="+", help="service name or token, e.g. complaints")
    parser.add_argument("--docs", type=Path, default=Path("docs/events"), help="default: docs/events")
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    args = parser.parse_args(argv)
    failed = False
    for name in args.service:
        contract = load_contract(name)
        if args.check:
            problems = drift(contract, args.docs)
            for problem in problems:
                print(problem, file=sys.stderr)  # noqa: T201
            failed |= bool(problems)
        else:
            for path in write(contract, args.docs):
                print(f"wrote {args.docs / path}")  # noqa: T201
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
