"""Name helpers: pinyin keys so front desk can find 张小明 by "zhangxiaoming" or "zxm"."""
from pypinyin import Style, lazy_pinyin


def pinyin_keys(name: str) -> tuple[str, str]:
    """Return (full pinyin, initials), lower-case, without spaces or tones."""
    name = (name or "").strip()
    if not name:
        return "", ""
    syllables = [s for s in lazy_pinyin(name, errors="ignore") if s.strip()]
    full = "".join(syllables).lower().replace(" ", "")
    initials = "".join(
        s[0] for s in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore") if s.strip()
    ).lower()
    return full, initials


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def staff_name(user: object) -> str:
    """The name a person reads for a staff member: never the login when a name exists.

    Order: the full name stored on the user row (family name first for Chinese names; it
    costs no query, so lists stay within their query bounds), then the staff profile's
    display name when it is loaded, then the login as the last resort. Installed as the user model's
    __str__ (crm.apps), so templates, forms, admin pickers and messages all agree.
    """
    if user is None:
        return ""
    # The profile only when already loaded (select_related / request.user): fetching it
    # here would cost a query per row in every list that prints a user.
    state = getattr(user, "_state", None)
    profile = getattr(state, "fields_cache", {}).get("staff_profile") if state else None
    return name_from_parts(first_name=getattr(user, "first_name", ""),
                           last_name=getattr(user, "last_name", ""),
                           display_name=getattr(profile, "display_name", ""),
                           username=user.get_username())  # type: ignore[attr-defined]


def name_from_parts(*, first_name: str | None, last_name: str | None,
                    display_name: str | None, username: str | None) -> str:
    """staff_name for rows read with .values() (grouped reports): same order of preference."""
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if first or last:
        if _is_cjk(first + last):
            return f"{last}{first}"
        return f"{first} {last}".strip()
    return (display_name or "").strip() or (username or "")


# Fields to add to a .values() over a relation to a user, for name_from_parts.
def name_values(prefix: str) -> list[str]:
    return [f"{prefix}__first_name", f"{prefix}__last_name",
            f"{prefix}__staff_profile__display_name", f"{prefix}__username"]


def name_of_row(row: dict, prefix: str) -> str:
    return name_from_parts(first_name=row.get(f"{prefix}__first_name"),
                           last_name=row.get(f"{prefix}__last_name"),
                           display_name=row.get(f"{prefix}__staff_profile__display_name"),
                           username=row.get(f"{prefix}__username"))
