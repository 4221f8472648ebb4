"""The ground floor of the demo seeder (`manage.py seed_demo`, orchestrated by lifecycle.demo).

What every domain's demo module shares: options and counters, the branches and staff
logins, person names and phone numbers, deterministic helpers and the generic write and
wipe tools. Why a generator and not fixtures, and how the story is told: see
lifecycle/demo.py. Nothing here imports an app above crm.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connection, models, transaction
from django.utils.translation import gettext as _

from crm.db import BATCH_SIZE, raw_insert
from crm.models import Branch, StaffProfile
from crm.roles import Role, sync_role_groups
from crm.text import pinyin_keys

DEMO_PASSWORD = "demo1234"
TZ = ZoneInfo(settings.TIME_ZONE)

# --------------------------------------------------------------------------- vocabulary

BRANCHES = [
    ("xihu", "西湖校区", "杭州", "西湖区文三路 478 号", "0571-88001001"),
    ("binjiang", "滨江校区", "杭州", "滨江区江南大道 3688 号", "0571-88001002"),
    ("chengxi", "城西校区", "杭州", "西湖区文一西路 998 号", "0571-88001003"),
    ("xiaoshan", "萧山校区", "杭州", "萧山区市心中路 818 号", "0571-88001004"),
    ("yuhang", "余杭校区", "杭州", "余杭区临平大道 566 号", "0571-88001005"),
    ("gongshu", "拱墅校区", "杭州", "拱墅区湖墅南路 188 号", "0571-88001006"),
]
BRANCH_WEIGHTS = [40, 34, 26, 22, 18, 15]

def words(text: str) -> list[str]:
    return text.split()


SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
            "尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤")
# Roughly Zipf: the common surnames are much more frequent.
SURNAME_WEIGHTS = [1.0 / (i + 8) for i in range(len(SURNAMES))]
BOY_NAMES = words("浩然 子轩 宇轩 俊熙 梓豪 浩宇 子墨 一鸣 博文 皓轩 思远 天佑 煜祺 明轩 "
                   "宇航 泽宇 铭泽 奕辰 嘉懿 子睿 若凡 子豪 家乐 文轩 晨阳 嘉豪 宇 睿 "
                   "昊 哲 俊杰 志远 承泽 逸飞 锦程 靖宇")
GIRL_NAMES = words("梓涵 欣怡 诗涵 一诺 雨桐 梓萱 可馨 语嫣 思琪 雨萱 佳怡 子涵 若曦 紫萱 静怡 "
              "梦瑶 欣妍 心怡 雅琪 芷若 诗琪 依诺 语桐 可欣 安琪 悦 彤 琪 涵 晓萱 沐晴 "
              "婉清 书瑶 清妍")
MAN_NAMES = words("伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 建华 志强 海涛 晓东 立新 文博 "
             "俊峰 永刚 建军 国强 宏伟 振宇 新华 晓峰")
WOMAN_NAMES = words("丽 娟 静 敏 燕 艳 芳 霞 婷 雪 琳 晶 红梅 丽娟 秀英 晓燕 海燕 春梅 丽华 "
               "玉兰 慧敏 雅琴 小红 文静 晓丽 美玲 彩霞 莉莉")
ELDER_NAMES = words("桂兰 秀珍 德明 国华 淑芬 建国 玉珍 振华 凤英 德福 秀兰 福生")
ENGLISH_NAMES = words("Kevin Jason Eric Leo Daniel Tony Jack Ryan Alex Oscar Amy Lily Grace Cindy "
                 "Emma Vivian Coco Alice Sophia Mia")
PHONE_PREFIXES = [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156,
                  157, 158, 159, 166, 173, 176, 177, 180, 181, 182, 183, 185, 186, 187, 188,
                  189, 191, 198, 199]


# --------------------------------------------------------------------------- options/state


@dataclass(frozen=True)
class SeedOptions:
    """What to generate; the same options on an empty database give identical data."""

    students: int = 300
    seed: int = 2024
    today: dt.date = field(default_factory=dt.date.today)
    branches: int = 3
    chunk_size: int = 2000


@dataclass
class Stats:
    """Counts for the progress line and the final summary."""

    periods: Counter = field(default_factory=Counter)
    revenue_by_level: Counter = field(default_factory=Counter)
    rows: Counter = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass
class Staff:
    """The branches and demo logins, saved once and shared by every chunk."""

    branches: list[Branch]
    by_branch: dict[int, dict[str, list]]  # branch id -> role -> users, in login order
    head_office: object
    password_hash: str


class PhoneNumbers:
    """Unique, valid mainland mobiles in E.164, deterministic per seed, no lookups.

    An affine bijection over (prefix, 8 digits) maps the running parent index to a
    number, so numbers never repeat within a run; `taken` holds numbers already in the
    database (only filled with --append).
    """

    SPACE = 10 ** 8

    def __init__(self, seed: int, start: int = 0, taken: set[str] | None = None) -> None:
        rng = random.Random(f"{seed}:phones")
        self.modulus = len(PHONE_PREFIXES) * self.SPACE
        mult = rng.randrange(self.modulus // 3, self.modulus)
        while math.gcd(mult, self.modulus) != 1:
            mult += 1
        self.mult, self.offset = mult, rng.randrange(self.modulus)
        self.index, self.taken = start, taken or set()

    def next(self) -> str:
        while True:
            n = (self.mult * self.index + self.offset) % self.modulus
            self.index += 1
            prefix, rest = divmod(n, self.SPACE)
            phone = f"+86{PHONE_PREFIXES[prefix]}{rest:08d}"
            if phone not in self.taken:
                return phone


@functools.lru_cache(maxsize=50_000)
def name_keys(name: str) -> tuple[str, str]:
    """bulk_create skips save(), so the search keys are computed here (cached: names repeat)."""
    return pinyin_keys(name)


def local_dt(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def wchoice(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def school_year_start(today: dt.date) -> dt.date:
    return dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def last_weekday_on_or_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def demo_usernames_pattern() -> re.Pattern:
    return re.compile(r"^(headoffice|(manager|frontdesk|counselor|teacher)\d+(_\d+)?)$")


# --------------------------------------------------------------------------- writing


def has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


class Writer:
    """Bulk writes that count their rows in `stats` (ORM for small tables, raw for big)."""

    stats: Stats

    def put(self, model: type[models.Model], objs: list) -> None:
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        self.stats.rows[model._meta.label] += len(objs)

    def raw(self, model: type[models.Model], columns: list[str], rows: list[tuple],
             *, returning: bool = False) -> list[int]:
        ids = raw_insert(model, columns, rows, returning=returning)
        self.stats.rows[model._meta.label] += len(rows)
        return ids


@contextlib.contextmanager
def historic_created_at(dated: list[type[models.Model]]) -> Iterator[None]:
    """Let bulk_create keep the generated `created_at` (first contact, signing date).

    auto_now_add would stamp every demo row with the moment of seeding, and then "new
    this month" dashboards would show the whole institution as new. Restored on exit.
    """
    fields = [m._meta.get_field("created_at") for m in dated]
    saved = [f.auto_now_add for f in fields]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, value in zip(fields, saved, strict=True):
            f.auto_now_add = value


def _wipe_plan(base: list[type[models.Model]],
               ) -> tuple[list[type[models.Model]], list[tuple[type[models.Model], str]]]:
    """Models to empty (the seeded ones plus anything that cascades from them), FKs to null."""
    wipe = list(base)
    for model in base:
        history = getattr(model, "history", None)
        if history is not None:
            wipe.append(history.model)
    nulls: list[tuple[type[models.Model], str]] = []
    i = 0
    while i < len(wipe):  # follow other apps' relations (e.g. lifecycle) into our tables
        for rel in wipe[i]._meta.related_objects:
            other = rel.related_model
            if other in wipe or rel.many_to_many or not getattr(rel, "on_delete", None):
                continue
            if rel.on_delete is models.SET_NULL:
                nulls.append((other, rel.field.name))
            elif rel.on_delete in (models.CASCADE, models.PROTECT, models.RESTRICT):
                wipe.append(other)
        i += 1
    # Rows deleted anyway need no nulling (and nulling may break their own checks).
    return wipe, [(m, f) for m, f in nulls if m not in wipe]


def _delete_order(wipe: list[type[models.Model]]) -> list[type[models.Model]]:
    """Referencing tables first, so SQLite's immediate FK checks never fire."""
    pending = list(dict.fromkeys(wipe))
    ordered: list[type[models.Model]] = []
    while pending:
        for model in pending:
            referenced_by_pending = any(
                f.is_relation and f.many_to_one and f.related_model is model and other is not model
                and f.db_constraint
                for other in pending for f in other._meta.concrete_fields
            )
            if not referenced_by_pending:
                ordered.append(model)
                pending.remove(model)
                break
        else:  # a cycle: give up ordering, the DB will say what is wrong
            ordered.extend(pending)
            break
    return ordered


def flush_seeded(base: list[type[models.Model]]) -> None:
    """Empty `base` and everything hanging off it, and delete the demo logins.

    Branches stay (other rows may point at them) and are reused by code. Raw DELETEs:
    the ORM's collector would load millions of rows and fire history signals.
    """
    wipe, nulls = _wipe_plan(base)
    qn = connection.ops.quote_name
    with transaction.atomic():
        for model, fname in nulls:
            model._base_manager.exclude(**{f"{fname}__isnull": True}).update(**{fname: None})
        tables = [qn(m._meta.db_table) for m in _delete_order(wipe)]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                try:  # one TRUNCATE is instant; refused if a table outside the set points in
                    with transaction.atomic():
                        cursor.execute(f"TRUNCATE {', '.join(tables)}")
                    tables = []
                except DatabaseError:
                    pass
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
        pattern = demo_usernames_pattern()
        demo = [u for u in StaffProfile.objects.values_list("user__username", flat=True)
                if pattern.match(u)]
        get_user_model().objects.filter(username__in=demo).delete()


# --------------------------------------------------------------------------- branches, staff


def person_name(rng: random.Random, given: list[str], surname: str | None = None) -> str:
    surname = surname or rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    return surname + rng.choice(given)



def _staff_plan(opts: SeedOptions) -> list[tuple[str, str, int | None]]:
    """(username, role, branch number) of every demo login; counts scale with students."""
    per_branch = max(1, opts.students // max(1, opts.branches))
    counselors = max(4, min(40, per_branch // 250))
    teachers = max(8, min(80, per_branch // 120))
    front = 2 + min(3, per_branch // 5000)
    plan: list[tuple[str, str, int | None]] = [("headoffice", Role.HEAD_OFFICE, None)]
    for b in range(1, opts.branches + 1):
        for prefix, role, count in [("manager", Role.MANAGER, 1),
                                    ("frontdesk", Role.FRONT_DESK, front),
                                    ("counselor", Role.COUNSELOR, counselors),
                                    ("teacher", Role.TEACHER, teachers)]:
            for j in range(1, count + 1):
                plan.append((f"{prefix}{b}" if j == 1 else f"{prefix}{b}_{j:02d}", role, b))
    return plan


def build_staff(opts: SeedOptions) -> Staff:
    """Branches, role groups and staff logins: created once (reused on --append)."""
    if not 1 <= opts.branches <= len(BRANCHES):
        raise ValueError(_("Between 1 and %(n)d branches.") % {"n": len(BRANCHES)})
    sync_role_groups()
    rng = random.Random(f"{opts.seed}:staff")
    branches = []
    for code, name, city, address, phone in BRANCHES[:opts.branches]:
        branch, _created = Branch.objects.update_or_create(
            code=code, defaults={"name": name, "city": city, "address": address,
                                 "phone": phone, "is_active": True})
        branches.append(branch)

    User = get_user_model()
    password_hash = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 is slow on purpose
    plan = _staff_plan(opts)
    existing = {u.username: u for u in User.objects.filter(username__in=[p[0] for p in plan])}
    new_users, new_profiles = [], []
    for username, role, b in plan:
        female = rng.random() < 0.55
        full = person_name(rng, WOMAN_NAMES if female else MAN_NAMES)
        if username in existing:
            continue
        user = User(username=username, first_name=full[1:], last_name=full[0],
                    email=f"{username}@demo.k12crm.local", is_staff=True, is_active=True,
                    password=password_hash)
        new_users.append(user)
        display = full + ("老师" if role == Role.TEACHER else "")
        new_profiles.append((user, role, branches[b - 1] if b else None, display))
    User.objects.bulk_create(new_users, batch_size=BATCH_SIZE)
    if new_users and new_users[0].pk is None:  # backends without RETURNING
        ids = dict(User.objects.filter(username__in=[u.username for u in new_users])
                   .values_list("username", "pk"))
        for u in new_users:
            u.pk = ids[u.username]
    StaffProfile.objects.bulk_create([
        StaffProfile(user=u, role=role, branch=branch, display_name=display,
                     phone=f"+8613{rng.randrange(10 ** 9):09d}")
        for u, role, branch, display in new_profiles])
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=groups[role].pk)
         for u, role, _b, _d in new_profiles], ignore_conflicts=True)

    users = {u.username: u for u in User.objects.filter(username__in=[p[0] for p in plan])}
    by_branch: dict[int, dict[str, list]] = {b.pk: defaultdict(list) for b in branches}
    for username, role, b in plan:
        if b is not None:
            by_branch[branches[b - 1].pk][role].append(users[username])
    return Staff(branches=branches, by_branch=by_branch, head_office=users["headoffice"],
                 password_hash=password_hash)


def login_table(branches: list[Branch]) -> list[tuple[str, str, str]]:
    """(username, role, branch) of the first login of each role per branch."""
    rows = [("headoffice", str(Role.HEAD_OFFICE.label), str(_("all branches")))]
    for b, branch in enumerate(branches, start=1):
        for prefix, role in [("manager", Role.MANAGER), ("counselor", Role.COUNSELOR),
                             ("frontdesk", Role.FRONT_DESK), ("teacher", Role.TEACHER)]:
            rows.append((f"{prefix}{b}", str(role.label), branch.name))
    return rows
