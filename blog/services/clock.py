"""The site's clock: times are stored in UTC and shown and typed in the site's time zone.

This is the one home of the rule. Every staff page shows a time through the `sitetime`
template filter (`show`), and every form that takes a time reads it with `from_site_input`
or `day_bounds`. When the clocks change, a typed local time can be:
- missing (the spring gap, e.g. 01:30 on 29 March 2026 in Europe/London): it is refused,
  naming the gap, because guessing an hour would publish at a time nobody typed;
- ambiguous (the autumn fold, e.g. 01:30 on 25 October 2026 in Europe/London happens
  twice): the first occurrence is taken (fold=0, still summer time), as the shown zone says.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from . import ServiceError

DEFAULT_FORMAT = "%-d %b %Y, %H:%M %Z"


def iso(moment: datetime | None) -> str | None:
    """A time as ISO 8601 with its offset, to the second (2026-11-26T15:00:00+00:00)."""
    return moment.isoformat(timespec="seconds") if moment is not None else None


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA time zone name this machine knows, sorted, for the settings list."""
    return tuple(sorted(available_timezones()))


def zone_groups() -> dict[str, list[str]]:
    """The zone names grouped by their region (the part before the first slash)."""
    groups: dict[str, list[str]] = {}
    for name in zone_names():
        region = name.split("/", 1)[0] if "/" in name else "Other"
        groups.setdefault(region, []).append(name)
    return groups


def zone_named(name: str) -> ZoneInfo:
    """The time zone called name, or a refusal that says it is not known."""
    name = (name or "").strip()
    try:
        if name not in zone_names() and name != "UTC":
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ServiceError(
            f"“{name[:60]}” is not a time zone we know: choose one from the list "
            "(for example Europe/London).",
            "timezone",
        ) from exc


def site_zone() -> ZoneInfo:
    """The time zone the site shows and reads times in (a site setting)."""
    from . import settings

    try:
        return ZoneInfo(settings.current().timezone)
    except (ZoneInfoNotFoundError, ValueError):  # a zone this machine no longer knows
        return ZoneInfo("UTC")


def to_site(moment: datetime) -> datetime:
    """The stored (UTC) moment as an aware time in the site's zone."""
    if moment.tzinfo is None:  # a naive time from the database is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(site_zone())


def show(moment: datetime | None, fmt: str = DEFAULT_FORMAT) -> str:
    """A stored moment written in the site's zone (%Z gives GMT, BST, EST...); '' for none."""
    if moment is None:
        return ""
    return to_site(moment).strftime(fmt)


def for_input(moment: datetime | None) -> datetime | None:
    """A stored moment as the naive site-zone time a datetime-local field shows back."""
    return None if moment is None else to_site(moment).replace(tzinfo=None)


def from_site_input(local: datetime, field: str = "publish_at") -> datetime:
    """A time typed in the site's zone (naive) as an aware UTC moment.

    A time the clocks skip is refused; a time that happens twice is its first occurrence.
    """
    zone = site_zone()
    first = local.replace(tzinfo=zone, fold=0)
    as_utc = first.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ServiceError(
            f"{local:%H:%M} on {local:%-d %B %Y} does not exist in {zone.key}: the clocks "
            "go forward then. Choose a time outside the skipped hour.",
            field,
        )
    return as_utc


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC start of day and of the next day, days counted in the site's zone.

    A midnight the clocks skip counts from the change (fold=0 of a missing time is the
    moment of the change), so no instant is lost between two days.
    """
    zone = site_zone()
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end
