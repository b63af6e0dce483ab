"""``cartcohort serve``: start the browser app on this computer.

Registered in :mod:`cartcohort.cli` as ``app.command()(serve)``. Listens on
127.0.0.1 unless told otherwise; on any other address an access token is required
(a random one of 32 characters is generated and printed when none is given). A token
given with ``--token`` must have at least 16 characters (a short one can be guessed).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")
#: Shortest accepted ``--token`` (the same rule as ``cartcohort.web.app.MIN_TOKEN_LENGTH``,
#: repeated here so that listing the commands does not import the web stack).
MIN_TOKEN_LENGTH = 16


def address(host: str, port: int, token: str | None = None) -> str:
    """The address to open in a browser.

    Examples
    --------
    >>> address("::1", 8050)
    'http://[::1]:8050/'
    """
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = "<this computer's address>"
    suffix = f"?token={token}" if token else ""
    return f"http://{shown}:{port}/{suffix}"


def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; keep 127.0.0.1 to stay on this computer.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8050,
    token: Annotated[
        str | None,
        typer.Option(
            help="Access token required by every request (at least 16 characters). "
            "Generated when HOST is not local."
        ),
    ] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(
            help="Folder for uploads, mappings and reports (default: a temporary folder, "
            "deleted when the server stops)."
        ),
    ] = None,
    max_upload_mb: Annotated[float, typer.Option(help="Largest accepted upload, in MB.")] = 20.0,
    max_rows: Annotated[int, typer.Option(help="Most data rows accepted in one upload.")] = 200_000,
) -> None:
    """Start the browser app: upload, validate, map, run a plan, read the report; calculators."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        msg = (
            f"the access token must have at least {MIN_TOKEN_LENGTH} characters (this one has "
            f"{len(token)}); leave --token out to have a random one generated."
        )
        raise typer.BadParameter(msg, param_hint="--token")
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are drawn in a worker thread
    try:
        import uvicorn

        from cartcohort.web.app import LOCAL_HOSTS, create_app
    except ImportError as exc:
        typer.echo(
            f"The web app needs the 'web' extra ({exc.name} is missing): "
            "pip install 'cartcohort[web]'",
            err=True,
        )
        raise typer.Exit(1) from None
    local = host in LOCAL_ADDRESSES
    if not local and not token:
        token = secrets.token_urlsafe(24)
    app = create_app(
        workdir,
        token,
        max_upload_mb=max_upload_mb,
        max_rows=max_rows,
        allowed_hosts=LOCAL_HOSTS if local else None,
    )
    typer.echo(f"cartcohort is running. Open {address(host, port, token)} in your browser.")
    if not local:
        typer.echo(
            f"Listening on {host}, reachable from other computers: every request needs the "
            "token above. Patient data will cross the network unencrypted (plain HTTP)."
        )
    typer.echo("Press Ctrl+C to stop.")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


__all__ = ["address", "serve"]
