"""A jinlin service's container entry point: ``serve.py`` runs the service named by ``JINLIN_SERVICE`` under
uvicorn; ``serve.py check`` is the health check (exit 0 when its ``/readyz`` answers 200).

Everything else comes from the service's own settings (``JINLIN_<SERVICE>_DATABASE_URL``, ``..._NATS_URL``,
``..._NATS_CREDS``); host and port from ``JINLIN_<SERVICE>_HOST`` and ``..._PORT``.
"""

import os
import sys
import urllib.error
import urllib.request

import uvicorn

from jinlin.service import ServiceSpec, service_named

ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (inside a container; compose publishes the port on 127.0.0.1 only)


def _address(spec: ServiceSpec) -> tuple[str, int]:
    host = os.environ.get(f"{spec.env_prefix}HOST", ALL_INTERFACES)
    return host, int(os.environ.get(f"{spec.env_prefix}PORT", spec.default_port))


def check(spec: ServiceSpec) -> int:
    _, port = _address(spec)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


def serve(spec: ServiceSpec) -> int:
    host, port = _address(spec)
    uvicorn.run(
        spec.app_factory,
        factory=True,
        host=host,
        port=port,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    return 0


def main(argv: list[str]) -> int:
    name = os.environ.get("JINLIN_SERVICE")
    if not name:
        sys.stderr.write("serve.py: JINLIN_SERVICE is not set (the image is built with --build-arg SERVICE=...)\n")
        return 2
    spec = service_named(name)
    if argv == ["check"]:
        return check(spec)
    if argv:
        sys.stderr.write(f"serve.py: unknown arguments {argv!r}; use no argument, or 'check'\n")
        return 2
    return serve(spec)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
