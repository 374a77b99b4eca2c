"""Specification of reading a page's scripts: what a browser runs, and how."""

from __future__ import annotations

from hotreload.htmlscripts import page_scripts


def test_module_classic_inline_and_import_map_scripts_are_told_apart() -> None:
    scripts = page_scripts(
        """<!doctype html><head>
        <script type="importmap">{"imports": {"lit": "/vendor/lit.js"}}</script>
        <script src="/legacy.js"></script>
        <script type="text/javascript" src="/old.js"></script>
        <script type="MODULE" src="/main.js"></script>
        <script type="module">import "./inline.js";</script>
        </head>"""
    )
    assert scripts.module_srcs == ["/main.js"]
    assert scripts.classic_srcs == ["/legacy.js", "/old.js"]
    assert scripts.inline_modules == ['import "./inline.js";']
    assert scripts.import_maps == ['{"imports": {"lit": "/vendor/lit.js"}}']


def test_scripts_that_do_not_run_are_left_out() -> None:
    scripts = page_scripts(
        """<script type="text/x-template" src="/tpl.js"></script>
        <script nomodule src="/fallback.js"></script>
        <template><script type="module" src="/in-template.js"></script></template>
        <!-- <script src="/commented.js"></script> -->"""
    )
    assert scripts.module_srcs == [] and scripts.classic_srcs == []


def test_markup_inside_a_script_is_text_not_tags() -> None:
    scripts = page_scripts(
        '<script type="module">const html = "<script src=/fake.js></scr" + "ipt>";</script><script src="/real.js"></script>'
    )
    assert scripts.classic_srcs == ["/real.js"]
    assert scripts.inline_modules == ['const html = "<script src=/fake.js></scr" + "ipt>";']


def test_the_first_base_href_is_kept() -> None:
    assert page_scripts('<base href="/app/"><base href="/other/">').base_href == "/app/"
