"""Template helpers of the marketing pages."""
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template (dict rows keyed by month or dimension)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
