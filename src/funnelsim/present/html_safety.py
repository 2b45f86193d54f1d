"""What a report shows is data, never code: cell outputs are cleaned before the HTML export.

A scenario's name or description, a channel name or a company name can reach a report's tables
and sentences, and reports get mailed around. So every HTML or Markdown output of the executed
notebook goes through the nh3 sanitiser (a maintained binding of the Rust ``ammonia`` library)
with an allowlist: tables, text markup, headings, lists, links to http(s) and mail, and images
embedded as ``data:image/png`` (or jpeg, gif, webp) and nothing else. Scripts, event handlers
(``onerror=``...), ``javascript:`` and other URL schemes, styles sheets, forms and frames are
removed. Markdown is rendered to HTML first (by nbconvert, as the template would) so that a link
written in Markdown is checked like any other. Output types that are neither data nor cleaned
here (JavaScript, raw mermaid text...) are dropped, and so is the state of widgets that are not
Jupyter's own; the HTML and Output widgets' contents are cleaned the same way.

The nbconvert template around the outputs (its styles, MathJax with its Safe extension, the
widget loader) is left as it is: it is ours, not the user's.
"""

from __future__ import annotations

import re
from typing import Any

import nh3
from nbconvert.filters.markdown import markdown2html

__all__ = ["clean_html", "sanitise_notebook", "sanitise_outputs"]

_TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
_ATTRIBUTES = {
    **{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "title", "style"},
    "table": {"border", "align", "summary"},
}
_STYLE_PROPERTIES = {
    "text-align", "vertical-align", "font-weight", "font-style", "color", "background-color", "width",
    "min-width", "max-width", "height", "padding", "white-space", "border-collapse",
}
_URL_SCHEMES = {"http", "https", "mailto", "data"}
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)

# Outputs shown as they are: escaped by the template (text, LaTeX under MathJax's Safe
# extension) or embedded as images; a widget view is a reference into the cleaned widget state.
_SAFE_AS_IS = {
    "text/plain", "text/latex", "image/png", "image/jpeg", "image/gif", "image/svg+xml",
    "application/vnd.jupyter.widget-view+json",
}
_JUPYTER_WIDGETS = {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}
_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _only_image_data(tag: str, attribute: str, value: str) -> str | None:
    """``data:`` URLs only as an embedded image's source."""
    if value.strip().lower().startswith("data:") and not (tag == "img" and attribute == "src" and _DATA_IMAGE.fullmatch(value.strip())):
        return None
    return value


def clean_html(text: str) -> str:
    """HTML with nothing that runs: only the allowlisted tags, attributes and URL schemes."""
    return nh3.clean(
        text,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_only_image_data,
        url_schemes=_URL_SCHEMES,
        filter_style_properties=_STYLE_PROPERTIES,
        strip_comments=True,
    )


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def sanitise_outputs(outputs: list[Any]) -> list[Any]:
    """Code cell outputs with HTML cleaned, Markdown rendered then cleaned, and code dropped."""
    kept = []
    for output in outputs:
        if output.get("output_type") not in ("display_data", "execute_result"):
            kept.append(output)  # stream and error text is escaped by the template
            continue
        data = output.get("data", {})
        cleaned = {k: v for k, v in data.items() if k in _SAFE_AS_IS}
        if "text/html" in data:
            cleaned["text/html"] = clean_html(_text(data["text/html"]))
        elif "text/markdown" in data:
            cleaned["text/html"] = clean_html(markdown2html(_text(data["text/markdown"])))
        if cleaned:
            output["data"] = cleaned
            kept.append(output)
    return kept


def _sanitise_widgets(metadata: Any) -> None:
    """Keep only Jupyter's own widgets, with the HTML they show cleaned."""
    widgets = metadata.get("widgets", {}).get(_WIDGET_STATE)
    if not widgets:
        return
    models = widgets.get("state", {})
    for model_id in list(models):
        model = models[model_id]
        if model.get("model_module") not in _JUPYTER_WIDGETS:
            del models[model_id]
            continue
        state = model.get("state", {})
        if isinstance(state.get("outputs"), list):
            state["outputs"] = sanitise_outputs(state["outputs"])
        if model.get("model_name") in ("HTMLModel", "HTMLMathModel") and isinstance(state.get("value"), str):
            state["value"] = clean_html(state["value"])
        if state.get("description_allow_html") and isinstance(state.get("description"), str):
            state["description"] = clean_html(state["description"])


def sanitise_notebook(book: Any) -> Any:
    """The executed notebook with every code output and widget cleaned (in place; also returned)."""
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = sanitise_outputs(cell.outputs)
    _sanitise_widgets(book.metadata)
    return book
