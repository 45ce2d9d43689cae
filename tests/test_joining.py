"""cnnviz.joining: the LAN address from the interfaces, the students' link, and a QR code that decodes to it."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from cnnviz import joining

ZBARIMG = shutil.which("zbarimg")


def test_a_private_address_on_a_real_interface_wins():
    found = [("lo", "127.0.0.1"), ("docker0", "172.17.0.1"), ("eth1", "8.8.4.4"), ("wlan0", "192.168.1.23"),
             ("", "169.254.3.3"), ("", "fe80::1"), ("", "not an address")]
    assert joining.pick_address(found) == "192.168.1.23"
    assert joining.pick_address([("eth1", "8.8.4.4"), ("lo", "127.0.0.1")]) == "8.8.4.4"
    assert joining.pick_address([("lo", "127.0.0.1"), ("docker0", "172.17.0.1"), ("", "169.254.1.1")]) is None


def test_this_machines_interfaces_give_an_address_it_really_has():
    found = joining.interface_addresses()
    assert ("lo", "127.0.0.1") in found or ("", "127.0.0.1") in found
    picked = joining.pick_address(found)
    assert picked is None or picked in {a for _, a in found}


def test_the_link_names_the_address_port_and_draw_page():
    assert joining.link("192.168.1.23", 8501) == "http://192.168.1.23:8501/draw"
    assert joining.link("fd00::2", 80, "/class") == "http://[fd00::2]:80/class"
    with pytest.raises(ValueError, match="port 0"):
        joining.link("10.0.0.1", 0)


@pytest.mark.parametrize("bound", ["127.0.0.1", "localhost", "::1"])
def test_a_server_on_loopback_says_phones_cannot_reach_it_and_how_to_open_it(bound):
    j = joining.joining(bound, 8501, [("wlan0", "192.168.1.23")])
    assert j.problem is not None and "--server.address 0.0.0.0" in j.problem and bound in j.problem
    assert j.address is None


def test_every_interface_uses_the_lan_address_and_a_chosen_address_is_kept():
    assert joining.joining("0.0.0.0", 8600, [("wlan0", "10.1.2.3")]) == \
        joining.Joining("http://10.1.2.3:8600/draw", "10.1.2.3", None)
    assert joining.joining("192.168.5.5", 8501, [("wlan0", "10.1.2.3")]).link == "http://192.168.5.5:8501/draw"
    no_network = joining.joining(None, 8501, [("lo", "127.0.0.1")])
    assert no_network.problem and "Wi-Fi" in no_network.problem


def test_the_qr_code_is_a_png_made_here():
    png = joining.qr_png("http://10.1.2.3:8501/draw")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.skipif(ZBARIMG is None, reason="zbarimg is not installed (apt-get install zbar-tools; .ci/run does)")
@pytest.mark.parametrize("text", ["http://192.168.1.23:8501/draw", "http://[fd00::2]:8501/draw"])
def test_the_qr_code_decodes_to_the_link(tmp_path, text):
    png = tmp_path / "qr.png"
    png.write_bytes(joining.qr_png(text))
    decoded = subprocess.run([ZBARIMG, "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
    assert decoded.stdout.strip() == text


def test_the_address_the_teacher_opened_wins_unless_it_is_loopback():
    lan = [("wlan0", "10.1.2.3")]
    assert joining.joining("0.0.0.0", 8501, lan, "http://class.school.org/class?x=1").link == \
        "http://class.school.org/draw"
    assert joining.joining("0.0.0.0", 8501, lan, "https://192.168.9.9:8443/class").link == "https://192.168.9.9:8443/draw"
    assert joining.joining("0.0.0.0", 8501, lan, "http://localhost:8501/class").link == "http://10.1.2.3:8501/draw"
    assert joining.joining("0.0.0.0", 8501, lan, "javascript:alert(1)").link == "http://10.1.2.3:8501/draw"
