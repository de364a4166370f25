"""The `dailypapers` command line, one module per command group; commands.py holds the app, its
command table and `main()`, common.py what the commands share.

Each stage of the pipeline runs alone from here, and `up` runs the whole site. Its reference,
docs/cli.md, is generated from `--help` by `python -m dailypapers.cli.docs`."""

from .commands import app, main

__all__ = ["app", "main"]
