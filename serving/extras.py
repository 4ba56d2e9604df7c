"""The optional parts of claimtype and the command that installs each.

Every message about a missing extra is built here, so they all name the
distribution (`claimtype[...]`) the same way, wherever they are raised.
"""

from __future__ import annotations

__all__ = ["install_hint"]


def install_hint(extra: str) -> str:
    """`pip install 'claimtype[extra]'`, and its form for a source checkout."""
    return f"pip install 'claimtype[{extra}]' (in a source checkout: pip install -e '.[{extra}]')"
