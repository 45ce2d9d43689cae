"""The replica recipe, tried here: two `streamlit run` replicas behind nginx (deploy/nginx.conf, as
compose uses it), opened through the proxy in Chromium: a drawn digit is answered over the proxied
websocket, and every request of one browser lands on one replica (sticky by the route cookie)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import sys
from pathlib import Path

import pytest
from conftest import ROOT, _free_port, _wait_healthy, open_page
from test_browser_draw import draw_one, read_prediction

pytestmark = pytest.mark.browser
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def render(conf: str, replicas: list[int], port: int) -> str:
    """deploy/nginx.conf with this machine's replica ports and proxy port instead of compose's names."""
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in replicas)
    conf = re.sub(r"(?m)^    server app\d+:8501;.*\n", "", conf)
    conf = conf.replace("    hash $cnnviz_route consistent;\n", "    hash $cnnviz_route consistent;\n" + servers)
    return conf.replace("listen 80;", f"listen 127.0.0.1:{port};")


@pytest.fixture(scope="module")
def proxy_url(tmp_path_factory):
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    tmp = tmp_path_factory.mktemp("deploy")
    shared = tmp / "checkpoints"  # one checkpoints folder for all replicas, as the compose volume
    ports, procs = [_free_port(), _free_port()], []
    env = {**os.environ, "CNNVIZ_USER_CHECKPOINTS": str(shared)}
    try:
        for port in ports:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true",
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, stdout=(tmp / f"app{port}.log").open("w"), stderr=subprocess.STDOUT, env=env))
        for port, proc in zip(ports, procs):
            _wait_healthy(f"http://127.0.0.1:{port}", proc)
        port = _free_port()
        site = render((ROOT / "deploy" / "nginx.conf").read_text(), ports, port)
        (tmp / "nginx.conf").write_text(
            f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\nhttp {{\n"
            f"  log_format route '$cnnviz_route $upstream_addr $request_uri';\n"
            f"  access_log {tmp}/access.log route;\n"
            + "".join(f"  {k}_temp_path {tmp}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            + site + "\n}\n")
        procs.append(subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
                                      stdout=subprocess.DEVNULL, stderr=(tmp / "nginx.out").open("w")))
        url = f"http://127.0.0.1:{port}"
        _wait_healthy(url, procs[-1], timeout=30)
        yield url, tmp / "access.log"
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_digit_is_answered_through_the_proxy_by_one_replica(proxy_url, browser, artifacts):
    url, log = proxy_url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, url, "draw")
        page.wait_for_selector("canvas.upper-canvas")
        draw_one(page)
        assert read_prediction(page) == "1"
        route = next(c["value"] for c in context.cookies() if c["name"] == "cnnviz_route")
    finally:
        context.close()
    lines: list[list[str]] = []
    for _ in range(100):  # nginx logs a websocket when it closes, a moment after the tab does
        lines = [line.split() for line in log.read_text().splitlines()]
        if any(r == route and uri.startswith("/_stcore/stream") for r, _, uri in lines):
            break
        time.sleep(0.1)
    mine = [upstream for r, upstream, _ in lines if r == route]
    assert any(uri.startswith("/_stcore/stream") for r, _, uri in lines if r == route), "the websocket went through"
    assert len(mine) > 5 and len(set(mine)) == 1, f"one browser, one replica: {set(mine)}"
