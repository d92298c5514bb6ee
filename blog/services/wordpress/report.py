"""The import's report: what was created, updated, left alone, skipped or lost, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

_KINDS = {
    "section": ("section", "sections"),
    "author": ("author", "authors"),
    "commenter": ("commenter", "commenters"),
    "tag": ("tag", "tags"),
    "post": ("post", "posts"),
    "page": ("page", "pages"),
    "comment": ("comment", "comments"),
    "image": ("image", "images"),
    "redirect": ("redirect", "redirects"),
    "attachment": ("attachment", "attachments"),
    "item": ("other item", "other items"),
}


def _counted(counter: Counter) -> str:
    """Describe counts as '3 posts, 1 page', in a stable order."""
    parts = []
    for kind, (one, many) in _KINDS.items():
        n = counter.get(kind, 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or "nothing"


@dataclass
class ImportReport:
    """What an import did: created, updated, unchanged, skipped and failed, with reasons."""

    source: str
    dry_run: bool = False
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped_counts: Counter = field(default_factory=Counter)
    failed_counts: Counter = field(default_factory=Counter)
    not_brought_over: list[str] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, kind: str, what: str, reason: str) -> None:
        """Record something left out, with the reason."""
        self.skipped_counts[kind] += 1
        self.skipped.append(f"{what}: {reason}")

    def fail(self, kind: str, what: str, reason: str) -> None:
        """Record something that could not be brought over, with the reason."""
        self.failed_counts[kind] += 1
        self.failed.append(f"{what}: {reason}")

    def lines(self) -> list[str]:
        """The report as lines of text, for the command to print."""
        head = f"WordPress import of {self.source}"
        if self.dry_run:
            head += " (dry run: nothing was saved)"
        lines = [
            head,
            f"Created:   {_counted(self.created)}",
            f"Updated:   {_counted(self.updated)}",
            f"Skipped:   {_counted(self.skipped_counts + self.unchanged)}"
            + (f" (unchanged: {_counted(self.unchanged)})" if self.unchanged else ""),
            f"Failed:    {_counted(self.failed_counts)}",
        ]
        for title, entries in (
            ("Skipped, with reasons", self.skipped),
            ("Failed, with reasons", self.failed),
            ("Not brought over", self.not_brought_over),
            ("Kept as links to the old site (not re-hosted)", self.linked),
            ("Notes", self.notes),
        ):
            if entries:
                lines.append(f"{title}:")
                lines.extend(f"  - {entry}" for entry in entries)
        return lines

    @property
    def changed(self) -> bool:
        """True when the run created or updated anything."""
        return bool(+self.created or +self.updated)

