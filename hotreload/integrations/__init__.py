"""Static-site generators built warm, in the server's process.

Each integration is a builder: a plain callable ``builder(changed: list[Path])``
that rebuilds the site after the given source files changed, keeping the
generator loaded between builds, and raises :class:`hotreload.BuildFailed`
with the generator's own message when the build fails. Hand one to
:meth:`hotreload.DevServer.watch`, or run the matching command:

- :class:`~hotreload.integrations.sphinx.SphinxBuilder` (``hotreload sphinx``)
- :class:`~hotreload.integrations.mkdocs.MkDocsBuilder` (``hotreload mkdocs``)
- :class:`~hotreload.integrations.pelican.PelicanBuilder` (``hotreload pelican``)

Example::

    from hotreload import DevServer
    from hotreload.integrations.sphinx import SphinxBuilder

    build = SphinxBuilder("docs", "docs/_build/html")
    server = DevServer(root=build.outdir, port=8000)
    server.watch(["docs"], build)
    server.serve_forever()

The generators themselves are imported only when a builder first builds.
"""

from __future__ import annotations

from .commands import register_commands

__all__ = ["register_commands"]
