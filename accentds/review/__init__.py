"""The review page: a local web app to listen to clips and label them from the keyboard."""

from __future__ import annotations

from .app import create_app
from .server import serve

__all__ = ["create_app", "serve"]
