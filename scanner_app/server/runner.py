"""Running the hub: in a background thread (the desktop app, tests) or in the foreground."""

from __future__ import annotations

import asyncio
import copy
import errno
import socket
import threading
import time
from typing import Any

import uvicorn
import uvicorn.config

from scanner_app.core.node import Node
from scanner_app.server.app import create_app
from scanner_app.server.sockets import SocketLimits, guarded_protocol
from scanner_app.server.tls import ensure_certificate

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with its access log on stderr: stdout is for machine output (the
    organiser key `serve` prints once), logs are messages."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def uvicorn_config(
    app: Any,
    host: str,
    port: int,
    access_log: bool = False,
    limits: SocketLimits | None = None,
    tls: Any = None,
) -> uvicorn.Config:
    """`tls`: a server.tls.HubCertificate to serve HTTPS with (None: plain HTTP)."""
    return uvicorn.Config(
        app,
        # Read deadlines and connection caps (slowloris): see server/sockets.py.
        http=guarded_protocol(limits or SocketLimits()),
        host=host,
        port=port,
        log_config=_log_config(),
        # uvicorn logs each request at INFO: at "warning" the access log printed nothing.
        log_level="info" if access_log else "warning",
        access_log=access_log,
        lifespan="on",
        # One process: the node's single writer cannot be shared by worker processes.
        workers=1,
        timeout_keep_alive=30,
        timeout_graceful_shutdown=10,
        ssl_certfile=str(tls.cert_path) if tls else None,
        ssl_keyfile=str(tls.key_path) if tls else None,
    )


class HubUvicorn(uvicorn.Server):
    """uvicorn that first ends the dashboard's live streams when told to stop: open streams
    would otherwise hold a graceful shutdown for its whole timeout."""

    # A TLS client that connects and never completes its handshake is invisible to the
    # guarded protocol (it sees connections only after the handshake) and asyncio would keep
    # it 60 s; it gets the same deadline as a request's headers.
    def __init__(self, config: uvicorn.Config, handshake_timeout: float | None = None) -> None:
        super().__init__(config)
        self.handshake_timeout = handshake_timeout or SocketLimits().header_timeout

    def handle_exit(self, sig: int, frame: Any) -> None:
        end_streams(self.config.app)
        super().handle_exit(sig, frame)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        create_server = loop.create_server

        async def with_handshake_deadline(*args: Any, **kwargs: Any) -> asyncio.Server:
            if kwargs.get("ssl") is not None:
                kwargs.setdefault("ssl_handshake_timeout", self.handshake_timeout)
            return await create_server(*args, **kwargs)

        # uvicorn has no option for it: its one create_server call gets the keyword.
        loop.create_server = with_handshake_deadline  # type: ignore[method-assign]
        try:
            await super().startup(sockets)
        finally:
            del loop.create_server


def end_streams(app: Any) -> None:
    hub = getattr(getattr(app, "state", None), "hub", None)
    if hub is not None:
        hub.changes.close()


class HubServer:
    """uvicorn serving `create_app(node)`; port 0 picks a free port (see `.port` after start).

    server = HubServer(node, port=0).start()
    ... server.url ...
    server.stop()
    """

    def __init__(
        self,
        node: Node,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        access_log: bool = False,
        socket_limits: SocketLimits | None = None,
        tls: bool = False,
        **app_options: Any,
    ) -> None:
        """`tls`: serve HTTPS with the node's self-signed certificate (server/tls.py)."""
        self.node = node
        self.host = host
        self.certificate = ensure_certificate(node.data_dir, (host,)) if tls else None
        if self.certificate is not None:
            app_options.setdefault("fingerprint", self.certificate.fingerprint)
        app_options.setdefault("bind_host", host)
        self.app = create_app(node, **app_options)
        config = uvicorn_config(self.app, host, port, access_log, socket_limits, self.certificate)
        limits = socket_limits or SocketLimits()
        self.server = HubUvicorn(config, handshake_timeout=limits.header_timeout)
        self._thread: threading.Thread | None = None

    @property
    def hub(self) -> Any:
        return self.app.state.hub

    def start(self, timeout: float = 15.0) -> HubServer:
        """Serve on a daemon thread; returns once the socket listens (raises if it cannot)."""
        if self._thread is not None:
            raise RuntimeError("already started")
        # uvicorn only installs signal handlers on the main thread; here the owner stops us.
        self._thread = threading.Thread(target=self.server.run, name="hub-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(bind_problem(self.host, self.server.config.port))
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the hub did not start in time")
            time.sleep(0.01)
        return self

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", None) or []
        for server in servers:
            for sock in server.sockets:
                return sock.getsockname()[1]
        return self.server.config.port

    @property
    def url(self) -> str:
        host = self.host if self.host not in ("0.0.0.0", "::") else DEFAULT_HOST
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.certificate else "http"
        return f"{scheme}://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 15.0) -> None:
        """Finish in-flight requests, stop the webhook worker, return when the thread is done."""
        end_streams(self.app)
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def bind_problem(host: str, port: int) -> str:
    """Why the hub cannot listen on ``host:port``, in words (uvicorn says only "[Errno 98]")."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"port {port} on {host} is already in use (is another hub running?);"
                " choose another port (--port N, or --port 0 for any free one)"
            )
        if exc.errno == errno.EADDRNOTAVAIL:
            return f"{host} is not an address of this machine"
        if exc.errno == errno.EACCES:
            return f"port {port} needs administrator rights; choose one above 1023"
        return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    finally:
        probe.close()
    return f"the hub could not start on {host}:{port}"
