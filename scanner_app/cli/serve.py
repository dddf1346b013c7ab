"""`serve` (the venue hub in the foreground) and `keys ...` (API keys for it)."""

from __future__ import annotations

import signal
import socket

import click

from scanner_app.cli.base import emit, fail, handles_errors, open_node, say
from scanner_app.core.apikeys import SCOPES, ApiKeyStore
from scanner_app.core.node import Node
from scanner_app.sync.door import check_provider

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def lan_address() -> str | None:
    """This machine's address on its default route (what a phone on the Wi-Fi opens). A UDP
    "connect" only picks the interface; nothing is sent."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def first_organiser_key(node: Node) -> str | None:
    """A new all-scopes organiser key when the node has none; None when it has one."""
    return ApiKeyStore(node.db, node.clock).ensure_organiser()


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--public-url", help="Hub address put in gates' setup QR (e.g. the LAN address).")
@click.option("--access-log", is_flag=True, help="Log every request (method, path, status).")
@click.option(
    "--max-client-connections",
    type=click.IntRange(1, 100_000),
    default=64,
    show_default=True,
    help="Open connections allowed per client address (gates behind one NAT need more).",
)
@click.option(
    "--allow-private-webhooks",
    is_flag=True,
    help="Let webhooks reach loopback, link-local and private addresses (the venue's own "
    "receiver); refused by default.",
)
@click.option("--tls", is_flag=True, help="HTTPS on loopback too (the default elsewhere).")
@click.option(
    "--insecure-http",
    is_flag=True,
    help="Plain HTTP on a network address: anyone on it can read keys and tickets.",
)
@click.pass_context
@handles_errors
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    public_url: str | None,
    access_log: bool,
    max_client_connections: int,
    allow_private_webhooks: bool,
    tls: bool,
    insecure_http: bool,
) -> None:
    """Run this node as the venue hub: the /v1 API and the dashboard, until Ctrl-C/SIGTERM.

    On a network address it speaks HTTPS with a self-signed certificate made at first start
    and kept in the data directory; gates pin it by the fingerprint in their setup codes."""
    from scanner_app.server.app import create_app  # noqa: PLC0415
    from scanner_app.server.runner import HubUvicorn, bind_problem, uvicorn_config  # noqa: PLC0415
    from scanner_app.server.sockets import SocketLimits  # noqa: PLC0415

    # Options are checked before the first key is made: a key shown beside a usage error is
    # easily lost, and it is shown only once.
    loopback = host in LOOPBACK
    if tls and insecure_http:
        raise click.UsageError("--tls and --insecure-http contradict each other")
    https = tls or not (loopback or insecure_http)
    scheme = "https" if https else "http"
    if public_url and not public_url.lower().startswith(f"{scheme}://"):
        # Gates would speak the other protocol to this port and never get an answer.
        spoken = "HTTPS (gates pin its certificate)" if https else "plain HTTP"
        raise click.UsageError(
            f"--public-url must start with {scheme}://: this hub speaks {spoken}"
        )
    node = open_node(ctx)
    secret = first_organiser_key(node)
    if secret:
        say("No API keys yet: created an organiser key with every scope. It is shown only now;")
        say("keep it somewhere safe (it opens the dashboard and creates gate keys):")
        click.echo(secret)
    certificate = None
    if https:
        from scanner_app.server.tls import ensure_certificate  # noqa: PLC0415

        certificate = ensure_certificate(node.data_dir, (host,))
    from scanner_app.cli.sync import start_upstream_sync  # noqa: PLC0415

    upstream = start_upstream_sync(node)  # a hub with an upstream forwards to it (chaining)
    app = create_app(
        node,
        public_url=public_url,
        provider=check_provider(node, serving=True),
        allow_private_webhooks=allow_private_webhooks,
        upstream=upstream,
        bind_host=host,
        fingerprint=certificate.fingerprint if certificate else None,
        warm_proof_workers=True,  # a venue hub takes gates' uploads of proofs (DESIGN.md §10)
    )
    limits = SocketLimits(per_client=max_client_connections)
    config = uvicorn_config(app, host, port, access_log, limits, certificate)
    try:
        sock = config.bind_socket()  # bound now, so the real port is known (--port 0 works)
    except SystemExit:  # uvicorn logged the bare OSError ("[Errno 98] ...") and gave up
        if upstream is not None:
            upstream.stop()
        fail(bind_problem(host, port))
    # asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP; this one has proto
    # 0, so without it every response waits ~40 ms (Nagle vs delayed ACK). Accepted sockets
    # inherit the option from the listener.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    bound = sock.getsockname()[1]
    server = HubUvicorn(config, handshake_timeout=limits.header_timeout)
    # uvicorn handles SIGINT/SIGTERM while it runs: it stops accepting, finishes requests in
    # flight, and the lifespan stops the webhook worker; every answered check-in is already
    # committed. These handlers cover the moments around that: a signal during startup
    # still stops the hub, and the signal uvicorn re-raises at the end becomes a plain exit 0.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, frame: server.handle_exit(number, frame))
    if not loopback:
        say(f"Listening on {host}: gates on the network can reach this hub.")
        lan = lan_address() if host in ("0.0.0.0", "::") else host
        if lan:
            say(f"Dashboard for phones and laptops on this network: {scheme}://{lan}:{bound}/")
    if certificate:
        say(f"HTTPS certificate fingerprint (SHA-256): {certificate.fingerprint}")
    elif not loopback:
        say("WARNING: plain HTTP (--insecure-http): anyone on this network can read and change")
        say("the traffic, keys and tickets included.")
    say(f"Tickitz hub on {scheme}://{host}:{bound} (dashboard at /). Stop with Ctrl-C.")
    try:
        server.run(sockets=[sock])
    finally:
        if upstream is not None:
            upstream.stop()
    say("Hub stopped.")


@click.group("keys")
def keys_group() -> None:
    """API keys for the hub (shown once at creation, stored hashed)."""


@keys_group.command("create")
@click.option("--name", required=True, help="What the key is for.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), help="Repeatable.")
@click.option("--all-scopes", is_flag=True, help="Every scope (an organiser key).")
@click.option("--rate-limit", type=click.IntRange(1, 10**7), help="Requests per minute.")
@click.option("--burst", type=click.IntRange(1, 10**7), help="Requests allowed at once.")
@click.pass_context
@handles_errors
def keys_create(
    ctx: click.Context,
    name: str,
    scopes: tuple[str, ...],
    all_scopes: bool,
    rate_limit: int | None,
    burst: int | None,
) -> None:
    """Create a key; prints only the key on stdout (so scripts can capture it)."""
    if bool(scopes) == all_scopes:
        raise click.UsageError("give --scope (one or more) or --all-scopes")
    node = open_node(ctx)
    store = ApiKeyStore(node.db, node.clock)
    key, secret = store.create(
        name, SCOPES if all_scopes else scopes, rate_limit=rate_limit, rate_burst=burst
    )
    say(f"Created {key.id} ({', '.join(sorted(key.scopes))}); the key is shown only now.")
    click.echo(secret)


@keys_group.command("list")
@click.option("--active", is_flag=True, help="Leave out revoked keys.")
@click.pass_context
@handles_errors
def keys_list(ctx: click.Context, active: bool) -> None:
    """One JSON object per key (never the key itself or its hash)."""
    node = open_node(ctx)
    for key in ApiKeyStore(node.db, node.clock).list(include_revoked=not active):
        emit(key.to_json())


@keys_group.command("revoke")
@click.argument("key_id")
@click.pass_context
@handles_errors
def keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key: the hub answers 401 to it from the next request on."""
    node = open_node(ctx)
    emit(ApiKeyStore(node.db, node.clock).revoke(key_id).to_json())
