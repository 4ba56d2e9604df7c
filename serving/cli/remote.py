"""Ask a running server to load a model directory: `--reload URL` of promote and rollback."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["reload_server"]


def reload_server(url: str, model: Path) -> None:
    """POST /v1/admin/reload with CLAIMTYPE_ADMIN_KEY; a refusal or no answer exits."""
    key = os.environ.get("CLAIMTYPE_ADMIN_KEY", "")
    if not key:
        raise SystemExit("--reload needs the server's admin key in CLAIMTYPE_ADMIN_KEY")
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/admin/reload",
        data=json.dumps({"model": str(model.resolve())}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            info = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise SystemExit(f"reload refused by {url} ({exc.code}): {detail}") from None
    except OSError as exc:
        raise SystemExit(f"reload: cannot reach {url}: {exc}") from None
    print(f"{url} now serves {info['name']}@{info['version']}")
