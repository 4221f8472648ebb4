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
