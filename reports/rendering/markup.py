"""User text (model cards, comments) to safe HTML: Markdown, then an allow-list sanitiser.

Nothing a user writes reaches the report's HTML without passing nh3: no
scripts, no styles, no event handlers, no ``style`` attributes, and link or
image URLs only with http(s)/mailto schemes (which the renderer's URL fetcher
then refuses to load anyway).
"""

import re

import markdown
import nh3

__all__ = ["markdown_to_safe_html"]

_HEADING = re.compile(r"<(/?)h([1-6])(\s|>)")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del", "code",
    "pre", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody", "tr", "th", "td",
    "a", "img", "sup", "sub", "abbr", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def markdown_to_safe_html(text: str) -> str:
    """Render Markdown and sanitise the result; headings are demoted so they nest under the report's own."""
    html = markdown.markdown(text or "", extensions=["tables", "fenced_code", "sane_lists"], output_format="html")
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 3, 6)}{m[3]}", html)
