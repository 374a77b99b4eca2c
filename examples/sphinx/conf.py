# A small Sphinx project to try `hotreload sphinx` on:
#   hotreload sphinx examples/sphinx examples/sphinx/_build/html
project = "Lighthouse Keeper's Handbook"
author = "The Example Authors"
extensions: list[str] = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
