"""The configuration a command runs with: which file it reads, and its flags laid over it.

Every `tsunagu` command that takes --config reads it the same way, the benchmarks included, so
this lives beside neither the CLI nor the tools that both use it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from inbox.config import Config, load_config, with_overrides

CONFIG_ENV = "TSUNAGU_CONFIG"


def find_config(explicit: Path | None) -> Path | None:
    """--config, else $TSUNAGU_CONFIG, else ./config.toml when present, else built-in defaults."""
    if explicit is not None:
        return explicit
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    local = Path("config.toml")
    return local if local.exists() else None


def load(args: argparse.Namespace) -> Config:
    """The config named by args.config (see find_config), with --host and --port if given."""
    cfg = load_config(find_config(args.config), env=os.environ)
    return with_overrides(cfg, host=getattr(args, "host", None), port=getattr(args, "port", None))
