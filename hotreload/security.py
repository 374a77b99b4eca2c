"""Request policy: which Host, Origin and fetch metadata the dev server accepts.

A page on any website can make the browser send requests to the dev server.
Three checks keep such pages out while letting the developer's own tabs in:

* **Host allow-list** (:class:`HostPolicy.host_allowed`) defeats DNS
  rebinding: a hostile page served from ``evil.example`` cannot read answers
  from the dev server, unless it points ``evil.example`` at 127.0.0.1, and then
  the browser sends ``Host: evil.example``, which is refused.
* **WebSocket Origin** (:class:`HostPolicy.origin_allowed`): browsers do not
  apply the same-origin policy to WebSockets, so the handshake must come from a
  page the server itself served. A per-run token (:func:`new_token`,
  :func:`tokens_equal`) is checked on top of it by the endpoint.
* **Cross-site subresources** (:func:`cross_site_no_cors`): a ``<script src>``
  on another site could run a served module and observe its side effects;
  such requests are recognisable from their ``Sec-Fetch-*`` headers.

Example:

    >>> policy = HostPolicy("127.0.0.1", 8000)
    >>> policy.host_allowed("localhost:8000"), policy.host_allowed("evil.example")
    (True, False)
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
import struct
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

__all__ = [
    "HostPolicy",
    "cross_site_no_cors",
    "exposed_to_network",
    "local_addresses",
    "network_urls",
    "new_token",
    "refused_host_message",
    "tokens_equal",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# How often a wildcard-bound policy may re-read the interface addresses when it
# meets an unknown address (a laptop changing networks while serving).
LOCAL_ADDRESS_REFRESH_SECONDS = 5.0

_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Documentation-only addresses: connecting a UDP socket to them picks the
# outgoing interface without sending a single packet.
_ROUTE_PROBES = ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1"))
_SIOCGIFADDR = 0x8915


def new_token() -> str:
    """A fresh unguessable token for the WebSocket handshake.

        >>> len(new_token()) >= 40
        True
    """
    return secrets.token_urlsafe(32)


def tokens_equal(a: str, b: str) -> bool:
    """Compare two tokens in constant time, so timing does not leak a prefix.

        >>> tokens_equal("abc", "abc"), tokens_equal("abc", "abd")
        (True, False)
    """
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


@dataclass(frozen=True)
class _Authority:
    """A parsed ``host[:port]``: the host normalised for comparison."""

    host: str  # lowercase ASCII name, or the compressed form of an IP address
    ip: IPAddress | None
    port: int | None


class HostPolicy:
    """Decide which ``Host`` and ``Origin`` headers reach the dev server.

    Allowed hosts are ``localhost`` and ``*.localhost`` (browsers resolve them
    to loopback themselves), every loopback address (127.0.0.0/8, ``[::1]``),
    the address or name the server is bound to, every local interface address
    and the machine's host name when bound to ``0.0.0.0``/``::``, and the
    names in ``allowed``: exact (``dev.example.test``) or, with a leading dot,
    that domain and all its subdomains (``.example.test``).

    The port in ``Host`` is ignored (proxies and port forwarding change it);
    names are compared lowercase, in IDNA form, without a trailing dot. A
    missing or malformed ``Host``, a bare IPv6 address without brackets, an
    IPv6 zone and the unspecified addresses ``0.0.0.0``/``[::]`` are refused.
    ``port`` is the port the server listens on, kept for building URLs; it is
    not compared with the ``Host`` port for the same reason. An empty
    ``bound_host`` means every interface, as ``0.0.0.0`` does.

        >>> policy = HostPolicy("0.0.0.0", 8000, allowed=[".example.test"])
        >>> policy.host_allowed("app.example.test"), policy.host_allowed("localhost.evil.example")
        (True, False)
    """

    def __init__(self, bound_host: str, port: int, allowed: Iterable[str] = ()) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port out of range: {port}")
        self.bound_host = bound_host
        self.port = port
        self._names: set[str] = set()
        self._domain_suffixes: set[str] = set()
        self._ips: set[IPAddress] = set()
        self._wildcard = False
        self._local_ips: frozenset[IPAddress] = frozenset()
        self._local_ips_read_at = 0.0

        bound = bound_host.strip()
        if not bound or _is_unspecified(bound):
            self._wildcard = True
            self._read_local_ips()
            hostname = _normalise_name(socket.gethostname())
            if hostname is not None:
                self._names.add(hostname)
        else:
            self._add_allowed_host(bound, source="bound host")
        for entry in allowed:
            if entry.startswith("."):
                suffix = _normalise_name(entry[1:])
                if suffix is None:
                    raise ValueError(f"not a domain name: {entry!r}")
                self._domain_suffixes.add(suffix)
            else:
                self._add_allowed_host(entry, source="allowed host")

    def host_allowed(self, host_header: str | None) -> bool:
        """Whether a request carrying this ``Host`` header may be answered.

            >>> HostPolicy("127.0.0.1", 8000).host_allowed("[::1]:8000")
            True
        """
        if host_header is None:
            return False
        authority = _parse_authority(host_header)
        return authority is not None and self._authority_allowed(authority)

    def origin_allowed(self, origin: str | None, host_header: str | None) -> bool:
        """Whether a WebSocket handshake with this ``Origin`` may proceed.

        The origin must be same-origin with the ``Host`` the request was sent
        to: scheme ``http`` or ``https``, the same host (which must be allowed)
        and the same port, a missing port meaning the scheme's default.

        Browsers always send ``Origin`` on a WebSocket handshake, so a missing
        ``Origin`` means a non-browser client (a script, ``curl``), which no web
        page can impersonate; it is allowed when the ``Host`` is, and the
        endpoint's token check still applies. ``Origin: null`` (sandboxed
        frames, ``file:`` pages) is refused.

            >>> policy = HostPolicy("127.0.0.1", 8000)
            >>> policy.origin_allowed("http://localhost:8000", "localhost:8000")
            True
            >>> policy.origin_allowed("http://evil.example", "localhost:8000")
            False
        """
        if not self.host_allowed(host_header):
            return False
        if origin is None:
            return True
        scheme, separator, rest = origin.partition("://")
        scheme = scheme.lower()
        if not separator or scheme not in _DEFAULT_PORTS:
            return False
        # An Origin is only scheme://host[:port]: a path, query or user part
        # fails to parse as an authority below.
        origin_authority = _parse_authority(rest)
        host_authority = _parse_authority(host_header or "")
        if origin_authority is None or host_authority is None:
            return False
        default_port = _DEFAULT_PORTS[scheme]
        return origin_authority.host == host_authority.host and (
            origin_authority.port or default_port
        ) == (host_authority.port or default_port)

    def _add_allowed_host(self, entry: str, *, source: str) -> None:
        ip = _parse_ip(entry.strip().removeprefix("[").removesuffix("]"))
        if ip is not None:
            if ip.is_unspecified:
                # "Every address" is the wildcard bind, never a Host to accept.
                raise ValueError(f"{source} cannot be an unspecified address: {entry!r}")
            self._ips.add(ip)
            return
        name = _normalise_name(entry.strip())
        if name is None:
            raise ValueError(f"{source} is not a host name or IP address: {entry!r}")
        self._names.add(name)

    def _authority_allowed(self, authority: _Authority) -> bool:
        if authority.ip is not None:
            return self._ip_allowed(authority.ip)
        name = authority.host
        if name == "localhost" or name.endswith(".localhost"):
            return True
        if name in self._names:
            return True
        return any(name == suffix or name.endswith("." + suffix) for suffix in self._domain_suffixes)

    def _ip_allowed(self, ip: IPAddress) -> bool:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback or ip in self._ips:
            return True
        if not self._wildcard:
            return False
        if ip in self._local_ips:
            return True
        if time.monotonic() - self._local_ips_read_at >= LOCAL_ADDRESS_REFRESH_SECONDS:
            self._read_local_ips()
            return ip in self._local_ips
        return False

    def _read_local_ips(self) -> None:
        self._local_ips = frozenset(ipaddress.ip_address(address) for address in local_addresses())
        self._local_ips_read_at = time.monotonic()


def cross_site_no_cors(headers: Mapping[str, str]) -> bool:
    """Whether a request is a subresource load from another site.

    True for ``Sec-Fetch-Site: cross-site`` with ``Sec-Fetch-Mode: no-cors``:
    a ``<script>``, ``<img>`` or ``<link>`` on a foreign page pointing at the
    dev server. Navigations (``mode: navigate``), same-site requests and clients
    that send no fetch metadata are not matched. Header names are looked up
    case-insensitively, values compared case-insensitively.

        >>> cross_site_no_cors({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
        True
        >>> cross_site_no_cors({"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
        False
    """
    site = _header_value(headers, "Sec-Fetch-Site")
    mode = _header_value(headers, "Sec-Fetch-Mode")
    return site == "cross-site" and mode == "no-cors"


def refused_host_message(host_header: str | None) -> str:
    """The body of the 403 answer to a request whose ``Host`` is not allowed.

    It names the flag that allows the host, with the host's name filled in,
    since the usual cause is the developer's own proxy or tunnel.

        >>> "--allowed-host dev.example.test" in refused_host_message("dev.example.test:8000")
        True
    """
    if not host_header:
        return "403: a request without a Host header is refused.\n"
    authority = _parse_authority(host_header)
    name = authority.host if authority is not None else None
    flag = f"--allowed-host {name}" if name else "--allowed-host NAME"
    shown = host_header if host_header.isprintable() and len(host_header) <= 255 else "(not shown)"
    return (
        f"403: this dev server does not answer requests for the host {shown!r} "
        "(a protection against DNS rebinding).\n"
        f"If you reach it through that name on purpose, start it with {flag}.\n"
    )


def exposed_to_network(bound_host: str) -> bool:
    """Whether listening on ``bound_host`` lets other machines connect.

        >>> exposed_to_network("127.0.0.1"), exposed_to_network("localhost"), exposed_to_network("0.0.0.0")
        (False, False, True)
    """
    host = bound_host.strip().removeprefix("[").removesuffix("]")
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return False
    ip = _parse_ip(host)
    return ip is None or not ip.is_loopback


def network_urls(bound_host: str, port: int) -> list[str]:
    """The URLs other machines reach the server on when it listens on every interface.

    Empty unless ``bound_host`` is a wildcard (``0.0.0.0``, ``::`` or empty);
    IPv6 addresses only when it is ``::``, and in brackets.

        for url in network_urls("0.0.0.0", 8000):
            print(f"  Network: {url}")    # http://192.168.1.20:8000/
    """
    host = bound_host.strip().removeprefix("[").removesuffix("]")
    if host and not _is_unspecified(host):
        return []
    ipv6 = _parse_ip(host) is not None and ":" in host
    urls = []
    for address in local_addresses():
        if ":" in address:
            if ipv6:
                urls.append(f"http://[{address}]:{port}/")
        else:
            urls.append(f"http://{address}:{port}/")
    return urls


def local_addresses() -> list[str]:
    """The addresses other machines can reach this one on, for LAN URLs.

    Loopback, link-local, multicast and unspecified addresses are left out;
    IPv4 comes first. On Linux every interface is listed; elsewhere the
    addresses of the default IPv4 and IPv6 routes.

        for address in local_addresses():
            host = f"[{address}]" if ":" in address else address
            print(f"  Network: http://{host}:8000/")
    """
    found: set[IPAddress] = set()
    for address in _interface_addresses():
        if not (address.is_loopback or address.is_link_local or address.is_multicast or address.is_unspecified):
            found.add(address)
    return [str(address) for address in sorted(found, key=lambda a: (a.version, int(a)))]


def _interface_addresses() -> Iterator[IPAddress]:
    yield from _routed_addresses()
    if sys.platform.startswith("linux"):
        yield from _linux_ipv4_addresses()
        yield from _linux_ipv6_addresses()


def _routed_addresses() -> Iterator[IPAddress]:
    """The source address the kernel would use for each family's default route."""
    for family, probe in _ROUTE_PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe_socket:
                probe_socket.connect((probe, 9))
                address = probe_socket.getsockname()[0]
        except OSError:
            continue
        ip = _parse_ip(address.partition("%")[0])
        if ip is not None:
            yield ip


def _linux_ipv4_addresses() -> Iterator[IPAddress]:
    """The primary IPv4 address of each interface (SIOCGIFADDR)."""
    import fcntl  # Unix only; imported here so the module loads on Windows

    try:
        interfaces = socket.if_nameindex()
        query_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return
    with query_socket:
        for _index, name in interfaces:
            # struct ifreq: a 16-byte name, then a sockaddr_in whose address
            # starts 4 bytes in (after family and port).
            request = struct.pack("256s", name.encode()[:15])
            try:
                answer = fcntl.ioctl(query_socket.fileno(), _SIOCGIFADDR, request)
            except OSError:
                continue  # interface without an IPv4 address
            yield ipaddress.IPv4Address(answer[20:24])


def _linux_ipv6_addresses() -> Iterator[IPAddress]:
    """IPv6 addresses from the kernel's table: 32 hex digits first on each line."""
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as table:
            lines = table.read().splitlines()
    except OSError:
        return
    for line in lines:
        fields = line.split()
        if fields and len(fields[0]) == 32:
            try:
                yield ipaddress.IPv6Address(int(fields[0], 16))
            except ValueError:
                continue


def _header_value(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return None if value is None else value.strip().lower()


def _parse_authority(value: str) -> _Authority | None:
    """Parse ``host``, ``host:port``, ``[v6]`` or ``[v6]:port``; None if malformed."""
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return None
        literal, rest = value[1:end], value[end + 1 :]
        if "%" in literal:
            return None  # zone identifiers only make sense on this machine
        try:
            ip: IPAddress | None = ipaddress.IPv6Address(literal)
        except ValueError:
            return None
        host = str(ip)
        if rest and not rest.startswith(":"):
            return None
        port_text: str | None = rest[1:] if rest else None
    else:
        # A bare IPv6 address ("::1") fails here: its first colon leaves an
        # empty name or a port that is not a number.
        name, separator, after = value.partition(":")
        port_text = after if separator else None
        normalised = _normalise_name(name)
        if normalised is None:
            return None
        ip = _parse_ip(normalised)
        host = str(ip) if ip is not None else normalised
    port = _parse_port(port_text)
    if port == -1:
        return None
    return _Authority(host=host, ip=ip, port=port)


def _parse_port(text: str | None) -> int | None:
    """The port number, None when absent or empty, -1 when malformed."""
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 5:
        return -1
    port = int(text)
    return port if 1 <= port <= 65535 else -1


def _normalise_name(name: str) -> str | None:
    """Lowercase IDNA (punycode) form of a DNS name without trailing dot, or None."""
    if name.endswith("."):
        name = name[:-1]  # "localhost." is the same name as "localhost"
    if not name or len(name) > 253:
        return None
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    name = name.lower()
    labels = name.split(".")
    if any(not label or len(label) > 63 or not _NAME_CHARACTERS.issuperset(label) for label in labels):
        return None
    return name


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_unspecified(bound_host: str) -> bool:
    ip = _parse_ip(bound_host.removeprefix("[").removesuffix("]"))
    return ip is not None and ip.is_unspecified
