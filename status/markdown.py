"""Markdown for incident updates and post-mortems: CommonMark without raw HTML, then nh3's allow-list.

Two layers on purpose: markdown-it never passes HTML through, and nh3 (ammonia) removes anything that
still is not on the list (event handlers, ``style``, ``javascript:`` and ``data:`` links), so a mistake in
one layer is not an injection.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("strikethrough")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h3", "h4", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def sanitize(html: str) -> str:
    """Keep only the allowed tags, attributes and link schemes; links open nothing with the page's rights."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def render(text: str) -> str:
    """Return safe HTML for Markdown typed by an engineer or a client (headings become h3/h4 at most)."""
    html = _renderer.render(text or "")
    html = html.replace("<h1>", "<h3>").replace("</h1>", "</h3>").replace("<h2>", "<h3>").replace("</h2>", "</h3>")
    html = html.replace("<h5>", "<h4>").replace("</h5>", "</h4>").replace("<h6>", "<h4>").replace("</h6>", "</h4>")
    return sanitize(html)
