"""Only the developer's own pages reach the dev server: Host, Origin, fetch metadata, tokens."""

from __future__ import annotations

import doctest
import ipaddress
import socket
import string

import pytest
from multidict import CIMultiDict

from hotreload import security
from hotreload.security import HostPolicy, cross_site_no_cors, local_addresses, new_token, tokens_equal

LOOPBACK_POLICY = HostPolicy("127.0.0.1", 8000)

HOSTS_ALLOWED_ON_LOOPBACK = [
    "localhost",
    "localhost:8000",
    "LOCALHOST:8000",
    "LocalHost",
    "localhost.:8000",
    "localhost:",
    "localhost:1",
    "localhost:65535",
    "app.localhost:8000",
    "a.b.localhost",
    "ＬＯＣＡＬＨＯＳＴ:8000",
    "127.0.0.1",
    "127.0.0.1:8000",
    "127.0.0.1:9999",
    "127.1.2.3:8000",
    "127.255.255.254",
    "[::1]",
    "[::1]:8000",
    "[0:0:0:0:0:0:0:1]:8000",
    "[::ffff:127.0.0.1]:8000",
    "[::ffff:7f00:1]:8000",
]

HOSTS_REFUSED_ON_LOOPBACK = [
    None,
    "",
    " ",
    "evil.com",
    "evil.com:8000",
    "EVIL.COM:8000",
    "127.0.0.1.nip.io:8000",
    "127-0-0-1.sslip.io:8000",
    "localhost.evil.com",
    "localhost.evil.com:8000",
    "localhost.evil.com.",
    "evillocalhost",
    "xlocalhost:8000",
    "localhost-evil.com",
    ".localhost",
    "*.localhost",
    "localhost..",
    "..localhost",
    "local host",
    "localhost/evil",
    "localhost\\evil",
    "user@localhost",
    "evil.com@localhost",
    "localhost#.evil.com",
    "localhost\x00.evil.com",
    "localhost%2eevil.com",
    "localhost:abc",
    "localhost:-1",
    "localhost:0",
    "localhost:65536",
    "localhost:99999999",
    "localhost:8000:8000",
    "localhost:８０００",
    "::1",
    "::1:8000",
    "[::1",
    "[::1]x",
    "[::1]8000",
    "[localhost]:8000",
    "[127.0.0.1]:8000",
    "[fe80::1%25eth0]:8000",
    "[::1%25lo]:8000",
    "[::1%lo]:8000",
    "[::]:8000",
    "0.0.0.0:8000",
    "0:8000",
    "127.1:8000",
    "2130706433:8000",
    "0x7f000001:8000",
    "0177.0.0.1:8000",
    "192.168.1.5:8000",
    "10.0.0.1",
    "[2001:db8::1]:8000",
    "[::ffff:192.168.1.5]:8000",
    "a" * 64 + ".localhost",
    "xn--:8000",
]


@pytest.mark.parametrize("host", HOSTS_ALLOWED_ON_LOOPBACK)
def test_loopback_names_and_addresses_are_allowed_hosts(host: str) -> None:
    assert LOOPBACK_POLICY.host_allowed(host)


@pytest.mark.parametrize("host", HOSTS_REFUSED_ON_LOOPBACK)
def test_rebinding_and_malformed_hosts_are_refused(host: str | None) -> None:
    assert not LOOPBACK_POLICY.host_allowed(host)


ALLOW_LIST_POLICY = HostPolicy(
    "127.0.0.1", 8000, allowed=["dev.example.test", ".preview.test", "bücher.example", "192.168.1.50", "[2001:db8::7]"]
)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("dev.example.test", True),
        ("DEV.Example.Test:443", True),
        ("dev.example.test.", True),
        ("x.dev.example.test", False),
        ("example.test", False),
        ("preview.test", True),
        ("branch-1.preview.test:8000", True),
        ("a.b.preview.test", True),
        ("evilpreview.test", False),
        ("preview.test.evil.com", False),
        ("xn--bcher-kva.example", True),
        ("BÜCHER.example:8000", True),
        ("bucher.example", False),
        ("192.168.1.50:8000", True),
        ("192.168.1.51:8000", False),
        ("[2001:db8::7]:8000", True),
        ("[2001:db8:0:0:0:0:0:7]", True),
        ("[2001:db8::8]", False),
        ("localhost:8000", True),
        ("evil.com", False),
    ],
)
def test_allowed_names_match_exactly_or_as_a_domain_with_a_leading_dot(host: str, expected: bool) -> None:
    assert ALLOW_LIST_POLICY.host_allowed(host) is expected


@pytest.mark.parametrize(
    "entry", ["", ".", "host:8000", "*", "exa mple.test", "http://dev.example.test", "a..b", "0.0.0.0", "[::]"]
)
def test_an_allow_list_entry_that_is_not_a_host_is_rejected_at_start(entry: str) -> None:
    with pytest.raises(ValueError):
        HostPolicy("127.0.0.1", 8000, allowed=[entry])


@pytest.mark.parametrize("port", [-1, 65536])
def test_a_port_out_of_range_is_rejected(port: int) -> None:
    with pytest.raises(ValueError):
        HostPolicy("127.0.0.1", port)


def test_the_bound_address_or_name_is_allowed() -> None:
    lan = HostPolicy("192.168.1.5", 8000)
    assert lan.host_allowed("192.168.1.5:8000")
    assert not lan.host_allowed("192.168.1.6:8000")
    named = HostPolicy("MyHost.lan", 8000)
    assert named.host_allowed("myhost.lan:8000")
    assert not named.host_allowed("other.lan:8000")
    ipv6 = HostPolicy("[2001:db8::2]", 8000)
    assert ipv6.host_allowed("[2001:db8::2]:8000")


FAKE_INTERFACES = ["192.0.2.10", "2001:db8::5"]


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::", "[::]", ""])
def test_a_wildcard_bind_allows_every_local_interface_address(
    wildcard: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(security, "local_addresses", lambda: list(FAKE_INTERFACES))
    policy = HostPolicy(wildcard, 8000)
    assert policy.host_allowed("192.0.2.10:8000")
    assert policy.host_allowed("[2001:db8::5]:8000")
    assert policy.host_allowed(f"{socket.gethostname()}:8000")
    assert policy.host_allowed("localhost:8000")
    assert not policy.host_allowed("192.0.2.11:8000")
    assert not policy.host_allowed("0.0.0.0:8000")
    assert not policy.host_allowed("evil.com:8000")


def test_a_loopback_bind_refuses_interface_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "local_addresses", lambda: list(FAKE_INTERFACES))
    assert not HostPolicy("127.0.0.1", 8000).host_allowed("192.0.2.10:8000")


def test_a_wildcard_bind_notices_a_new_address_without_rereading_on_every_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    interfaces = ["192.0.2.10"]
    reads: list[int] = []

    def fake_local_addresses() -> list[str]:
        reads.append(1)
        return list(interfaces)

    monkeypatch.setattr(security, "local_addresses", fake_local_addresses)
    policy = HostPolicy("0.0.0.0", 8000)
    interfaces.append("192.0.2.99")  # the laptop joined another network
    for _ in range(20):
        assert not policy.host_allowed("192.0.2.99:8000")
    assert len(reads) == 1
    monkeypatch.setattr(security, "LOCAL_ADDRESS_REFRESH_SECONDS", 0.0)
    assert policy.host_allowed("192.0.2.99:8000")
    assert len(reads) == 2


ORIGIN_POLICY = HostPolicy("127.0.0.1", 8000, allowed=[".example.test"])


@pytest.mark.parametrize(
    ("origin", "host", "expected"),
    [
        ("http://localhost:8000", "localhost:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://[::1]:8000", "[::1]:8000", True),
        ("http://[0::1]:8000", "[::1]:8000", True),
        ("HTTP://LOCALHOST:8000", "localhost:8000", True),
        ("http://app.localhost:8000", "app.localhost:8000", True),
        ("https://dev.example.test", "dev.example.test", True),
        ("https://dev.example.test:443", "dev.example.test", True),
        ("http://dev.example.test", "dev.example.test:80", True),
        ("https://localhost:8000", "localhost:8000", True),
        # Non-browser clients send no Origin; the Host must still be allowed.
        (None, "localhost:8000", True),
        (None, "evil.com:8000", False),
        (None, None, False),
        ("http://localhost:8000", None, False),
        # Foreign pages.
        ("http://evil.com", "localhost:8000", False),
        ("https://evil.com:8000", "localhost:8000", False),
        ("http://localhost.evil.com:8000", "localhost:8000", False),
        # DNS rebinding: same origin as the Host, but the Host is foreign.
        ("http://evil.com:8000", "evil.com:8000", False),
        ("http://localhost.evil.com:8000", "localhost.evil.com:8000", False),
        ("http://127.0.0.1.nip.io:8000", "127.0.0.1.nip.io:8000", False),
        # Allowed, but not the same origin.
        ("http://localhost:8000", "127.0.0.1:8000", False),
        ("http://127.0.0.1:8000", "localhost:8000", False),
        ("http://[::1]:8000", "localhost:8000", False),
        ("http://app.localhost:8000", "localhost:8000", False),
        ("http://localhost:9999", "localhost:8000", False),
        ("http://localhost", "localhost:8000", False),
        ("http://localhost:8000", "localhost", False),
        ("https://dev.example.test", "dev.example.test:80", False),
        # Not an http(s) origin, or not an origin at all.
        ("null", "localhost:8000", False),
        ("", "localhost:8000", False),
        ("localhost:8000", "localhost:8000", False),
        ("file://", "localhost:8000", False),
        ("ws://localhost:8000", "localhost:8000", False),
        ("chrome-extension://abcdef", "localhost:8000", False),
        ("http://localhost:8000/", "localhost:8000", False),
        ("http://localhost:8000/page", "localhost:8000", False),
        ("http://localhost:8000?x", "localhost:8000", False),
        ("http://user@localhost:8000", "localhost:8000", False),
        ("http://evil.com\\@localhost:8000", "localhost:8000", False),
        ("http://localhost:8000 http://evil.com", "localhost:8000", False),
        ("http://localhost:80000", "localhost:80000", False),
    ],
)
def test_a_websocket_origin_must_be_same_origin_with_an_allowed_host(
    origin: str | None, host: str | None, expected: bool
) -> None:
    assert ORIGIN_POLICY.origin_allowed(origin, host) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}, True),
        ({"sec-fetch-site": "Cross-Site", "SEC-FETCH-MODE": " no-cors "}, True),
        ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}, True),
        ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, False),
        ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}, False),
        ({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "websocket"}, False),
        ({"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "no-cors"}, False),
        ({"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors"}, False),
        ({"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"}, False),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Mode": "no-cors"}, False),
        ({}, False),
    ],
)
def test_cross_site_subresource_loads_are_recognised(headers: dict[str, str], expected: bool) -> None:
    assert cross_site_no_cors(headers) is expected
    assert cross_site_no_cors(CIMultiDict(headers)) is expected


def test_tokens_are_fresh_url_safe_and_long() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    url_safe = set(string.ascii_letters + string.digits + "-_")
    for token in tokens:
        assert len(token) >= 43  # 32 random bytes
        assert set(token) <= url_safe


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("s3cret-token", "s3cret-token", True),
        ("s3cret-token", "s3cret-tokeN", False),
        ("s3cret-token", "s3cret-toke", False),
        ("s3cret-token", "", False),
        ("", "", True),
        ("jeton-é", "jeton-é", True),
        ("jeton-é", "jeton-e", False),
        ("\udcff", "\udcff", True),
    ],
)
def test_tokens_compare_by_value(a: str, b: str, expected: bool) -> None:
    assert tokens_equal(a, b) is expected


def test_local_addresses_are_reachable_lan_addresses_ipv4_first() -> None:
    addresses = local_addresses()
    parsed = [ipaddress.ip_address(address) for address in addresses]
    assert len(set(parsed)) == len(parsed)
    assert [ip.version for ip in parsed] == sorted(ip.version for ip in parsed)
    for ip in parsed:
        assert not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def test_local_addresses_include_the_address_of_the_default_route() -> None:
    expected: list[str] = []
    for family, probe in [(socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")]:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                source = ipaddress.ip_address(udp.getsockname()[0].partition("%")[0])
        except OSError:
            continue  # no route for this family on this machine
        if not (source.is_loopback or source.is_link_local):
            expected.append(str(source))
    assert set(expected) <= set(local_addresses())


def test_the_documented_examples_hold() -> None:
    results = doctest.testmod(security, optionflags=doctest.ELLIPSIS)
    assert results.attempted >= 5
    assert results.failed == 0


# ---- what the server says about the network it is exposed to ------------------------------


def test_the_refusal_of_a_host_names_the_flag_with_that_host() -> None:
    assert "--allowed-host dev.example.test." in security.refused_host_message("dev.example.test:5173")
    assert "--allowed-host 10.0.0.5." in security.refused_host_message("10.0.0.5")
    assert "--allowed-host NAME" in security.refused_host_message("bad host!")
    assert "without a Host" in security.refused_host_message(None)
    assert "\x1b" not in security.refused_host_message("evil\x1b[31m")


@pytest.mark.parametrize(
    "host, exposed",
    [("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("[::1]", False), ("localhost", False),
     ("app.localhost", False), ("0.0.0.0", True), ("::", True), ("", True), ("192.168.1.20", True),
     ("fd00::2", True), ("my-laptop.lan", True)],
)
def test_binding_anything_but_loopback_is_exposed(host: str, exposed: bool) -> None:
    assert security.exposed_to_network(host) is exposed


def test_network_urls_list_every_lan_address_for_a_wildcard_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "local_addresses", lambda: ["192.0.2.7", "198.51.100.9", "2001:db8::7"])
    assert security.network_urls("0.0.0.0", 8000) == ["http://192.0.2.7:8000/", "http://198.51.100.9:8000/"]
    assert security.network_urls("::", 8000) == [
        "http://192.0.2.7:8000/", "http://198.51.100.9:8000/", "http://[2001:db8::7]:8000/",
    ]
    assert security.network_urls("127.0.0.1", 8000) == []
    assert security.network_urls("192.0.2.7", 8000) == []


def test_a_wildcard_bind_prints_the_lan_urls_and_one_warning(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """The banner for --host 0.0.0.0; the test itself listens on loopback only."""
    import io
    import socket as socket_module

    from conftest import run_async
    from hotreload.config import Config
    from hotreload.server import DevServer
    from hotreload.terminal import Terminal

    monkeypatch.setattr(security, "local_addresses", lambda: ["192.0.2.7", "2001:db8::7"])
    stream = io.StringIO()
    server = DevServer(Config(root=tmp_path, host="0.0.0.0", port=0), terminal=Terminal(1, stream))

    def loopback_only() -> socket_module.socket:
        sock = socket_module.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        return sock

    monkeypatch.setattr(server, "_bind", loopback_only)

    async def start_and_stop() -> None:
        await server.start()
        await server.stop()

    run_async(start_and_stop())
    lines = stream.getvalue().splitlines()
    port = server.port
    assert f"  ➜ Local:   http://127.0.0.1:{port}/" in lines
    assert f"  ➜ Network: http://192.0.2.7:{port}/" in lines
    assert not any("2001:db8" in line for line in lines)
    warnings = [line for line in lines if "warning" in line]
    assert warnings == ["  warning: listening on 0.0.0.0: other machines on your network can read this folder"]
