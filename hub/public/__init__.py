"""The public transparency page (`/`) and the satisfaction survey (`/survei`)."""

from hub.public.routes import public_routes

__all__ = ["public_routes"]
