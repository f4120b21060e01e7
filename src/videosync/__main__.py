"""``python -m videosync`` runs the command-line interface."""

from videosync.cli import run

run()
