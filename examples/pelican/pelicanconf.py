# A small Pelican project to try `hotreload pelican` on:
#   cd examples/pelican && hotreload pelican
AUTHOR = "The Example Authors"
SITENAME = "Notes from the Lighthouse"
SITEURL = ""
PATH = "content"
OUTPUT_PATH = "output"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 10

# No feeds while developing: they want an absolute SITEURL.
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
