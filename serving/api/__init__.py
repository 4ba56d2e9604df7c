"""The REST API: `create_app()` builds it, `claimtype serve` runs it (api/server.py).

app.py is the factory, deps.py what routes take from the app, routes/ the
routes by concern; middleware (body limit, request log), auth (API keys),
batcher (micro-batching), reloading (the served model and its hot reload),
observability (metrics and logs), viewer (the article page) sit beside them.
"""

from .app import create_app
from .reloading import load_predictor

__all__ = ["create_app", "load_predictor"]
