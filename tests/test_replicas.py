"""Issue 14: two real Streamlit replicas on one Postgres behind HAProxy (deploy/replicas.py, what
`make run-replicas` runs): sticky by cookie, WebSocket upgrades passed through, new visitors spread."""

from __future__ import annotations

import base64
import http.client
import os
import random
import shutil
import socket

import pytest

from deploy.replicas import COOKIE, Cluster, haproxy_config

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy not installed")


def _free_base() -> int:
    for _ in range(50):
        base = random.randint(20_000, 40_000)
        ports = (base, base + 11, base + 12)
        try:
            for port in ports:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free ports")


def _get(port: int, path: str, cookie: str | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent = dict(headers or {})
    if cookie:
        sent["Cookie"] = cookie
    conn.request("GET", path, headers=sent)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def test_the_generated_config_is_sticky_and_checks_health():
    config = haproxy_config(8500, [8511, 8512])
    assert f"cookie {COOKIE} insert indirect nocache" in config
    assert "server r1 127.0.0.1:8511 check" in config and "server r2 127.0.0.1:8512 check" in config
    assert "option httpchk GET /_stcore/health" in config and "timeout tunnel" in config


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_replicas_behind_the_proxy(db_url, tmp_path):
    base = _free_base()
    env = {"LOTSA_DB_URL": db_url, "LOTSA_SECRET_KEY": os.environ["LOTSA_SECRET_KEY"], "LOTSA_DEMO": "0"}
    with Cluster(2, base, env=env, log_dir=tmp_path) as cluster:
        assert set(cluster.pids()) == {"replica-1", "replica-2", "haproxy"}
        first = _get(base, "/")
        assert first.status == 200
        replica = first.getheader("X-Lotsa-Replica")
        assert replica in ("r1", "r2")
        set_cookie = first.getheader("Set-Cookie") or ""
        assert set_cookie.startswith(f"{COOKIE}={replica}")
        cookie = set_cookie.split(";")[0]

        # Sticky: every request of that browser reaches the same replica, and gets no new replica cookie.
        for path in ("/", "/_stcore/health", "/_stcore/host-config", "/"):
            again = _get(base, path, cookie)
            assert again.getheader("X-Lotsa-Replica") == replica, path
            assert COOKIE not in (again.getheader("Set-Cookie") or "")

        # New visitors are spread over both replicas.
        seen = {_get(base, "/").getheader("X-Lotsa-Replica") for _ in range(4)}
        assert seen == {"r1", "r2"}

        # The WebSocket of a Streamlit session is upgraded through the proxy, to the pinned replica.
        key = base64.b64encode(os.urandom(16)).decode()
        upgrade = _get(
            base,
            "/_stcore/stream",
            cookie,
            {
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": key,
                "Sec-WebSocket-Protocol": "streamlit",
                "Origin": f"http://127.0.0.1:{base}",
            },
        )
        assert upgrade.status == 101
        assert upgrade.getheader("X-Lotsa-Replica") == replica
    assert not cluster.processes  # stopped: the proxy and both replicas
