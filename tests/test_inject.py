"""Where the hot-reload client tag lands in an HTML page, byte for byte.

Every page the server sends gets the client tag exactly once, as early in
<head> as the page allows, without changing any other byte and without
changing how a browser reads the page (its mode, its encoding, its DOM).
"""

from __future__ import annotations

import codecs
import doctest
import http.server
import threading
import time
from collections.abc import Callable, Iterator
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from hotreload import inject
from hotreload.inject import document_encoding, inject_tag, insertion_offset, wants_injection

TAG = '<script type="module" src="/__hotreload/client.js?token=t0k3n"></script>'
HERE = "@@"  # marks, in a corpus document, where the tag must land

XHTML_STRICT = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
)


class Case(NamedTuple):
    """A document written with ``@@`` where the tag goes, and how it is stored."""

    marked: str
    encoding: str = "utf-8"  # a leading U+FEFF in ``marked`` becomes the BOM
    content_type: str | None = None

    def original(self) -> bytes:
        return self.marked.replace(HERE, "").encode(self.encoding)

    def expected(self) -> bytes:
        return self.marked.replace(HERE, TAG).encode(self.encoding)


CORPUS: dict[str, Case] = {
    # -- a head to put it in
    "right after a meta charset that opens the head": Case(
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="utf-8">@@\n  <title>Home</title>\n</head>\n'
        "<body></body>\n</html>\n"
    ),
    "right after an http-equiv content-type that opens the head": Case(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">@@'
        "<title>x</title></head></html>"
    ),
    "comments and blanks ahead of the meta charset are passed over": Case(
        "<!doctype html><head>\n<!-- generated -->\n<meta charset=utf-8>@@<title>x</title>"
    ),
    "right after <head> when the head starts with something else": Case(
        '<!DOCTYPE html><html><head>@@<title>x</title><meta charset="utf-8"></head>'
    ),
    "another meta ahead of the charset counts as something else": Case(
        '<!DOCTYPE html><head>@@<meta name="viewport" content="width=device-width"><meta charset="utf-8">'
    ),
    "a head start tag with '>' in its attribute values": Case(
        "<!DOCTYPE html><html><head data-note=\"a > b\" class='c>d'>@@<title>t</title>"
    ),
    "a self-closing head": Case("<!DOCTYPE html><head/>@@<title>x"),
    "windows line endings": Case("<!DOCTYPE html>\r\n<html>\r\n<head>@@\r\n<title>x</title>\r\n"),
    "a meta charset in an implied head": Case('<!DOCTYPE html>\n<meta charset="utf-8">@@\n<title>x</title>'),
    "a meta charset after the implied head's title is too late": Case(
        "<!doctype html>@@<title>x</title><meta charset=utf-8>"
    ),
    "a meta charset inside noscript is not the head's first child": Case(
        "<!DOCTYPE html><head>@@<noscript><meta charset=utf-8></noscript>"
    ),
    # -- no head
    "no head: after <html> and the blanks that follow it": Case(
        '<!DOCTYPE html>\n<html lang="en">\n@@<body><p>hi</p></body></html>'
    ),
    "a comment after <html> stays a child of <html>": Case("<!DOCTYPE html><html><!-- build 42 -->\n@@<body>"),
    "a repeated <html>": Case('<!DOCTYPE html><html><html lang="en"><head>@@'),
    "body before head": Case("<!DOCTYPE html><html>@@<body><head>"),
    "an end tag for the head before anything else": Case("<!DOCTYPE html>@@</head><p>"),
    "stray end tags before the head are dropped by the parser": Case(
        "<!DOCTYPE html></title></p>\n<head class=a>@@<title>x"
    ),
    "a NUL ahead of the doctype": Case("\x00<!DOCTYPE html>\n@@<p>x"),
    "a frameset page": Case("<!DOCTYPE html><html>@@<frameset><frame src=a.html></frameset></html>"),
    "svg as the first element": Case("<!DOCTYPE html>@@<svg><head/></svg>"),
    "no head, no html: after the doctype": Case("<!DOCTYPE html>\n@@<title>Bare</title>\n<p>text</p>"),
    "comments before the doctype": Case("<!-- top -->\n<!-- second -->\n<!DOCTYPE html>\n@@<p>x"),
    "a processing instruction is read as a comment": Case("<?php /* generated */ ?><!DOCTYPE html>\n@@<p>"),
    "text only": Case("@@Just some text, no markup."),
    "blank lines, then text": Case("\n\n  @@Hello"),
    "an empty document": Case("@@"),
    "only a doctype": Case("<!DOCTYPE html>\n@@"),
    # -- case
    "uppercase markup": Case('<!DOCTYPE HTML>\n<HTML>\n<HEAD>\n<META CHARSET="UTF-8">@@\n<TITLE>LOUD</TITLE>\n</HEAD>'),
    "mixed-case markup": Case("<!doctype html><Html><HeAd>@@<TiTle>x</TiTle></hEaD>"),
    # -- look-alikes that are not the head
    "<head> and </head> inside comments": Case(
        "<!-- <head></head> -->\n<!DOCTYPE html><!-- </head><head> --><html><head>@@<title>x"
    ),
    "a comment closed abruptly by <!-->": Case("<!--><!DOCTYPE html><head>@@<title>x</title><!-- end -->"),
    "a comment closed abruptly by <!--->": Case("<!---><!DOCTYPE html><head>@@<title>x</title><!-- end -->"),
    "a comment closed by --!>": Case("<!DOCTYPE html><!-- a <head> --!><html><head>@@"),
    "<!--!> opens a comment without closing it": Case("<!--!><head>--><!DOCTYPE html><html><head>@@<title>x"),
    "<head> inside attribute values": Case(
        "<!DOCTYPE html><html data-x=\"<head>\" data-y='</head>'><head>@@<title>x"
    ),
    "unquoted values and stray quotes in attributes": Case(
        "<!DOCTYPE html><html lang=en x=a\"b'c data-e= data-f=>\n@@<body>"
    ),
    "</head> inside a script in the head": Case(
        '<!DOCTYPE html><html><head>@@<script>document.write("</head><head><meta charset=x>")</script>'
    ),
    "<head> inside a style before the head": Case("<!DOCTYPE html><html>@@<style>/* <head> */ b{}</style><head>"),
    "<head> inside a title": Case('<!DOCTYPE html>\n@@<title></head><head><meta charset="utf-8"></title>'),
    "<head> inside a textarea": Case("<!DOCTYPE html>@@<textarea><head></textarea>"),
    "<headline> is not <head>": Case("<!DOCTYPE html><html>@@<headline><head>"),
    "'< head>' is text": Case("<!DOCTYPE html>@@< head>"),
    "bogus markup declarations are comments": Case(
        "<!DOCTYPE html><![CDATA[ x ]]><!ELEMENT x></ oops></><html><head>@@"
    ),
    "a 2 kB comment ahead of the head": Case("<!DOCTYPE html><!--" + "x" * 2000 + "--><html><head>@@<meta name=x>"),
    # -- cut off
    "cut off inside the head start tag": Case("<!DOCTYPE html><html>@@<hea"),
    "cut off inside an attribute value": Case('<!DOCTYPE html><html lang="en"><head>@@<meta charset="utf-8'),
    "cut off inside a comment": Case("<!DOCTYPE html>@@<!-- never closed <head>"),
    "cut off inside the doctype": Case("@@<!DOCTYPE html"),
    "a lone '<' at the end": Case("<!DOCTYPE html>@@<"),
    # -- XHTML
    "xhtml with an xml declaration": Case(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + XHTML_STRICT + '\n<html xmlns="http://www.w3.org/1999/xhtml" '
        'xml:lang="en">\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />@@\n'
        "<title>XHTML</title>"
    ),
    "xhtml without a head": Case(
        '<?xml version="1.0"?>\n' + XHTML_STRICT + '\n<html xmlns="http://www.w3.org/1999/xhtml">@@<body/></html>'
    ),
    # -- encodings
    "a UTF-8 BOM": Case("\ufeff<!DOCTYPE html><html><head>@@<title>x"),
    "a UTF-8 BOM and nothing else": Case("\ufeff@@"),
    "a UTF-8 BOM before plain text": Case("\ufeff@@plain"),
    "UTF-16 LE with a BOM": Case(
        '\ufeff<!DOCTYPE html><html><head><meta charset="utf-16">@@<title>Zwölf</title>', encoding="utf-16-le"
    ),
    "UTF-16 BE with a BOM and a character outside the BMP": Case(
        "\ufeff<!DOCTYPE html><head>@@<title>\U0001f600 smile</title>", encoding="utf-16-be"
    ),
    "UTF-16 LE named by the server, no BOM": Case(
        "<!DOCTYPE html><head>@@<title>ß</title>", encoding="utf-16-le", content_type="text/html; charset=utf-16le"
    ),
    "windows-1252": Case(
        '<!DOCTYPE html><html><head><meta charset="windows-1252">@@<title>Café – €5</title>', encoding="cp1252"
    ),
    "ISO-8859-1 declared by http-equiv": Case(
        '<html><head><meta http-equiv="content-type" content="text/html; charset=ISO-8859-1">@@'
        "<title>Ångström</title>",
        encoding="latin-1",
    ),
    "Shift_JIS with ASCII trail bytes in a comment and an attribute": Case(
        "<!DOCTYPE html><!-- 表示ソフト --><html title=予定表><head>@@<title>予定表</title>",
        encoding="shift_jis",
        content_type="text/html; charset=Shift_JIS",
    ),
    "ISO-2022-JP whose kanji are written with '<' and '>' bytes": Case(
        "<!DOCTYPE html><!-- 七丈 --><html title=丈夫><head>@@<title>七</title>",
        encoding="iso2022_jp",
        content_type="text/html; charset=ISO-2022-JP",
    ),
}


@pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
def test_the_tag_lands_where_the_corpus_marks_it(case: Case) -> None:
    original = case.original()
    encoding = document_encoding(original, case.content_type)
    assert inject_tag(original, TAG, encoding) == case.expected()
    assert insertion_offset(original, encoding) == len(case.marked.split(HERE)[0].encode(case.encoding))
    if case.content_type is None:  # nothing the document itself does not say
        assert inject_tag(original, TAG) == case.expected()


def test_the_corpus_has_enough_awkward_documents() -> None:
    assert len(CORPUS) >= 25


# ---- the browser's view: the tag is a real <script> and nothing else moved ---

# Parses both versions with the browser's own HTML parser and reports what a
# page would see: the mode, the doctype, the tree without comments (a comment
# cut off by the end of the file legitimately moves into <head>), the comments.
DOM_COMPARISON = """
([original, injected, src]) => {
  const parse = (text) => new DOMParser().parseFromString(text, "text/html");
  const describe = (doc) => {
    const walker = doc.createTreeWalker(doc, NodeFilter.SHOW_COMMENT);
    const comments = [];
    while (walker.nextNode()) comments.push(walker.currentNode);
    comments.forEach((node) => node.remove());
    const doctype = doc.doctype && [doc.doctype.name, doc.doctype.publicId, doc.doctype.systemId];
    return {mode: doc.compatMode, doctype, comments: comments.map((n) => n.data),
            tree: doc.documentElement.outerHTML};
  };
  const after = parse(injected);
  const tags = [...after.querySelectorAll("script")].filter((s) => s.getAttribute("src") === src);
  const inHead = tags.map((s) => s.parentNode === after.head);
  tags.forEach((s) => s.remove());
  return {inHead, before: describe(parse(original)), after: describe(after)};
}
"""
TAG_SRC = "/__hotreload/client.js?token=t0k3n"


@pytest.fixture(scope="module")
def parse_in_chromium(browser_context) -> Iterator[Callable[[str, str], dict]]:
    page = browser_context.new_page()
    yield lambda original, injected: page.evaluate(DOM_COMPARISON, [original, injected, TAG_SRC])
    page.close()


def assert_browser_sees_only_the_tag_added(result: dict) -> None:
    assert result["inHead"] == [True], "the tag must become exactly one <script> in <head>"
    before, after = result["before"], result["after"]
    assert after["mode"] == before["mode"]
    if before["mode"] == "CSS1Compat":
        assert after["doctype"] == before["doctype"]
    assert after["tree"] == before["tree"]
    assert after["comments"] == before["comments"]


@pytest.mark.parametrize("case", CORPUS.values(), ids=CORPUS.keys())
def test_chromium_parses_each_corpus_tag_as_a_head_script_and_the_rest_unchanged(case: Case, parse_in_chromium) -> None:
    text = case.marked.removeprefix("\ufeff")
    result = parse_in_chromium(text.replace(HERE, ""), text.replace(HERE, TAG))
    assert_browser_sees_only_the_tag_added(result)


# ---- properties --------------------------------------------------------------

FRAGMENTS = [
    "<!DOCTYPE html>", "<!doctype HTML>", XHTML_STRICT, '<!DOCTYPE html PUBLIC "x>y">', "<!DOCTYPE",
    '<?xml version="1.0"?>', "<?php echo 1 ?>",
    "<!-- c -->", "<!---->", "<!-->", "<!--->", "<!-- a --!>", "<!--!>", "<!-- <head> -->", "<!--", "-->", "--!>",
    "<![CDATA[ x ]]>", "</ x>", "</>", "<!x>",
    "<html>", "<HTML lang='en'>", '<html data-x="<head>">', "</html>",
    "<head>", "<HEAD>", "<head/>", "<head class=a>", "</head>",
    "<body>", "</body>", "<title>", "</title>", "<textarea>", "</textarea>", "<script>", "</script>",
    "<style>", "</style>", "<noscript>", "<template>", "<frameset>", "<svg>", "<p>", "<headline>", "<br>", "</br>",
    '<meta charset="utf-8">', "<META CHARSET=UTF-8>", '<meta http-equiv="Content-Type" content="text/html">',
    "<meta name=viewport content=width=device-width>", "<link rel=stylesheet href=a.css>",
    " ", "\n", "\t", "\r\n", "\x0c", "\x00", "text", "表", "<", ">", "&amp;", "< head>", "=", '"', "'", "/",
    "<hea", '<html lang="en', "<meta charset=",
]
html_ish = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="<>!-/?=\"' \nahtmldey表", max_size=6)), max_size=10
).map("".join)


@settings(max_examples=150, deadline=None)
@given(document=html_ish)
def test_generated_documents_get_one_head_script_and_parse_otherwise_the_same(document: str, parse_in_chromium) -> None:
    injected = inject_tag(document.encode(), TAG, "utf-8").decode()
    assert_browser_sees_only_the_tag_added(parse_in_chromium(document, injected))


ENCODED_AS = [
    ("utf-8", b"", "utf-8"),
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
    ("shift_jis", b"", "Shift_JIS"),
    ("euc_jp", b"", "EUC-JP"),
    ("gb18030", b"", "GB18030"),
    ("iso2022_jp", b"", "ISO-2022-JP"),
]


@settings(max_examples=150, deadline=None)
@given(document=html_ish.map(lambda text: text.replace("表", "七丈")))
def test_the_tag_lands_at_the_same_character_whatever_the_encoding(document: str) -> None:
    in_utf8 = inject_tag(document.encode(), TAG, "utf-8").decode()
    for codec, bom, label in ENCODED_AS:
        body = bom + document.encode(codec)
        assert inject_tag(body, TAG, label).removeprefix(bom).decode(codec) == in_utf8, codec


ENCODINGS = [None, "utf-8", "windows-1252", "Shift_JIS", "utf-16le", "utf-16be", "ISO-2022-JP", "no-such-charset"]


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.binary(max_size=300), html_ish.map(str.encode)), encoding=st.sampled_from(ENCODINGS))
def test_any_bytes_get_exactly_one_tag_and_removing_it_gives_them_back(body: bytes, encoding: str | None) -> None:
    injected = inject_tag(body, TAG, encoding)
    offset = insertion_offset(body, encoding)
    added = injected[offset : offset + len(injected) - len(body)]
    assert added in {TAG.encode("utf-8"), TAG.encode("utf-16-le"), TAG.encode("utf-16-be")}
    assert injected[:offset] + injected[offset + len(added) :] == body
    assert injected.count(added) == body.count(added) + 1
    if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        assert offset % 2 == 0, "a UTF-16 tag must start on a code unit"


# ---- speed -------------------------------------------------------------------

BIG_PAGE = (
    b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Big</title></head><body>'
    + b"<p>Lorem ipsum dolor sit amet.</p>\n" * 150_000
    + b"</body></html>"
)


def fastest_of_three(action: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


@pytest.mark.parametrize(
    "page",
    [
        BIG_PAGE,
        b"<!DOCTYPE html><!--" + BIG_PAGE,  # a comment that never ends: the tag goes before it
        codecs.BOM_UTF16_LE + BIG_PAGE.decode().encode("utf-16-le"),
    ],
    ids=["utf-8", "unclosed comment", "utf-16"],
)
def test_a_5_mb_page_is_injected_once_near_the_start(page: bytes) -> None:
    assert len(page) > 5_000_000
    print(f"\n5 MB page injected in {fastest_of_three(lambda: inject_tag(page, TAG)) * 1000:.1f} ms (best of 3)")
    injected = inject_tag(page, TAG)
    encoded = TAG.encode("utf-16-le") if page.startswith(codecs.BOM_UTF16_LE) else TAG.encode()
    assert injected.count(encoded) == 1
    assert injected.index(encoded) < 200
    assert injected.replace(encoded, b"", 1) == page


# ---- encodings ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body, content_type, expected",
    [
        (b"<p>no declaration", None, "utf-8"),
        (b"<p>no declaration", "text/html", "utf-8"),
        (codecs.BOM_UTF8 + b"<p>", "text/html; charset=windows-1252", "utf-8"),
        (codecs.BOM_UTF16_LE + "<p>".encode("utf-16-le"), None, "utf-16-le"),
        (codecs.BOM_UTF16_BE + "<p>".encode("utf-16-be"), "text/html; charset=utf-8", "utf-16-be"),
        (b'<meta charset="utf-8">', "text/html; charset=Shift_JIS", "cp932"),
        (b"<p>", 'text/html; charset="windows-1251"', "cp1251"),
        (b"<p>", "text/html; charset=utf-16", "utf-16-le"),
        (b'<meta charset="utf-8">', "text/html; charset=no-such-thing", "utf-8"),
        (b"<p>", "text/html; charset=utf-7", "utf-8"),  # browsers do not decode UTF-7
        (b'<head><meta charset="windows-1252">', None, "cp1252"),
        (b"<HEAD><META CHARSET=KOI8-R>", None, "koi8-r"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">', None, "cp1252"),
        (b"<meta content='text/html; charset=\"euc-jp\"' http-equiv=content-type>", None, "euc_jp"),
        (b'<meta content="text/html; charset=euc-jp">', None, "utf-8"),  # no http-equiv: not a declaration
        (b'<meta charset="utf-16">', None, "utf-8"),  # readable as ASCII, so not UTF-16
        (b'<meta charset="bogus"><meta charset="gbk">', None, "gb18030"),
        (b'<!-- <meta charset="windows-1252"> --><p>', None, "utf-8"),
        (b'<p title=\'<meta charset="windows-1252">\'>', None, "utf-8"),
        (b"<!--" + b"x" * 1020 + b'--><meta charset="windows-1252">', None, "utf-8"),  # past the first 1024 bytes
        (b'<?xml version="1.0" encoding="ISO-8859-2"?><html>', None, "iso8859-2"),
        (b'<?xml version="1.0" encoding="utf-16"?><html>', None, "utf-8"),
        ('<?xml version="1.0"?><html>'.encode("utf-16-le"), None, "utf-16-le"),
        ('<?xml version="1.0"?><html>'.encode("utf-16-be"), None, "utf-16-be"),
        (b'<?xml version="1.0" encoding="windows-1252"?><meta charset="koi8-r">', None, "koi8-r"),
    ],
)
def test_document_encoding_follows_the_browser_order(body: bytes, content_type: str | None, expected: str) -> None:
    assert document_encoding(body, content_type) == expected
    assert codecs.lookup(expected).name == expected  # a codec name Python can decode with


def test_an_explicit_encoding_is_overridden_by_a_bom_as_in_browsers() -> None:
    body = codecs.BOM_UTF16_LE + "<head><title>x".encode("utf-16-le")
    assert inject_tag(body, "<s>", "windows-1252") == (
        codecs.BOM_UTF16_LE + "<head><s><title>x".encode("utf-16-le")
    )


def test_an_unknown_explicit_encoding_falls_back_to_what_the_document_says() -> None:
    body = "\ufeff<head><title>x".encode("utf-16-be")
    assert inject_tag(body, "<s>", "no-such-charset") == "\ufeff<head><s><title>x".encode("utf-16-be")
    assert inject_tag(b"<head>x", "<s>", "utf-32") == b"<head><s>x"


def test_characters_the_encoding_lacks_are_written_as_references() -> None:
    assert inject_tag(b"<head>", '<script src="/c.js?p=→"></script>', "windows-1252") == (
        b'<head><script src="/c.js?p=&#8594;"></script>'
    )


# ---- which requests get the tag ----------------------------------------------

NAVIGATION_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Accept": NAVIGATION_ACCEPT}, True),
        ({"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate"}, True),
        ({"Sec-Fetch-Dest": "frame"}, True),
        ({"Sec-Fetch-Dest": "embed"}, True),
        ({"Sec-Fetch-Dest": "object"}, True),
        ({"sec-fetch-dest": "document"}, True),
        ({"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors", "Accept": "text/html"}, False),  # fetch()/htmx
        ({"Sec-Fetch-Dest": "empty", "HX-Request": "true", "Accept": "*/*"}, False),
        ({"Sec-Fetch-Dest": "script"}, False),
        ({"Sec-Fetch-Dest": "style", "Accept": "text/css,*/*;q=0.1"}, False),
        ({"Sec-Fetch-Dest": "worker"}, False),
        ({"Sec-Fetch-Dest": "image", "Accept": "image/*"}, False),
        ({"Sec-Fetch-Mode": "navigate", "Accept": NAVIGATION_ACCEPT}, True),
        ({"Sec-Fetch-Mode": "cors", "Accept": "text/html"}, False),
        ({"Accept": NAVIGATION_ACCEPT}, True),  # no Sec-Fetch-*: plain HTTP to a LAN address
        ({"Accept": "TEXT/HTML"}, True),
        ({"Accept": "text/html;level=1;q=0.5"}, True),
        ({"Accept": "text/html;q=0"}, False),
        ({"Accept": "*/*"}, False),  # curl, fetch() and XHR defaults
        ({"Accept": "application/xhtml+xml"}, False),
        ({}, False),
        ({"Accept": "text/html", "HX-Request": "true"}, False),
        ({"Accept": "text/html, */*; q=0.01", "X-Requested-With": "XMLHttpRequest"}, False),
    ],
)
def test_only_page_loads_want_the_tag(headers: dict[str, str], expected: bool) -> None:
    assert wants_injection(headers) is expected


def test_header_names_are_case_insensitive_in_aiohttp_headers() -> None:
    assert wants_injection(CIMultiDict({"SEC-FETCH-DEST": "iframe"})) is True
    assert wants_injection(CIMultiDict({"sec-fetch-dest": "empty", "accept": "text/html"})) is False


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(inject).failed == 0


# ---- real pages in Chromium, served over HTTP --------------------------------

CLIENT_JS = b"window.__clientRuns = (window.__clientRuns || 0) + 1;\n"


class Page(NamedTuple):
    text: str  # a leading U+FEFF becomes the BOM
    encoding: str
    content_type: str
    title: str
    # document.characterSet; None for undeclared pages, which browsers read
    # with a locale-dependent default
    character_set: str | None
    mode: str = "CSS1Compat"

    def body(self) -> bytes:
        return self.text.encode(self.encoding)


PAGES: dict[str, Page] = {
    "/utf8.html": Page(
        '<!DOCTYPE html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n<title>Grüße</title>\n</head>\n'
        "<body><p>Hallo</p></body>\n</html>\n",
        "utf-8", "text/html", "Grüße", "UTF-8",
    ),
    "/bom.html": Page("\ufeff<!doctype html><title>Ünïcödé</title><p>x", "utf-8", "text/html", "Ünïcödé", "UTF-8"),
    "/cp1252.html": Page(
        '<!DOCTYPE html><html><head><meta charset="windows-1252"><title>Café – €5</title></head><body>x</body>',
        "cp1252", "text/html", "Café – €5", "windows-1252",
    ),
    "/xml-declared.html": Page(
        '<?xml version="1.0" encoding="windows-1252"?>\n<!DOCTYPE html><html><head><title>Crème</title></head>',
        "cp1252", "text/html", "Crème", "windows-1252",
    ),
    "/sjis.html": Page(
        "<!DOCTYPE html><!-- 表示ソフト --><html title=予定表><head><title>予定表</title></head><body>x</body>",
        "shift_jis", "text/html; charset=Shift_JIS", "予定表", "Shift_JIS",
    ),
    "/iso2022jp.html": Page(
        "<!DOCTYPE html><!-- 七丈 --><html title=丈夫><head><title>七丈</title></head><body>x</body>",
        "iso2022_jp", "text/html; charset=ISO-2022-JP", "七丈", "ISO-2022-JP",
    ),
    "/utf16le.html": Page(
        "\ufeff<!DOCTYPE html><html><head><title>Zwölf Boxkämpfer</title></head><body>x</body></html>",
        "utf-16-le", "text/html", "Zwölf Boxkämpfer", "UTF-16LE",
    ),
    "/utf16be.html": Page(
        "\ufeff<!DOCTYPE html><head><title>Smile \U0001f600</title><p>x", "utf-16-be", "text/html",
        "Smile \U0001f600", "UTF-16BE",
    ),
    "/xhtml.html": Page(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + XHTML_STRICT + '\n<html xmlns="http://www.w3.org/1999/xhtml">'
        '<head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /><title>XHTML</title></head>'
        "<body><p>x</p></body></html>",
        "utf-8", "text/html", "XHTML", "UTF-8",
    ),
    "/bare.html": Page("<!DOCTYPE html>\n<p>Only a paragraph</p>", "utf-8", "text/html", "", None),
    "/quirks.html": Page(
        "<html><head><title>Old page</title></head><body>x</body></html>",
        "utf-8", "text/html", "Old page", None, mode="BackCompat",
    ),
    "/frames.html": Page(
        '<!DOCTYPE html><title>Frames</title><iframe src="/utf8.html"></iframe>', "utf-8", "text/html", "Frames",
        None,
    ),
}

# How the browser names the codecs document_encoding answers with.
BROWSER_NAMES = {
    "utf-8": "UTF-8", "cp1252": "windows-1252", "cp932": "Shift_JIS", "iso2022_jp": "ISO-2022-JP",
    "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE",
}


class PageHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAGES, injecting the tag into the requests that want it, like the dev server."""

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        path = self.path.split("?")[0]
        if path == "/__hotreload/client.js":
            self.send(CLIENT_JS, "text/javascript")
        elif path in PAGES:
            page = PAGES[path]
            body = page.body()
            if wants_injection(self.headers):
                body = inject_tag(body, TAG, document_encoding(body, page.content_type))
            self.send(body, page.content_type)
        else:
            self.send_error(404)

    def send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


PAGE_STATE = """() => ({
  mode: document.compatMode,
  characterSet: document.characterSet,
  title: document.title,
  clientTagsInHead: [...document.querySelectorAll('script[src^="/__hotreload/"]')]
    .map((script) => script.parentNode === document.head),
})"""


@pytest.mark.parametrize("path", PAGES.keys())
def test_each_served_page_runs_the_client_once_and_keeps_its_mode_and_encoding(
    path: str, site_url: str, new_page
) -> None:
    expected = PAGES[path]
    page = new_page()
    page.goto(site_url + path)
    page.wait_for_function("() => window.__clientRuns === 1", timeout=10_000)
    state = page.evaluate(PAGE_STATE)
    assert state["clientTagsInHead"] == [True]
    assert (state["mode"], state["title"]) == (expected.mode, expected.title)
    if expected.character_set is not None:
        assert state["characterSet"] == expected.character_set
        assert BROWSER_NAMES[document_encoding(expected.body(), expected.content_type)] == expected.character_set


def test_a_page_in_an_iframe_gets_the_client_too(site_url: str, new_page) -> None:
    page = new_page()
    page.goto(site_url + "/frames.html")
    page.wait_for_function(
        "() => window.__clientRuns === 1 && document.querySelector('iframe').contentWindow.__clientRuns === 1",
        timeout=10_000,
    )


def test_a_page_fetched_by_a_script_comes_back_untouched(site_url: str, new_page) -> None:
    page = new_page()
    page.goto(site_url + "/cp1252.html")
    page.wait_for_function("() => window.__clientRuns === 1", timeout=10_000)
    fetched = page.evaluate(
        "async () => Array.from(new Uint8Array(await (await fetch('/cp1252.html')).arrayBuffer()))"
    )
    assert bytes(fetched) == PAGES["/cp1252.html"].body()
