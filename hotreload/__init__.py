"""hotreload: a dev server with hot module replacement for static sites."""

__version__ = "0.1.0"
