"""Hand-off commands: ``export`` (a sync result → NLE timelines, CSV, ...) and ``framemap``.

Registered on the ``videosync`` group by one import line at the end of ``_app.py``. Commands that
read a saved result use :func:`_load_result`.
"""

from __future__ import annotations

import os
from dataclasses import replace

import click

from videosync.cli._app import cli
from videosync._files import read_json
from videosync.errors import InvalidParameterError
from videosync.export import EXPORTERS
from videosync.result import SyncResult


def _load_result(path: str, corrections: str | None = None) -> SyncResult:
    """A :class:`SyncResult` from a JSON file written by ``videosync sync -o``.

    ``corrections``: a corrections JSON (saved by the review page, see
    :mod:`videosync.corrections`) applied to the offsets before anything else.

    Video paths that do not exist as written (relative to the working directory) but do exist
    relative to the JSON file's folder are rewritten to that location. A missing or malformed file
    raises :class:`InvalidParameterError` (one line on the command line, exit 1).
    """
    d = read_json(path)
    if not isinstance(d, dict):
        raise InvalidParameterError(f"{path}: not a videosync result (expected a JSON object)")
    try:
        result = SyncResult.from_dict(d)
    except InvalidParameterError as exc:
        raise InvalidParameterError(f"{path}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InvalidParameterError(f"{path}: not a videosync result ({what})") from None
    if corrections is not None:
        from videosync.corrections import apply_corrections, load_corrections

        result = apply_corrections(result, load_corrections(corrections))
    folder = os.path.dirname(os.path.abspath(path))
    videos = []
    for v in result.videos:
        beside = os.path.join(folder, v.path)
        if not os.path.isabs(v.path) and not os.path.exists(v.path) and os.path.exists(beside):
            v = replace(v, path=beside)
        videos.append(v)
    return replace(result, videos=tuple(videos))


corrections_option = click.option(
    "--corrections", type=click.Path(dir_okay=False), default=None, metavar="FILE",
    help="Corrections JSON saved by the review page (per-camera nudges in frames), applied first.")


@cli.command()
@click.argument("result_json", metavar="SYNC_JSON", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="File to write; the format comes from its suffix (.fcpxml .xml .otio .edl .csv .json).")
@click.option("--format", "format_name", type=click.Choice(EXPORTERS.names()), default=None,
              help="Exporter by name, whatever the suffix.")
@corrections_option
def export(result_json, output, format_name, corrections):
    """Write a sync result for an editor or a script: FCPXML multicam, FCP7 XML, OTIO, EDL, CSV."""
    from videosync.export import exporter_for

    result = _load_result(result_json, corrections)
    exporter = exporter_for(output, format_name)
    exporter.write(result, output)
    click.echo(f"videosync: wrote {output} ({exporter.name})", err=True)


@cli.command()
@click.argument("result_json", metavar="SYNC_JSON", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@corrections_option
def framemap(result_json, output, corrections):
    """For each reference frame: the nearest frame (and sub-frame fraction) of every camera."""
    from videosync.framemap import frame_map, write_frame_map_csv

    fm = frame_map(_load_result(result_json, corrections))
    write_frame_map_csv(fm, output)
    click.echo(f"videosync: wrote {output} ({fm.n_reference_frames} reference frames × {len(fm.names)} cameras)",
               err=True)
