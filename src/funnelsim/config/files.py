"""Files the tool writes: whole or absent, never over what it must not touch, never live YAML.

* ``atomic_write_text`` writes under a hidden name of this process and renames into place, so a
  reader never sees half a file and two processes never share a temporary file.
* ``yaml_scalar``, ``yaml_comment`` and ``commented_yaml`` write YAML with comments beside the
  values: every key and value goes through the YAML library (quoted when plain text would read
  back as something else), and a comment never breaks its line, so a company or channel name
  holding a newline, ``#`` or ``: `` stays one string.
* ``check_scenario_target`` and ``write_scenario_file`` write a scenario file (``assess``,
  ``calibrate``): never over an existing file without ``force``, never over the baseline it
  extends (nor a file that baseline extends), and only after the text validates as a scenario.
* ``folder_lock`` gives one writer at a time a results folder.
"""

from __future__ import annotations

import errno
import fcntl
import math
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from funnelsim.config.errors import InputError, ParameterError
from funnelsim.config.loading import load_validated
from funnelsim.config.yaml_files import parse_yaml, read_yaml
from funnelsim.config.paths import PARAMS_DIR
from funnelsim.config.schema import Scenario

__all__ = [
    "FolderBusy",
    "atomic_write_text",
    "check_scenario_target",
    "commented_yaml",
    "folder_lock",
    "temporary_name",
    "write_whole",
    "write_scenario_file",
    "yaml_comment",
    "yaml_scalar",
]


def temporary_name(path: Path) -> Path:
    """A hidden name beside ``path`` that belongs to this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` write a temporary file beside ``path``, then rename it to ``path``: the file
    is whole or absent, and no temporary file is left."""
    tmp = temporary_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole (temporary file, then rename); no temporary file is left."""
    write_whole(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# --- YAML with comments ---------------------------------------------------------------------

_LINE_BREAKS = str.maketrans({"\r": " ", "\n": " ", "\x85": " ", "\u2028": " ", "\u2029": " "})


def _same(read: Any, value: Any) -> bool:
    """Equal, and a single value of the same type (the text "1" is not the number 1)."""
    if isinstance(read, float) and isinstance(value, float) and math.isnan(read) and math.isnan(value):
        return True
    if isinstance(value, (dict, list)):
        return read == value
    return type(read) is type(value) and read == value


def _dump(value: Any, style: str | None) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, default_style=style, width=math.inf, allow_unicode=True)
    return text.strip().removesuffix("...").strip()


def yaml_scalar(value: Any) -> str:
    """``value`` as YAML on one line that the scenario reader reads back as the same value."""
    text = _dump(value, None)
    if _reads_back(text, value):
        return text
    return _dump(value, '"')  # double quotes escape every line break and every odd character


def _reads_back(text: str, value: Any) -> bool:
    if text != text.translate(_LINE_BREAKS):
        return False
    try:
        return _same(parse_yaml(f"key: {text}  # comment")["key"], value)
    except (yaml.YAMLError, ValueError):  # ValueError: the reader takes `._` for a float it cannot build
        return False


def yaml_comment(text: str) -> str:
    """``text`` fit for a ``#`` comment: one line, only characters a YAML file may hold."""
    one_line = str(text).translate(_LINE_BREAKS)
    return yaml.reader.Reader.NON_PRINTABLE.sub("?", one_line)


def commented_yaml(header: list[str], top: dict[str, Any], body: dict[str, Any], comments: dict[str, str]) -> str:
    """A YAML file: ``header`` comment lines, ``top`` keys, then ``body`` as nested blocks.

    A mapping in ``body`` becomes a block of its own unless its dotted key path has a comment,
    in which case it is written on one line (a distribution, say) with the comment beside it.
    """
    lines = [f"# {yaml_comment(line)}" for line in header]
    lines += _block(top, {}, "", 0) + _block(body, comments, "", 0)
    return "\n".join(lines) + "\n"


_SIMPLE_KEY_LENGTH = 1000


def _block(body: dict[str, Any], comments: dict[str, str], prefix: str, indent: int) -> list[str]:
    out = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        written = yaml_scalar(key)
        if len(written) > _SIMPLE_KEY_LENGTH:  # YAML's limit for a plain `key:`; write `? key` then `:`
            head = " " * indent + f"? {written}\n" + " " * indent + ":"
        else:
            head = " " * indent + f"{written}:"
        if isinstance(value, dict) and path not in comments:
            out.append(head)
            out.extend(_block(value, comments, path + ".", indent + 2))
            continue
        note = f"  # {yaml_comment(comments[path])}" if path in comments else ""
        out.append(f"{head} {yaml_scalar(value)}{note}")
    return out


# --- scenario files ---------------------------------------------------------------------------


def _extends_chain(baseline: Path) -> list[Path]:
    """``baseline`` and every file it extends, resolved."""
    chain: list[Path] = []
    current: Path | None = baseline.resolve()
    while current is not None and current not in chain and current.is_file():
        chain.append(current)
        try:
            parent = read_yaml(current, str(current)).get("extends")
        except ParameterError:
            break
        current = (current.parent / parent).resolve() if isinstance(parent, str) else None
    return chain


def check_scenario_target(target: Path, baseline: Path, force: bool) -> None:
    """Refuse (``ParameterError``) a target that is a baseline or exists without ``force``."""
    protected = {*_extends_chain(baseline), *_extends_chain(PARAMS_DIR / "baseline.yaml")}
    if target.resolve() in protected:
        raise ParameterError([
            f"{target}: a baseline scenario other files extend is never overwritten (not even with --force); "
            f"choose another --out"
        ])
    if target.is_dir():
        raise ParameterError([f"{target}: is a folder; give a file name, e.g. {target / 'company.yaml'}"])
    if target.exists() and not force:
        raise ParameterError([f"{target}: already exists; add --force to replace it, or choose another --out"])


def write_scenario_file(text: str, target: Path, baseline: Path, force: bool = False) -> Path:
    """Write scenario ``text`` to ``target`` once it validates; on any failure nothing is left.

    The text goes to a temporary file beside ``target`` (so its ``extends`` resolves as it
    will), is loaded and validated as a scenario, and only then renamed into place: without
    ``force`` by a hard link that fails if ``target`` appeared meanwhile.
    """
    check_scenario_target(target, baseline, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    try:
        tmp.write_text(text, encoding="utf-8")
        load_validated(tmp, Scenario, extends=True, defaults={"name": target.stem},
                       label=f"{target} (as it would be written)")
        if force:
            os.replace(tmp, target)
        else:
            _link_new(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _link_new(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target`` unless ``target`` exists (atomically where links work)."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise ParameterError([f"{target}: already exists; add --force to replace it, or choose another --out"]) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        if target.exists():  # a file system without hard links: check, then rename
            raise ParameterError([f"{target}: already exists; add --force to replace it, or choose another --out"]) from None
        os.replace(source, target)


# --- one writer per results folder ------------------------------------------------------------

LOCK_NAME = ".lock"


class FolderBusy(InputError):
    """Another process is writing to the results folder."""


_HELD: set[Path] = set()
_HELD_GUARD = threading.Lock()


@contextmanager
def folder_lock(folder: Path) -> Iterator[str | None]:
    """Hold ``folder/.lock`` while writing; yield a note if a dead writer's lock was taken over.

    The lock is a POSIX record lock (``lockf``) on the file, which the system releases when
    its process ends, even by ``kill -9``, and which pool workers do not inherit. The file
    names the holder (pid and host) for the message a second writer gets; it is emptied on
    release, so a name found in it when the lock is free is that of a writer that died.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / LOCK_NAME).resolve()
    busy = f"{folder}: another funnelsim is writing here ({{}}); wait for it to finish, or choose another --out"
    with _HELD_GUARD:  # record locks belong to a process: a second holder inside it is refused here
        if path in _HELD:
            raise FolderBusy(busy.format(f"pid {os.getpid()}, this process"))
        _HELD.add(path)
    fd = -1
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise FolderBusy(busy.format(_holder(fd) or "another process")) from None
        previous = _holder(fd)
        note = f"{folder}: took over the lock left by {previous}, which is no longer running" if previous else None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        try:
            yield note
        finally:
            os.ftruncate(fd, 0)
    finally:
        if fd >= 0:
            os.close(fd)
        with _HELD_GUARD:
            _HELD.discard(path)


def _holder(fd: int) -> str:
    return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
