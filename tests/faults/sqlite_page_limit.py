"""An app factory for the disk-full test: the real service, with every SQLite connection it opens limited to
``JINLIN_FAULTS_MAX_PAGE_COUNT`` pages, as if its disk were full past them.

SQLite's ``max_page_count`` belongs to a connection, not to the file, so it has to be set on the service's own
connections: a listener on every SQLAlchemy engine's "connect" event does it, with no change to the service.
Run by uvicorn in the service's process (``uvicorn --factory sqlite_page_limit:create_app``, with this directory on
``PYTHONPATH``); ``JINLIN_FAULTS_APP_FACTORY`` names the real factory.
"""

import importlib
import os
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

LIMIT_ENV = "JINLIN_FAULTS_MAX_PAGE_COUNT"
FACTORY_ENV = "JINLIN_FAULTS_APP_FACTORY"


def create_app() -> Any:
    limit = int(os.environ[LIMIT_ENV])

    @event.listens_for(Engine, "connect")
    def limit_pages(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count={limit}")
        cursor.close()

    module, _, name = os.environ[FACTORY_ENV].partition(":")
    return getattr(importlib.import_module(module), name)()
