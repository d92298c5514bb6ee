"""Imported archives are opened only within limits: no zip bomb, no entity bomb.

A zip's central directory declares each entry's size, but a crafted file can
lie, so the check is made twice before anything is written: once on the
declared sizes and count, then by streaming every entry and counting the bytes
that really come out, stopping as soon as they pass the limit.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from flask import current_app

from . import ServiceError

CHUNK = 1024 * 1024
# Entries up to this size may compress as well as they like (a page of zeros is fine).
RATIO_FREE_BYTES = 1024 * 1024


def _human(size: int) -> str:
    """A byte count as people say it."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} GB"


def limits() -> tuple[int, int]:
    """(IMPORT_MAX_EXPANDED_BYTES, IMPORT_MAX_ENTRIES) in force."""
    config = current_app.config
    return int(config["IMPORT_MAX_EXPANDED_BYTES"]), int(config["IMPORT_MAX_ENTRIES"])


def check_zip(archive: zipfile.ZipFile, label: str, error: type[ServiceError]) -> None:
    """Refuse an archive whose entries, declared or real, pass the import limits."""
    max_bytes, max_entries = limits()
    entries = archive.infolist()
    refused = f"{label} is refused: "
    if len(entries) > max_entries:
        raise error(
            f"{refused}it holds {len(entries):,} entries, more than the {max_entries:,} allowed "
            "(IMPORT_MAX_ENTRIES). Nothing was imported."
        )
    declared = sum(entry.file_size for entry in entries)
    if declared > max_bytes:
        raise error(
            f"{refused}it expands to {_human(declared)}, more than the {_human(max_bytes)} "
            "allowed (IMPORT_MAX_EXPANDED_BYTES). Nothing was imported."
        )
    ratio = int(current_app.config["IMPORT_MAX_RATIO"])
    for entry in entries:
        if _too_compressed(entry.file_size, entry.compress_size, ratio):
            raise error(_ratio_refusal(refused, entry.filename, ratio))
    seen = 0
    for entry in entries:
        entry_seen = 0
        try:
            with archive.open(entry) as member:
                while chunk := member.read(CHUNK):
                    seen += len(chunk)
                    entry_seen += len(chunk)
                    if _too_compressed(entry_seen, entry.compress_size, ratio):
                        raise error(_ratio_refusal(refused, entry.filename, ratio))
                    if seen > max_bytes:
                        raise error(
                            f"{refused}it expands to more than the {_human(max_bytes)} allowed "
                            "(IMPORT_MAX_EXPANDED_BYTES), more than its header says. "
                            "Nothing was imported."
                        )
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
            raise error(f"{label} is damaged ({exc}). Nothing was imported.") from exc
        except NotImplementedError as exc:
            raise error(f"{label} uses a compression this site cannot read.") from exc


def _too_compressed(expanded: int, compressed: int, ratio: int) -> bool:
    """True when an entry past RATIO_FREE_BYTES expands more than ratio times."""
    return expanded > RATIO_FREE_BYTES and expanded > ratio * max(compressed, 1)


def _ratio_refusal(refused: str, name: str, ratio: int) -> str:
    """The message for an entry that expands suspiciously far (a zip bomb)."""
    return (
        f"{refused}its entry {name[:100]!r} expands more than {ratio} times its compressed "
        "size, as a zip bomb does (IMPORT_MAX_RATIO). Nothing was imported."
    )


def check_file_size(path: Path, label: str, error: type[ServiceError]) -> None:
    """Refuse a single file to import that is larger than IMPORT_MAX_EXPANDED_BYTES."""
    max_bytes, _ = limits()
    size = path.stat().st_size
    if size > max_bytes:
        raise error(
            f"{label} is refused: it is {_human(size)}, more than the {_human(max_bytes)} "
            "allowed (IMPORT_MAX_EXPANDED_BYTES). Nothing was imported."
        )
