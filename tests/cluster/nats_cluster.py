"""Three ``nats-server`` processes clustered over loopback, as three machines would be.

Each node is a :class:`~jinlin.runtime.nats_server.NatsServer` (its own ports, data directory and JetStream store,
``sync_interval: always``, a distinct ``server_name``) with a ``cluster`` block routing to the others under one
cluster name, and the same ``auth.conf`` that ``jinlin nats init-auth`` writes. Routes are not authenticated: on
loopback only this machine reaches them (on real machines, give the cluster block an ``authorization`` of its own
and keep the route port off the public network).

What the tests look at comes from each node's monitoring endpoint (``/jsz``): the JetStream meta group's leader and
each stream's last sequence *as that node holds it*, which is how a restarted node is seen to have caught up.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from jinlin.natsauth.config import include_directive
from jinlin.runtime.nats_server import NatsServer
from jinlin.runtime.ports import free_port

CLUSTER_NAME = "jinlin"


@dataclass
class NatsCluster:
    root: Path
    auth_config: Path | None = None
    """``auth.conf`` of ``jinlin nats init-auth``; ``None`` runs without authentication."""
    size: int = 3
    host: str = "127.0.0.1"
    nodes: list[NatsServer] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        # Every port chosen up front and kept: a node restarts where its peers and clients expect it.
        route_ports = [free_port(self.host) for _ in range(self.size)]
        for index in range(self.size):
            node = NatsServer(
                data_dir=self.root / f"node-{index}",
                port=free_port(self.host),
                monitor_port=free_port(self.host),
                host=self.host,
            )
            routes = ", ".join(f'"nats-route://{self.host}:{port}"' for i, port in enumerate(route_ports) if i != index)
            node.extra_config = (
                f'cluster {{\n  name: {CLUSTER_NAME}\n  listen: "{self.host}:{route_ports[index]}"\n'
                f"  routes: [{routes}]\n}}\n"
            )
            if self.auth_config is not None:
                node.extra_config += include_directive(node.config_path, self.auth_config)
            self.nodes.append(node)

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def nats_url(self) -> str:
        """The services' setting: every node, comma-separated."""
        return ",".join(self.urls)

    def start(self) -> None:
        for node in self.nodes:
            node.start()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def pid(self, index: int) -> int | None:
        process = self.nodes[index].process
        return process.pid if process is not None else None

    # -- what each node says ---------------------------------------------------------------------------------

    def jsz(self, index: int, *, timeout: float = 2.0) -> dict[str, Any]:
        node = self.nodes[index]
        answer = httpx.get(f"http://127.0.0.1:{node.monitor_port}/jsz?streams=true&config=true", timeout=timeout)
        answer.raise_for_status()
        body: dict[str, Any] = answer.json()
        return body

    def meta_leader(self, index: int) -> str | None:
        """The JetStream meta group's leader as node ``index`` sees it (``None`` while there is none)."""
        meta = self.jsz(index).get("meta_cluster") or {}
        leader = meta.get("leader")
        return str(leader) if leader else None

    def stream_states(self, index: int) -> dict[str, dict[str, Any]]:
        """Each stream node ``index`` holds a replica of: its state there and its cluster view."""
        states: dict[str, dict[str, Any]] = {}
        for account in self.jsz(index).get("account_details") or []:
            for stream in account.get("stream_detail") or []:
                states[stream["name"]] = {
                    "last_seq": stream["state"]["last_seq"],
                    "messages": stream["state"]["messages"],
                    "replicas": stream["config"]["num_replicas"] if stream.get("config") else None,
                    "leader": (stream.get("cluster") or {}).get("leader"),
                }
        return states

    def stream_leader(self, stream: str) -> int | None:
        """The index of the node leading ``stream``, as the nodes that answer say."""
        names = {node.server_name: index for index, node in enumerate(self.nodes)}
        for index in range(self.size):
            if not self.nodes[index].running:
                continue
            try:
                leader = self.stream_states(index).get(stream, {}).get("leader")
            except httpx.HTTPError:
                continue
            if leader in names:
                return names[leader]
        return None

    def describe(self) -> str:
        lines = []
        for index, node in enumerate(self.nodes):
            try:
                states = json.dumps(self.stream_states(index), sort_keys=True) if node.running else "(down)"
            except httpx.HTTPError as error:
                states = f"(no answer: {type(error).__name__})"
            lines.append(f"node {index} {node.server_name} pid {self.pid(index)}: {states}")
        return "\n".join(lines)

    def log(self, index: int, lines: int = 30) -> str:
        path = self.nodes[index].data_dir / "nats-server.log"
        try:
            return os.linesep.join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
