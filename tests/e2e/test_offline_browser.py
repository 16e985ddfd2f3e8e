"""Lotsa works with no internet: every request the browser makes goes to the Lotsa server itself
(favicon, fonts, the base map), the map draws land and water from the bundled base map, a
configured tile server is drawn instead, and Streamlit's file uploader speaks the user's language.
Screenshots: artifacts/screenshots/offline-*.png.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlparse

import pytest

from locales import translate
from tests.e2e.conftest import ROOT, VIEWPORT, _free_port, _stop, screenshot, settle

pytestmark = pytest.mark.browser


@pytest.fixture
def offline(chromium, lotsa_server):
    """A browser tab that can reach only the Lotsa server: anything else is refused and recorded."""
    context = chromium.new_context(viewport=VIEWPORT, locale="sv-SE")
    context.set_default_timeout(30_000)
    own = urlparse(lotsa_server.base_url).netloc
    outside: list[str] = []
    loaded: dict[str, int] = {}

    def route(route):
        if urlparse(route.request.url).netloc in (own, ""):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("response", lambda response: loaded.__setitem__(response.url, response.status))
    page.outside, page.loaded = outside, loaded
    yield page
    context.close()


def test_the_map_page_needs_nothing_from_the_internet(offline, lotsa_server):
    offline.goto(f"{lotsa_server.base_url}/directory?view=map")
    settle(offline)
    canvas = offline.locator("[data-testid=stDeckGlJsonChart] canvas").first
    canvas.wait_for(state="attached", timeout=30_000)
    canvas.scroll_into_view_if_needed()
    for _ in range(40):  # deck.gl fetches the base map after its first frame
        if any(url.endswith("/app/static/basemap/nordic.json") for url in offline.loaded):
            break
        offline.wait_for_timeout(250)
    offline.wait_for_timeout(1500)
    screenshot(offline, "offline-directory-map")
    basemap = [status for url, status in offline.loaded.items() if url.endswith("/basemap/nordic.json")]
    assert basemap == [200], offline.loaded
    assert offline.outside == [], offline.outside
    # Land is drawn: the canvas is not all one colour (dots on white).
    pixels = offline.evaluate(
        """() => {
            const c = document.querySelector('[data-testid=stDeckGlJsonChart] canvas');
            const copy = document.createElement('canvas');
            copy.width = c.width; copy.height = c.height;
            const g = copy.getContext('2d');
            g.drawImage(c, 0, 0);
            const d = g.getImageData(0, 0, copy.width, copy.height).data;
            const seen = new Set();
            for (let i = 0; i < d.length; i += 4 * 97) seen.add(`${d[i]},${d[i+1]},${d[i+2]}`);
            return seen.size;
        }"""
    )
    assert pixels > 3


def test_the_favicon_is_served_by_lotsa(offline, lotsa_server):
    offline.goto(f"{lotsa_server.base_url}/")
    settle(offline)
    icons = offline.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")
    own = urlparse(lotsa_server.base_url).netloc
    assert icons and all(urlparse(href).netloc == own for href in icons), icons
    assert offline.outside == [], offline.outside


def test_the_file_uploader_speaks_swedish(offline, lotsa_server):
    from settings import DEMO_PASSWORD

    offline.goto(lotsa_server.base_url)
    settle(offline)
    offline.get_by_label(translate("login.username", "sv")).fill("demo-partner")
    offline.get_by_label(translate("login.password", "sv")).fill(DEMO_PASSWORD)
    offline.get_by_role("button", name=translate("login.submit", "sv")).click()
    settle(offline)
    offline.get_by_role("link", name=translate("page.directory_import", "sv")).first.click()
    settle(offline)
    dropzone = offline.locator("[data-testid=stFileUploaderDropzone]").first
    dropzone.wait_for(timeout=30_000)
    screenshot(offline, "offline-uploader")
    shown = dropzone.evaluate(
        """el => [...el.querySelectorAll('*')].map(n => {
            const after = getComputedStyle(n, '::after').content;
            const own = [...n.childNodes].filter(c => c.nodeType === 3).map(c => c.textContent).join('');
            const style = getComputedStyle(n);
            const visible = style.fontSize !== '0px' && style.visibility !== 'hidden';
            return (visible ? own : '') + ' ' + (after && after !== 'none' ? after : '');
        }).join(' ')"""
    )
    assert translate("widget.upload", "sv") in shown
    assert "Upload" not in shown and "per file" not in shown, shown


@pytest.fixture
def tile_server():
    """A local stand-in for a tile server: every tile is one magenta PNG; requests are recorded."""
    import http.server
    import io
    import threading

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (255, 0, 255)).save(buffer, "PNG")
    tile, hits = buffer.getvalue(), []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def test_a_configured_tile_server_is_drawn_under_the_map(chromium, tile_server, tmp_path):
    """LOTSA_MAP_TILE_URL: the browser fetches tiles from that server and draws them."""
    base_tiles, hits = tile_server
    env = {**os.environ, "LOTSA_DB_URL": f"sqlite:///{tmp_path / 'lotsa.db'}", "LOTSA_DEMO": "1"}
    env["LOTSA_MAP_TILE_URL"] = base_tiles + "/{z}/{x}/{y}.png"
    env["LOTSA_SECRET_KEY"] = base64.b64encode(b"t" * 32).decode()
    for step in ("migrate", "demo"):
        manage = [sys.executable, "manage.py", step]
        subprocess.run(manage, cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    proc = subprocess.Popen(
        [*command, "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        context = chromium.new_context(viewport=VIEWPORT, locale="sv-SE")
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/directory?view=map")
        settle(page)
        canvas = page.locator("[data-testid=stDeckGlJsonChart] canvas").first
        canvas.wait_for(state="attached", timeout=30_000)
        for _ in range(60):
            if hits:
                break
            page.wait_for_timeout(250)
        page.wait_for_timeout(1000)
        screenshot(page, "offline-tile-server-map")
        context.close()
    finally:
        _stop(proc)
    assert hits and all(hit.endswith(".png") for hit in hits), hits
