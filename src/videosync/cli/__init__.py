"""Command-line interface (click). Holds no algorithm: parses, calls the library, renders.

Exit codes: 0 success; 1 a videosync error (one line on stderr, no traceback); 2 a usage
error. ``VIDEOSYNC_DEBUG=1`` re-raises full tracebacks.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``videosync`` command."""
    import click

    from videosync.cli._app import cli
    from videosync.errors import VideoSyncError

    debug = os.environ.get("VIDEOSYNC_DEBUG") == "1"
    try:
        cli.main(args=argv, prog_name="videosync", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("videosync: aborted", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except VideoSyncError as exc:
        if debug:
            raise
        click.echo(f"videosync: error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("videosync: interrupted", err=True)
        return 130
    except Exception as exc:  # an unexpected failure is still one line unless debugging
        if debug:
            raise
        click.echo(
            f"videosync: internal error: {type(exc).__name__}: {exc} "
            "(set VIDEOSYNC_DEBUG=1 for a traceback and please report it)",
            err=True,
        )
        return 1
    return 0


def run() -> None:
    """Console-script wrapper: exit with main()'s code."""
    sys.exit(main())
