"""The replica recipe, tried here: two `streamlit run` replicas behind nginx (deploy/nginx.conf, as
compose uses it), opened through the proxy in Chromium: a drawn digit is answered over the proxied
websocket, and every request of one browser lands on one replica (sticky by the route cookie). The HTTPS
variant (deploy/nginx-tls.conf) is run with a self-signed certificate. Docker cannot run here: the
Dockerfile, compose.yaml and .dockerignore are checked as text."""
from __future__ import annotations

import http.client
import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, open_page, wait_idle
from test_browser_draw import draw_one, read_prediction

from tools.browser import app_command, free_port, wait_healthy

DEPLOY = ROOT / "deploy"
TEACHER_CODE = "owl-42"  # behind a proxy nobody is on loopback: the Class page is opened with the teacher code
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def render(conf: str, replicas: list[int], port: int, tls_port: int | None = None, certs: Path | None = None) -> str:
    """deploy/nginx.conf (or nginx-tls.conf) with this machine's replica and proxy ports instead of compose's
    names, and the certificates from `certs`."""
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in replicas)
    conf = re.sub(r"(?m)^    server app\d+:8501;.*\n", "", conf)
    conf = conf.replace("    hash $cnnviz_route consistent;\n", "    hash $cnnviz_route consistent;\n" + servers)
    if tls_port is not None:
        conf = conf.replace("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;")
        conf = conf.replace("/etc/nginx/certs/", f"{certs}/")
    return conf.replace("listen 80;", f"listen 127.0.0.1:{port};")


# ---- the recipe as text (Docker cannot run here) -----------------------------------------------------------

def _compose_env_and_volumes() -> tuple[dict[str, str], dict[str, str]]:
    """compose.yaml's replica environment and its volume mounts (container path -> source), read as text."""
    text = (DEPLOY / "compose.yaml").read_text()
    replica = text.split("x-replica:", 1)[1].split("\nservices:", 1)[0]
    env = dict(re.findall(r"(?m)^    (CNNVIZ_\w+): (\S+)$", replica))
    mounts = {target: source for source, target in re.findall(r"(?m)^    - ([^:\s]+):([^:\s]+)$", replica)}
    return env, mounts


def test_everything_a_class_shares_is_on_volumes_every_replica_mounts():
    """Own datasets were inside each container (invisible to the other replicas, lost on
    `up --build`); the training queue and the wrong-code budget were per replica."""
    env, mounts = _compose_env_and_volumes()
    named = re.findall(r"(?m)^  (\w+):$", (DEPLOY / "compose.yaml").read_text().split("\nvolumes:", 1)[1])
    for var in ("CNNVIZ_USER_CHECKPOINTS", "CNNVIZ_USER_DATA", "CNNVIZ_SHARED"):
        assert var in env, f"{var} is not set for the replicas"
        assert mounts.get(env[var]) in named, f"{var}={env[var]} is not on a named volume: {mounts}"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    for var in ("CNNVIZ_USER_CHECKPOINTS", "CNNVIZ_USER_DATA", "CNNVIZ_SHARED"):
        assert f"{var}={env[var]}" in dockerfile  # the image alone agrees with compose


def test_the_image_runs_as_a_user_that_can_write_the_shared_folders():
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the app runs as root"
    owned = next(line for line in lines if "chown" in line)
    assert f"{users[-1]}:{users[-1]}" in owned and "/shared" in owned and "/data" in owned
    cmd = max(i for i, line in enumerate(lines) if line.startswith("CMD"))
    assert lines.index(f"USER {users[-1]}") < cmd


def test_the_build_context_leaves_local_data_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for folder in ("datasets/user/", "checkpoints/user/", "test-artifacts/", "data/", "deploy/certs/"):
        assert folder in ignored, f"{folder} would be copied into the image"


def test_https_at_the_proxy_is_documented_with_websockets():
    readme = (DEPLOY / "README.md").read_text()
    for needed in ("listen 443 ssl", "ssl_certificate ", "ssl_certificate_key ", "proxy_set_header Upgrade",
                   "proxy_set_header Connection", "nginx-tls.conf"):
        assert needed in readme, needed
    assert "deploy/README.md" in (ROOT / "README.md").read_text()


# ---- the recipe run: two replicas behind nginx ---------------------------------------------------------------

@pytest.fixture(scope="module")
def replicas(tmp_path_factory):
    """Two `streamlit run` replicas sharing what compose's volumes share; yields (their ports, a folder)."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    tmp = tmp_path_factory.mktemp("deploy")
    ports, procs = [free_port(), free_port()], []
    env = {**os.environ, "CNNVIZ_USER_CHECKPOINTS": str(tmp / "checkpoints"),  # one of each for all replicas,
           "CNNVIZ_USER_DATA": str(tmp / "datasets"), "CNNVIZ_SHARED": str(tmp / "state"),  # as compose's volumes
           "CNNVIZ_TEACHER_CODE": TEACHER_CODE}
    try:
        for port in ports:
            procs.append(subprocess.Popen(app_command(port), cwd=ROOT, stdout=(tmp / f"app{port}.log").open("w"),
                                          stderr=subprocess.STDOUT, env=env))
        for port, proc in zip(ports, procs):
            wait_healthy(f"http://127.0.0.1:{port}", proc)
        yield ports, tmp
    finally:
        _end(procs)


def _end(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _nginx(site: str, tmp: Path) -> subprocess.Popen:
    """nginx serving `site` (one conf.d file) with its pid, logs and temp files in tmp."""
    tmp.mkdir(exist_ok=True)
    (tmp / "nginx.conf").write_text(
        f"pid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\nevents {{}}\nhttp {{\n"
        f"  log_format route '$cnnviz_route $upstream_addr $request_uri';\n"
        f"  access_log {tmp}/access.log route;\n"
        + "".join(f"  {k}_temp_path {tmp}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        + site + "\n}\n")
    return subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=(tmp / "nginx.out").open("w"))


@pytest.fixture(scope="module")
def proxy_url(replicas):
    ports, tmp = replicas
    port = free_port()
    proxy = _nginx(render((DEPLOY / "nginx.conf").read_text(), ports, port), tmp / "http")
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proxy, timeout=30)
        yield url, tmp / "http" / "access.log"
    finally:
        _end([proxy])


@pytest.mark.browser
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


@pytest.mark.browser  # not a browser, but two app servers and nginx: the heavy loop
def test_the_https_recipe_serves_the_app_and_upgrades_its_websocket(replicas):
    """deploy/nginx-tls.conf with a self-signed certificate: HTTP points to HTTPS, the page and Streamlit's
    websocket (the Upgrade the README insists on) go through TLS, and the route cookie is Secure."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    ports, tmp = replicas
    certs = tmp / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem")],
                   check=True, capture_output=True)
    http_port, tls_port = free_port(), free_port()
    proxy = _nginx(render((DEPLOY / "nginx-tls.conf").read_text(), ports, http_port, tls_port, certs), tmp / "https")
    insecure = ssl.create_default_context(cafile=str(certs / "fullchain.pem"))
    insecure.check_hostname = False
    try:
        for _ in range(60):
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{tls_port}/_stcore/health", context=insecure) as r:
                    assert r.read().decode().strip() == "ok"
                    cookies = r.headers.get_all("Set-Cookie")
                    assert any(c.startswith("cnnviz_route=") for c in cookies), cookies
                    assert all("; Secure" in c or "; secure" in c for c in cookies), cookies
                    break
            except OSError:
                assert proxy.poll() is None, (tmp / "https" / "error.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("the HTTPS proxy did not answer")
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/draw")
        answer = plain.getresponse()
        assert answer.status == 301 and answer.getheader("Location").startswith("https://")
        tls = http.client.HTTPSConnection("127.0.0.1", tls_port, timeout=10, context=insecure)
        tls.request("GET", "/_stcore/stream", headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "streamlit"})
        upgraded = tls.getresponse()
        assert upgraded.status == 101 and upgraded.getheader("Upgrade", "").lower() == "websocket"
    finally:
        _end([proxy])


def _routes_to_each_replica(url: str, log: Path, replicas: int = 2) -> list[str]:
    """Route cookie values that nginx sends to different replicas (one each), found by asking and reading its log."""
    found: dict[str, str] = {}
    for i in range(40):
        route = f"wall-{i}"
        request = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"cnnviz_route={route}"})
        with urllib.request.urlopen(request, timeout=10) as r:
            r.read()
        for _ in range(50):
            served = [up for r, up, _ in (line.split() for line in log.read_text().splitlines()) if r == route]
            if served:
                break
            time.sleep(0.05)
        found.setdefault(served[0], route)
        if len(found) == replicas:
            return list(found.values())
    pytest.fail(f"nginx sent 40 routes to {len(found)} replica(s) only")


@pytest.mark.browser
def test_drawings_from_both_replicas_reach_one_class_wall(proxy_url, replicas, browser, artifacts):
    """The wall's store is in the shared folder, so a student on each replica reaches the same wall, and the
    teacher's Class page (on whichever replica) counts both."""
    from cnnviz import classwall

    url, log = proxy_url
    _, tmp = replicas
    wall = classwall.folder(tmp / "state")
    classwall.clear(wall)
    classwall.start(wall, "1")
    contexts = []
    try:
        for route in _routes_to_each_replica(url, log):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "cnnviz_route", "value": route, "url": url}])
            contexts.append(context)
            page = context.new_page()
            page.set_default_timeout(60_000)
            open_page(page, url, "draw")
            draw_one(page)
            assert read_prediction(page) == "1"
        teacher = contexts[0].new_page()
        teacher.set_default_timeout(60_000)
        open_page(teacher, url, "class")
        teacher.get_by_label("Teacher code", exact=True).fill(TEACHER_CODE)
        teacher.get_by_role("button", name="Open the Class page").click()
        teacher.wait_for_function("() => document.body.innerText.includes('2 drawings from 2 students')")
        wait_idle(teacher)
        assert "class accuracy 100%" in teacher.inner_text("[data-testid='stMain']")
        teacher.screenshot(path=str(artifacts / "class_wall_replicas.png"))
    finally:
        for context in contexts:
            context.close()
    assert sorted(d.answer for d in classwall.read(wall)) == ["1", "1"]
