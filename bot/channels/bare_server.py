"""How the bare baselines of bench/turns.py run: `python -m <module> --port PORT` on loopback.

The four baselines (bare Bolt and bare botbuilder, acknowledging only or persisting a turn) must
start and serve exactly alike, so that only the framework work differs between them: the same
arguments, warnings-only logging, no access log, 127.0.0.1.
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web


def arguments(description: str | None) -> argparse.ArgumentParser:
    """A parser with the baselines' one required option, `--port`; a module adds its own."""
    parser = argparse.ArgumentParser(description=(description or "").splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    return parser


def run_on_loopback(app: web.Application, port: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)
