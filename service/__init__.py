"""Samleng's core. Importing any part of it loads the configuration first, and the configuration hands
the kit what it reads (the keys, the platform's time zone): service.kit never imports service.config."""

from service import config as _config  # noqa: F401  (side effect: hands the kit its keys and zone first)
