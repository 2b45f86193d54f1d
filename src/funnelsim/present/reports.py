"""Reports: a parameterised notebook, executed with papermill and exported as HTML.

``render_report`` runs one notebook from ``notebooks/`` with the given parameters on a kernel
of *this* Python environment (so a virtual environment never hits a missing-kernel error),
and writes into its report folder:

* ``report.html``: the narrative, tables and embedded figures, without code;
* ``report.ipynb``: the executed notebook (kept, partly executed, when a cell fails);
* ``parameters.yaml``: the parameters used;
* ``data/``: the tables the notebook computed, as parquet.

``render_batch`` renders many parameter files in one go on one kernel, resetting it between
reports, so kernel start-up is paid once. ``reports/index.html`` lists every report made.

The kernel starts in the working folder, so a path in the parameters means what it means on
the command line; the notebooks read their files through ``config.locate`` (the working
folder first, then the shipped ``params/`` and ``examples/``).
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
import yaml
from jupyter_client.manager import KernelManager
from nbconvert import HTMLExporter
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm

from funnelsim.config.errors import InputError, MachineError
from funnelsim.config.files import atomic_write_text
from funnelsim.config.paths import NOTEBOOKS_DIR, RENDERING_A_REPORT, REPORTS_DIR, SLUG_LENGTH, slug
from funnelsim.present.html_safety import sanitise_notebook
from funnelsim.present.notebook_parameters import (
    check_parameters,
    notebook_parameters,
    parameters_from_file,
    parameters_from_pairs,
)

__all__ = [
    "NotAPythonNotebook",
    "NotebookNotFound",
    "ReportFailed",
    "notebook_parameters",
    "notebook_path",
    "parameters_from_file",
    "parameters_from_pairs",
    "render_batch",
    "render_report",
    "write_index",
]

KERNEL_NAME = "funnelsim-this-python"
_SOCKET_PATH_BYTES = 104  # the longest path a socket in a folder may have (macOS; 108 on Linux): longer, TCP ports


class ReportFailed(MachineError):
    """A notebook cell failed; the message names the cell and where the notebook was kept."""


class NotebookNotFound(InputError, FileNotFoundError):
    """No notebook of that name or path; the message lists those available."""


class NotAPythonNotebook(InputError):
    """The file is not a Jupyter notebook in Python (reports run on a Python kernel)."""


def notebook_path(name: str) -> Path:
    """A notebook by path, or by name in ``notebooks/`` (``alignment_impact`` will do); it must
    be a Jupyter notebook in Python."""
    candidates = [Path(name), NOTEBOOKS_DIR / name, NOTEBOOKS_DIR / f"{name}.ipynb"]
    for path in candidates:
        if path.is_file() and path.suffix == ".ipynb":
            _check_python_notebook(path)
            return path.resolve()
    available = ", ".join(sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")))
    raise NotebookNotFound(f"{name}: no such notebook; available: {available}")


def _check_python_notebook(path: Path) -> None:
    try:
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
    except (OSError, ValueError, AttributeError, KeyError, TypeError, nbformat.ValidationError) as exc:  # not a notebook's JSON
        raise NotAPythonNotebook(f"{path}: not a notebook Jupyter can read ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})") from None
    metadata = book.get("metadata", {})
    language = metadata.get("kernelspec", {}).get("language") or metadata.get("language_info", {}).get("name")
    if language != "python":
        raise NotAPythonNotebook(
            f"{path}: metadata.kernelspec.language: {language!r}: reports run on Python, so the notebook must say "
            "'python' (open and save it in Jupyter with a Python kernel)"
        )


@contextmanager
def _this_python_kernel() -> Iterator[KernelManager]:
    """A kernel manager for a kernel of this interpreter (not yet started), shut down at the end.

    Its kernelspec is written to a temporary folder put first on JUPYTER_PATH. On Linux and
    macOS the kernel talks over sockets in that folder rather than TCP ports: jupyter_client
    picks free ports and lets them go before the kernel binds them, so two reports started at
    once (an analyst's several runs, a parallel test suite) can pick the same ports, and one
    report then waits for ever on the other's kernel (jupyter/jupyter_client#487). Under a
    temporary folder too deep for a socket's path, and on Windows, it uses TCP ports."""
    with tempfile.TemporaryDirectory(prefix="funnelsim-kernel-") as folder:
        spec = Path(folder) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "funnelsim (this environment)",
                    "language": "python",
                    "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline", RENDERING_A_REPORT: "1"},
                }
            )
        )
        before = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (folder, before) if p)
        ip = str(Path(folder) / "kernel")  # the sockets are ip-1 to ip-5
        sockets = {"transport": "ipc", "ip": ip} if os.name == "posix" and len(ip.encode()) + 2 < _SOCKET_PATH_BYTES else {}
        km = KernelManager(kernel_name=KERNEL_NAME, **sockets)
        try:
            yield km
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
            if before is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = before


def _export_html(executed: Path, target: Path) -> None:
    """HTML for readers: no code, no prompts, no warnings (those stay in report.ipynb), and no
    markup in the outputs that could run (see ``html_safety``)."""
    book = nbformat.read(executed, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    sanitise_notebook(book)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(book, resources={"metadata": {"name": report_title(book)}})
    atomic_write_text(target, body.replace("</head>", PEOPLE_TABLE_CSS + "</head>", 1))


# Tables for people (``vocabulary.people_table``): words left, numbers right, headers over them.
PEOPLE_TABLE_CSS = "<style>table.people td.words { text-align: left; } table.people td.number { text-align: right; } " + " ".join(
    f"table.people.words-{j} th.col{j} {{ text-align: left; }}" for j in range(16)) + "</style>\n"


def report_title(book: nbformat.NotebookNode) -> str:
    """What the HTML page's ``<title>`` says: the notebook's first heading (not "Notebook")."""
    heading = next(
        (line.lstrip("#").strip() for cell in book.cells if cell.cell_type == "markdown"
         for line in cell.source.splitlines() if line.startswith("# ")),
        "funnelsim report",
    )
    return heading


def default_report_dir(notebook: Path, label: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return REPORTS_DIR / slug(notebook.stem) / f"{slug(label)}-{stamp}"


def joined_label(names: list[str], limit: int = SLUG_LENGTH) -> str:
    """Several scenario names as one folder name of at most ``limit`` characters that keeps
    every one of them: ``a-vs-b-vs-c`` when it fits, else ``a_b_c``, else each word of each
    name shortened to as many letters as fit (never fewer than 3: a name is never dropped)."""
    names = [slug(name) for name in names]
    for separator in ("-vs-", "_"):
        text = separator.join(names)
        if len(text) <= limit:
            return text
    words = [re.split(r"[-_.]+", name) for name in names]
    longest = max(len(word) for parts in words for word in parts)
    for letters in range(longest, 2, -1):
        text = "_".join("-".join(word[:letters] for word in parts) for parts in words)
        if len(text) <= limit:
            return text
    return text


def _label(parameters: dict[str, Any], given: dict[str, Any] | None = None) -> str:
    """What a report is about, for its folder name: its scenario(s), else its sweep, else the
    parameters given on the command line ("sdrs-8_horizon_days-120"), else "defaults"."""
    if parameters.get("scenario_file"):
        return Path(str(parameters["scenario_file"])).stem
    if parameters.get("scenario_files"):
        return joined_label([Path(str(f)).stem for f in parameters["scenario_files"]])
    for name in ("sweep_file", "plan_file", "export"):
        if parameters.get(name):
            return Path(str(parameters[name])).stem
    settings = [f"{name}-{value}" for name, value in (given or {}).items() if name != "output_dir" and not isinstance(value, (list, dict))]
    if not settings:
        return "defaults"
    plain = "_".join(slug(setting) for setting in settings)
    return plain if len(plain) <= SLUG_LENGTH else joined_label(settings)


def _render(notebook: Path, parameters: dict[str, Any], out_dir: Path | None, km: KernelManager,
            progress: bool = False) -> Path:
    out_dir = out_dir or default_report_dir(notebook, _label({**notebook_parameters(notebook), **parameters}, parameters))
    out_dir.mkdir(parents=True, exist_ok=True)
    parameters = {**parameters, "output_dir": str((out_dir / "data").resolve())}
    executed = out_dir / "report.ipynb"
    atomic_write_text(out_dir / "parameters.yaml", yaml.safe_dump({"notebook": notebook.name, **parameters}, sort_keys=False))
    try:
        pm.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(Path.cwd()),  # relative paths in the parameters mean what they mean here
            progress_bar={"desc": f"{notebook.stem}: cells", "unit": "cell", "leave": False} if progress else False,
            km=km,
        )
    except PapermillExecutionError as exc:
        raise ReportFailed(
            f"{notebook.name}: cell {exc.cell_index} (execution count {exc.exec_count}) failed: "
            f"{exc.ename}: {exc.evalue}\nThe partly executed notebook is kept at {executed}"
        ) from None
    _export_html(executed, out_dir / "report.html")
    _remember(out_dir / "report.html")
    write_index()
    return out_dir / "report.html"


def render_report(notebook: str | Path, parameters: dict[str, Any], out_dir: Path | None = None, progress: bool = False) -> Path:
    """Execute one report and export it; return the path of its HTML (with ``progress``, a bar
    of the notebook's cells on standard error while it runs).

    Parameters the notebook does not declare, or values not of their type, raise
    ``ParameterError`` before any kernel starts.
    """
    path = notebook_path(str(notebook))
    check_parameters(path, parameters)
    with _this_python_kernel() as km:  # papermill starts it
        return _render(path, parameters, out_dir, km=km, progress=progress)


def render_batch(notebook: str | Path, parameter_sets: list[dict[str, Any]], progress: bool = True) -> list[Path]:
    """Render one report per parameter set on a single kernel (reset between reports)."""
    path = notebook_path(str(notebook))
    for number, parameters in enumerate(parameter_sets, 1):
        check_parameters(path, parameters, f"parameter set {number}")
    pages = []
    with _this_python_kernel() as km:
        km.start_kernel(cwd=str(Path.cwd()))
        for parameters in tqdm(parameter_sets, unit="report", desc=path.stem, disable=not progress):
            client = km.client()
            client.start_channels()
            client.wait_for_ready(timeout=60)
            client.execute_interactive("%reset -f\nimport matplotlib.pyplot as plt\nplt.close('all')", timeout=60)
            client.stop_channels()
            pages.append(_render(path, parameters, None, km=km))
    return pages


_INDEX_PARAMETERS_LIMIT = 100_000  # bytes of parameters.yaml read for the index


def _shown_parameters(path: Path) -> str:
    """A report's parameters for the index; a missing or unreadable file is flagged, not fatal."""
    if not path.is_file():
        return ""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read(_INDEX_PARAMETERS_LIMIT + 1)
        if len(text) > _INDEX_PARAMETERS_LIMIT:
            return "(parameters.yaml too large to show)"
        params = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return "(parameters.yaml unreadable)"
    if params is None:
        return ""
    if not isinstance(params, dict):
        return "(parameters.yaml is not a mapping)"
    return ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("notebook", "output_dir"))


_ELSEWHERE = "elsewhere.txt"  # in REPORTS_DIR: the reports written with --out outside it, one path a line
_HEADLINE_BYTES = 4_000_000  # bytes of a report page searched for its headline


class _Headline(HTMLParser):
    """The page's title and its answer: the first paragraph of an output that opens in bold."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title, self.answer = "", ""
        self._in_title, self._paragraph, self._bold_first = False, False, False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag == "p" and not self.answer:
            self._paragraph, self._bold_first, self._text = True, False, []
        elif tag == "strong" and self._paragraph and not "".join(self._text).strip():
            self._bold_first = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "p" and self._paragraph:
            self._paragraph = False
            if self._bold_first and not self.answer:
                self.answer = " ".join("".join(self._text).split())

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._paragraph:
            self._text.append(data)


def _headline(page: Path) -> tuple[str, str]:
    """A report's title and the answer it opens with (cut at a sentence near 400 characters)."""
    parser = _Headline()
    try:
        with open(page, encoding="utf-8", errors="replace") as handle:
            parser.feed(handle.read(_HEADLINE_BYTES))
    except OSError:
        return "", ""
    answer = parser.answer
    if len(answer) > 400:
        cut = answer.rfind(". ", 0, 400)
        answer = answer[: cut + 1] if cut > 0 else answer[:400] + "…"
    return parser.title.strip(), answer


def _remember(page: Path) -> None:
    """Note a report written outside REPORTS_DIR (``--out``), so the index lists it too."""
    page = page.resolve()
    if page.is_relative_to(REPORTS_DIR.resolve()):
        return
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    listed = REPORTS_DIR / _ELSEWHERE
    known = listed.read_text(encoding="utf-8").splitlines() if listed.is_file() else []
    if str(page) not in known:
        atomic_write_text(listed, "".join(f"{line}\n" for line in [*known, str(page)]))


def _pages() -> list[Path]:
    """Every report page: those under REPORTS_DIR and those written elsewhere that still exist."""
    pages = list(REPORTS_DIR.glob("*/*/report.html"))
    listed = REPORTS_DIR / _ELSEWHERE
    if listed.is_file():
        pages += [Path(line) for line in listed.read_text(encoding="utf-8", errors="replace").splitlines()
                  if line.strip() and Path(line).is_file()]
    return sorted(set(pages), key=lambda p: p.stat().st_mtime, reverse=True)


def _notebook_of(page: Path) -> str:
    shown = page.parent / "parameters.yaml"
    try:
        text = shown.read_text(encoding="utf-8")[:2000] if shown.is_file() else ""
    except (OSError, UnicodeDecodeError):
        text = ""
    match = re.search(r"^notebook: (\S+)\.ipynb", text, re.MULTILINE)
    return match.group(1) if match else page.parent.parent.name


def write_index() -> Path:
    """``reports/index.html``: every report made, newest first, each with its title, the answer
    it opens with and its parameters; reports written with ``--out`` elsewhere included."""
    rows = []
    root = REPORTS_DIR.resolve()
    for page in _pages():
        made = datetime.fromtimestamp(page.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        shown = _shown_parameters(page.parent / "parameters.yaml")
        title, answer = _headline(page)
        resolved = page.resolve()
        link = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else resolved.as_uri()
        rows.append(
            f"<tr><td>{made}</td><td>{html.escape(_notebook_of(page))}</td>"
            f"<td><a href='{html.escape(link)}'>{html.escape(title or page.parent.name)}</a>"
            f"<div class='folder'>{html.escape(page.parent.name)}</div></td>"
            f"<td>{html.escape(answer)}</td><td class='folder'>{html.escape(shown)}</td></tr>"
        )
    REPORTS_DIR.mkdir(parents=True, exist_ok=True)
    index = REPORTS_DIR / "index.html"
    atomic_write_text(
        index,
        "<!doctype html><html><head><meta charset='utf-8'><title>funnelsim reports</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:6px 10px;text-align:left;vertical-align:top}"
        "tr:nth-child(even){background:#f3f3f3}.folder{color:#666;font-size:small;overflow-wrap:anywhere}"
        "td:nth-child(4){max-width:45em}</style></head><body><h1>funnelsim reports</h1>"
        "<table><tr><th>made</th><th>notebook</th><th>report</th><th>the answer</th><th>parameters</th></tr>"
        + "".join(rows)
        + "</table></body></html>",
    )
    return index
