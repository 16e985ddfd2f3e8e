"""Optional address lookup through an online geocoder (LOTSA_GEOCODER_URL, off by default).

Lotsa works fully offline: without the setting, places are chosen from the organisation's
existing places or given as coordinates. The URL is a Nominatim-style search endpoint, called as
`<url>?q=<address>&format=json&limit=1`; tests never call it.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

from services.errors import ServiceError
from settings import get_settings

TIMEOUT_SECONDS = 6


def enabled() -> bool:
    return bool(get_settings().geocoder_url)


def geocode(address: str) -> tuple[float, float]:
    """(latitude, longitude) of the best match, or ServiceError saying why there is none."""
    base = get_settings().geocoder_url
    if not base.lower().startswith(("https://", "http://")):
        raise ServiceError("edit.geocoder_off")
    query = " ".join(address.split())[:300]
    if not query:
        raise ServiceError("edit.geocode_nothing")
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}{urllib.parse.urlencode({'q': query, 'format': 'json', 'limit': 1})}"
    request = urllib.request.Request(url, headers={"User-Agent": "Lotsa directory (geocoding)"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            results = json.loads(response.read(1_000_000))
        first = results[0]
        lat, lon = float(first["lat"]), float(first["lon"])
    except IndexError:
        raise ServiceError("edit.geocode_nothing") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ServiceError("edit.geocode_failed") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ServiceError("edit.geocode_failed")
    return lat, lon
