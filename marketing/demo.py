"""The marketing domain of the demo seeder: where each family heard of us (channels).

Called by the orchestrator in lifecycle/demo.py."""
from __future__ import annotations

import random

from crm.demo import WOMAN_NAMES, person_name
from marketing.models import Channel

CHANNEL_WEIGHTS = {"walk_in": 15, "phone": 12, "referral": 30, "lecture": 12, "online": 18,
                   "school_partnership": 8, "other": 5}
LECTURES = ["高考志愿填报讲座", "中考政策解读会", "期末学习方法讲座"]


def active_channels() -> tuple[list[Channel], list[int]]:
    """The channels a demo family may come from, with their drawing weights."""
    channels = list(Channel.objects.filter(is_active=True).order_by("sort_order", "code"))
    return channels, [CHANNEL_WEIGHTS.get(c.code, 5) for c in channels]


def draw_source(rng: random.Random, channels: list[Channel],
                weights: list[int]) -> tuple[Channel | None, str]:
    """The channel a student came by and its detail (who referred, which lecture)."""
    channel = rng.choices(channels, weights=weights)[0] if channels else None
    detail = ""
    if channel is not None and channel.is_referral:
        detail = f"{person_name(rng, WOMAN_NAMES)}家长推荐"
    elif channel is not None and channel.code == "lecture":
        detail = rng.choice(LECTURES)
    return channel, detail
