"""The site stage: the MkDocs fence and plugin, the HTML blocks they write, and the shipped CSS, JS and KaTeX.

Example:
    >>> from rnnviz.site import FENCE
    >>> FENCE["name"]
    'rnnviz'
"""

from __future__ import annotations

from ..lazy import lazy_exports

_NAMES = {
    "FENCE": "fence", "fence_format": "fence", "fence_validator": "fence", "parse_options": "fence",
    "ASSETS": "fence", "RnnvizPlugin": "plugin",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
