"""How students join: this computer's address on the classroom network, the link they type, its QR code.

The address is read from the machine's own network interfaces (no web service is asked, nothing leaves the
machine), and the QR code is drawn here with segno. When the server listens on 127.0.0.1 only, no phone can
reach it whatever the link says: `Joining.problem` says so and how to open it to the class.
"""
from __future__ import annotations

import io
import ipaddress
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import segno

from cnnviz import access

SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address
_VIRTUAL = ("docker", "br-", "veth", "virbr", "lo")  # container bridges and loopback: no phone is there


@dataclass(frozen=True)
class Joining:
    """What the Class page shows at its top."""

    link: str                 # "http://192.168.1.20:8501/draw"
    address: str | None       # the LAN address found (None: none, the link names localhost)
    problem: str | None       # why phones cannot open it yet, and what to do; None when they can


def _ioctl_addresses() -> list[tuple[str, str]]:
    """(interface, IPv4 address) of every interface that has one (Linux; empty elsewhere)."""
    try:
        import fcntl
        names = [name for _, name in socket.if_nameindex()]
    except (ImportError, OSError, AttributeError):
        return []
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for name in names:
            try:
                packed = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", name[:15].encode()))
            except OSError:  # no IPv4 address on it
                continue
            found.append((name, socket.inet_ntoa(packed[20:24])))
    return found


def _routed_address() -> list[tuple[str, str]]:
    """The address the system would send from towards a private network (a UDP connect sends no packet)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 9))
            return [("", s.getsockname()[0])]
    except OSError:
        return []


def interface_addresses() -> list[tuple[str, str]]:
    """(interface name or "", address) pairs of this machine, from its interfaces, its route and its host name."""
    found = _ioctl_addresses() + _routed_address()
    try:
        found += [("", info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    return found


def pick_address(candidates: Iterable[tuple[str, str]]) -> str | None:
    """The address students' phones are most likely to reach: a private IPv4 (192.168, 10, 172.16-31) on a real
    interface first, then any other global IPv4; never loopback, link-local or a container bridge."""
    best: tuple[int, str] | None = None
    for name, text in candidates:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if ip.version != 4 or ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            continue
        if name.startswith(_VIRTUAL):
            continue
        rank = 0 if ip.is_private else 1
        if best is None or rank < best[0]:
            best = (rank, text)
    return None if best is None else best[1]


def link(host: str, port: int, path: str = "draw") -> str:
    """The link students type: http://host:port/path (an IPv6 address in brackets)."""
    if not 0 < int(port) < 65536:
        raise ValueError(f"port {port} is not a TCP port (1-65535)")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{int(port)}/{path.lstrip('/')}"


def joining(server_address: str | None, port: int, candidates: Iterable[tuple[str, str]],
            page_url: str | None = None) -> Joining:
    """The link and what stands in its way, from Streamlit's server.address, server.port, this machine's
    addresses and the address the teacher's own browser opened (used when it is not loopback: a name or a
    proxy the class reaches too)."""
    seen = urlsplit(page_url or "")
    if seen.scheme in ("http", "https") and seen.hostname and not access._loopback(seen.hostname):
        return Joining(f"{seen.scheme}://{seen.netloc}/draw", seen.hostname, None)
    bound = (server_address or "").strip()
    if bound and access._loopback(bound):
        return Joining(link("localhost", port), None,
                       f"This server listens on {bound} only: no other computer or phone can open it. Restart it "
                       "open to the class: streamlit run app.py --server.address 0.0.0.0")
    if bound and bound not in access._EVERY_INTERFACE:
        return Joining(link(bound, port), bound, None)  # the teacher chose the address: it is the one to type
    found = pick_address(candidates)
    if found is None:
        return Joining(link("localhost", port), None,
                       "This computer has no network address yet: connect it to the classroom's Wi-Fi and reload.")
    return Joining(link(found, port), found, None)


def qr_png(text: str, scale: int = 8) -> bytes:
    """The QR code of `text` as PNG bytes, black on white with its quiet zone (the Class page shows it inline, as a
    data: URI: Streamlit's HTML sanitiser drops inline SVG)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, dark="#000", light="#fff")
    return out.getvalue()
