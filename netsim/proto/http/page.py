"""What a browser reads in an HTML page: the objects it references and must fetch —
stylesheets (``<link rel=stylesheet href>``), scripts, images, frames (``src``) — in
document order, each once (HTML Living Standard, "fetching" of subresources)."""

from __future__ import annotations

from html.parser import HTMLParser


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        url = None
        if tag == "link" and "stylesheet" in (a.get("rel") or "").lower().split():
            url = a.get("href")
        elif tag in ("img", "script", "iframe", "audio", "video", "source", "embed"):
            url = a.get("src")
        if url and url not in self.found:
            self.found.append(url)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        self._skip += tag in ("script", "style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style", "title") and self._skip > 0

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def page_text(html: bytes, limit: int = 80) -> str:
    """The start of what a page says (its text, tags and scripts left out)."""
    parser = _Text()
    parser.feed(html.decode("utf-8", "replace"))
    text = " ".join(" ".join(parser.parts).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def references(html: bytes, charset: str = "utf-8") -> list[str]:
    parser = _References()
    parser.feed(html.decode(charset, "replace"))
    parser.close()
    return parser.found


def is_html(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml")
