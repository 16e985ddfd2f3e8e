"""UI strings in Swedish (default), Danish and English, and the one function that looks them up.

Each language is a folder of flat JSON files (one per area of the app: core, admin, ...) of
key -> text with {placeholders}, merged into one catalogue. A test fails if a key is missing in
any language or defined twice.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("sv", "da", "en")
DEFAULT_LANGUAGE = "sv"
LANGUAGE_NAMES = {"sv": "Svenska", "da": "Dansk", "en": "English"}
_DIR = Path(__file__).resolve().parent


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((_DIR / lang).glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(key: str, lang: str = DEFAULT_LANGUAGE, /, **params: object) -> str:
    """The text for `key` in `lang`, falling back to Swedish, then to the key itself.

    A key that exists only in plural forms (`<key>.one` / `<key>.other`) is chosen by `count`."""
    text = catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).get(key)
    if text is None and "count" in params and f"{key}.other" in catalogue(DEFAULT_LANGUAGE):
        from locales.formatting import plural  # formatting imports this module

        rest = {name: value for name, value in params.items() if name != "count"}
        return plural(key, params["count"], lang, **rest)  # type: ignore[arg-type]
    if text is None:
        text = catalogue(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**params) if params else text
