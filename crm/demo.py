"""Demo data for the quickstart, the admin and load tests (`manage.py seed_demo`).

Why a generator and not fixtures: an institution only looks real with thousands of
interlocking facts (families, contracts, lessons, hours, complaints) that obey every
DB constraint and tell a consistent lifecycle story per student, and load tests need
100,000 students. So everything is drawn from a seeded `random.Random` relative to a
fixed reference date (same seed + date -> the same data) and written with
`bulk_create` in chunks of students, one transaction per chunk, memory bounded.

Each student first gets a *story* (the lifecycle period it is in today), and the facts
are derived from it: contracts, weekly lessons and attendance, the lesson-hour ledger
(never negative), payments, refunds, exams, contacts, complaints and surveys.
Lifecycle services are not used: the period fields are set directly, consistent
with the facts (see `PERIOD_WEIGHTS` and `_plan_student`).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist
from django.db import DatabaseError, connection, models, transaction
from django.utils.translation import gettext as _

from crm.db import BATCH_SIZE, db_datetime, db_time, raw_insert, temporals_as_text
from crm.models import Branch, StaffProfile
from crm.roles import Role, sync_role_groups
from crm.text import pinyin_keys
from lifecycle.periods import Period
from marketing.models import Channel
from parents.models import ContactConsent, GuardianConsent, Guardianship, Parent
from students.models import (
    Attendance,
    ClassGroup,
    ClassSession,
    Complaint,
    Contract,
    Course,
    ExamScore,
    Interaction,
    LedgerEntry,
    Payment,
    Refund,
    SatisfactionSurvey,
    Student,
)
from students.models.account import UNDER_14_GRADES

DEMO_PASSWORD = "demo1234"
SESSION_HOURS = 2  # every demo lesson is 2 hours; packages are whole multiples of it
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

def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
            "尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔向汤")
# Roughly Zipf: the common surnames are much more frequent.
SURNAME_WEIGHTS = [1.0 / (i + 8) for i in range(len(SURNAMES))]
BOY_NAMES = _words("浩然 子轩 宇轩 俊熙 梓豪 浩宇 子墨 一鸣 博文 皓轩 思远 天佑 煜祺 明轩 "
                   "宇航 泽宇 铭泽 奕辰 嘉懿 子睿 若凡 子豪 家乐 文轩 晨阳 嘉豪 宇 睿 "
                   "昊 哲 俊杰 志远 承泽 逸飞 锦程 靖宇")
GIRL_NAMES = _words("梓涵 欣怡 诗涵 一诺 雨桐 梓萱 可馨 语嫣 思琪 雨萱 佳怡 子涵 若曦 紫萱 静怡 "
              "梦瑶 欣妍 心怡 雅琪 芷若 诗琪 依诺 语桐 可欣 安琪 悦 彤 琪 涵 晓萱 沐晴 "
              "婉清 书瑶 清妍")
MAN_NAMES = _words("伟 强 磊 军 勇 杰 涛 斌 超 明 刚 平 辉 鹏 华 飞 建华 志强 海涛 晓东 立新 文博 "
             "俊峰 永刚 建军 国强 宏伟 振宇 新华 晓峰")
WOMAN_NAMES = _words("丽 娟 静 敏 燕 艳 芳 霞 婷 雪 琳 晶 红梅 丽娟 秀英 晓燕 海燕 春梅 丽华 "
               "玉兰 慧敏 雅琴 小红 文静 晓丽 美玲 彩霞 莉莉")
ELDER_NAMES = _words("桂兰 秀珍 德明 国华 淑芬 建国 玉珍 振华 凤英 德福 秀兰 福生")
ENGLISH_NAMES = _words("Kevin Jason Eric Leo Daniel Tony Jack Ryan Alex Oscar Amy Lily Grace Cindy "
                 "Emma Vivian Coco Alice Sophia Mia")
OCCUPATIONS = _words("教师 医生 公务员 工程师 会计 个体经营 销售经理 程序员 企业管理 自由职业 护士 "
               "律师 银行职员 外贸 设计师")

SCHOOLS = {
    "S": ["杭州第二中学", "杭州学军中学", "杭州高级中学", "杭州第十四中学", "浙大附中",
          "杭州外国语学校", "杭州第四中学", "长河高级中学", "杭州第九中学", "源清中学"],
    "J": ["杭州市十三中", "建兰中学", "文澜中学", "公益中学", "保俶塔实验学校", "采荷中学",
          "十五中教育集团", "启正中学"],
    "P": ["学军小学", "天长小学", "胜利小学", "文一街小学", "崇文实验学校", "求是小学",
          "东城第二实验学校", "行知小学"],
}
UNIVERSITIES = ["浙江大学", "复旦大学", "上海交通大学", "南京大学", "中国科学技术大学",
                "北京大学", "清华大学", "同济大学", "华东师范大学", "浙江工业大学",
                "杭州电子科技大学", "宁波大学", "浙江师范大学", "武汉大学", "中山大学"]
GOALS = {
    "S": ["高考{subj}目标 130 分以上", "冲刺 985 院校", "{subj}提高 20 分", "稳住一本线",
          "三位一体综合评价招生", "选考{subj}拿 A", "弥补{subj}短板，学考通过"],
    "J": ["中考考入重点高中", "{subj}从 80 分提到 100 分以上", "保持年级前 50",
          "打好{subj}基础，衔接高中"],
    "P": ["培养学习习惯", "{subj}兴趣培养", "小升初择校准备", "提高计算准确率"],
}
FAMILY_SITUATIONS = {
    "both": ["双职工家庭，妈妈负责接送", "父母都在上班，周末有时间陪学",
             "父亲经常出差，母亲主管学习", "父母对学习要求高，重视成绩"],
    "grand": ["父母工作忙，平时由爷爷奶奶照顾", "三代同住，老人负责接送"],
    "mother": ["单亲家庭，由母亲抚养"],
    "father": ["单亲家庭，由父亲抚养"],
    "elder": ["父母在外地工作，由祖父母监护"],
}
PERSONALITIES = ["性格开朗，上课积极发言", "比较内向，需要多鼓励", "自主性强，有明确目标",
                 "注意力容易分散", "好胜心强，喜欢挑战难题", "做事认真细致，速度偏慢",
                 "自尊心强，不喜欢当众被批评"]
PREFERENCES = ["偏好周末上午上课", "希望安排同一位老师", "喜欢讲题细致的老师", "晚上 7 点后有空",
               "希望多做真题训练", "喜欢互动多的课堂", "希望课后有作业反馈"]

SUBJECT_ZH = {"math": "数学", "english": "英语", "physics": "物理", "chemistry": "化学",
              "chinese": "语文", "biology": "生物"}
GRADE_ZH = {"S1": "高一", "S2": "高二", "S3": "高三", "J1": "初一", "J2": "初二", "J3": "初三",
            "P1": "小学", "P2": "小学", "P3": "小学", "P4": "小学", "P5": "小学", "P6": "小学"}
GRADES = ["P1", "P2", "P3", "P4", "P5", "P6", "J1", "J2", "J3", "S1", "S2", "S3"]
# High school dominates (DOMAIN.md §1: 75%+ of revenue).
GRADE_WEIGHTS = [0.5, 1, 1.5, 2, 2.5, 3.5, 4, 5, 8, 20, 24, 27]
LEVEL_SUBJECTS = {
    "S": {"math": 30, "english": 20, "physics": 18, "chemistry": 14, "chinese": 10, "biology": 8},
    "J": {"math": 35, "english": 30, "physics": 15, "chinese": 10, "chemistry": 10},
    "P": {"math": 45, "english": 35, "chinese": 20},
}
LEVEL_FORMATS = {
    "S": {"one_to_one": 35, "small_group": 65},
    "J": {"one_to_one": 20, "small_group": 45, "class": 35},
    "P": {"small_group": 35, "class": 65},
}
FORMAT_ZH = {"one_to_one": "一对一", "small_group": "精品小班", "class": "同步班"}
FORMAT_PRICE = {  # price per hour range by (level, format)
    ("S", "one_to_one"): (320, 400), ("S", "small_group"): (220, 300),
    ("J", "one_to_one"): (260, 320), ("J", "small_group"): (180, 240), ("J", "class"): (150, 180),
    ("P", "small_group"): (160, 200), ("P", "class"): (150, 170),
}
CHAINS_PER_GROUP = {"one_to_one": 1, "small_group": 14, "class": 30}
CAPACITY = {"one_to_one": 1, "small_group": 10, "class": 25}
SLOTS = ([(wd, dt.time(18, 30), dt.time(20, 30)) for wd in range(5)]
         + [(wd, start, end) for wd in (5, 6) for start, end in [
             (dt.time(8, 30), dt.time(10, 30)), (dt.time(10, 40), dt.time(12, 40)),
             (dt.time(13, 30), dt.time(15, 30)), (dt.time(15, 40), dt.time(17, 40)),
             (dt.time(18, 30), dt.time(20, 30))]])
TEACHER_SUBJECTS = ["math", "english", "physics", "chemistry", "math", "chinese", "english",
                    "biology"]
CHANNEL_WEIGHTS = {"walk_in": 15, "phone": 12, "referral": 30, "lecture": 12, "online": 18,
                   "school_partnership": 8, "other": 5}
PHONE_PREFIXES = [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156,
                  157, 158, 159, 166, 173, 176, 177, 180, 181, 182, 183, 185, 186, 187, 188,
                  189, 191, 198, 199]

# Today's period of each student; the facts are generated to match it.
PERIOD_WEIGHTS = {
    Period.PROSPECTING: 20, Period.SOCIALIZATION: 15, Period.GROWTH: 20, Period.MATURITY: 12,
    Period.AT_RISK: 8, Period.TERMINATION: 8, Period.LAPSED: 17,
}
ACTIVE_PERIODS = (Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY)

ATT, LATE, LEAVE, ABSENT = (Attendance.Status.ATTENDED, Attendance.Status.LATE,
                            Attendance.Status.LEAVE, Attendance.Status.ABSENT)
CONSUMING = {ATT, LATE}

INTERACTION_TEXT = {
    "first": ["首次到访咨询，了解{course}课程", "电话咨询{course}，约了到校参观",
              "家长在家长群看到推荐，来电了解课程", "公开讲座后留资，初步沟通学习情况"],
    "trial": ["试听课后回访，{who}对老师印象不错", "试听反馈：节奏适合，考虑报名",
              "试听后{who}觉得难度偏高，需再评估"],
    "regular": ["月度学情沟通，{course}进步明显", "反馈近期测验成绩，制定下阶段计划",
                "课后作业完成情况沟通", "期中考试后学情分析", "提醒课时余量，沟通续费意向",
                "节假日调课通知确认"],
    "negative": ["连续缺课，{who}表示最近学校作业多", "{who}对上课时间安排不满意",
                 "{who}反映成绩没有提高，考虑换机构", "沟通缺课原因，{who}态度冷淡"],
    "exit": ["退费沟通，记录流失原因：{reason}", "离开原因访谈：{reason}"],
    "winback": ["新学期回访，介绍{course}新课程", "考试结束后回访，询问是否有补习需求"],
}
EXIT_REASONS = ["成绩提升不明显", "时间冲突", "搬家离校区太远", "换了其他机构", "学校课业太重",
                "对老师不满意", "经济原因"]
COMPLAINT_TEXT = {
    "teaching": "老师讲课节奏太快，孩子跟不上", "teacher": "频繁更换老师，孩子不适应",
    "schedule": "临时调课没有提前通知", "service": "课后反馈不及时，学管师联系不上",
    "billing": "课时扣除有误，要求核对", "environment": "教室空调不好，夏天太热",
    "other": "停车不方便，接送困难",
}
REFUND_REASONS = ["孩子学习压力大，暂停补课", "对教学效果不满意", "搬家，距离太远",
                  "转到其他机构", "家庭经济原因"]
SURVEY_COMMENTS = {5: "非常满意，老师很负责", 4: "整体满意，希望多些练习", 3: "一般，还在观察效果",
                   2: "不太满意，成绩没有起色", 1: "很失望，沟通不及时"}


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
class World:
    """Shared, already-saved objects (branches, staff, courses) and running counters."""

    opts: SeedOptions
    branches: list[Branch]
    staff: dict[int, dict[str, list]]  # branch id -> role -> users
    teacher_subject: dict[int, str]
    head_office: object
    courses: dict[tuple[str, str, str], Course]  # (grade or level key, subject, format)
    channels: list[Channel]
    channel_weights: list[int]
    phones: PhoneNumbers
    password_hash: str
    contract_seq: int = 0
    payment_seq: int = 0
    group_seq: dict[int, int] = field(default_factory=dict)
    open_groups: dict[tuple[int, int, str], GroupPlan] = field(default_factory=dict)


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
def _pinyin(name: str) -> tuple[str, str]:
    """bulk_create skips save(), so the search keys are computed here (cached: names repeat)."""
    return pinyin_keys(name)


def _at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _level(grade: str) -> str:
    return grade[0]


def _wchoice(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _school_year_start(today: dt.date) -> dt.date:
    return dt.date(today.year if today.month >= 9 else today.year - 1, 9, 1)


def _last_weekday_on_or_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def demo_usernames_pattern() -> re.Pattern:
    return re.compile(r"^(headoffice|(manager|frontdesk|counselor|teacher)\d+(_\d+)?)$")


# --------------------------------------------------------------------------- raw inserts


def _has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True



def existing_student_count() -> int:
    return Student.objects.count()


@contextlib.contextmanager
def historic_created_at() -> Iterator[None]:
    """Let bulk_create keep the generated `created_at` (first contact, signing date).

    auto_now_add would stamp every demo row with the moment of seeding, and then "new
    this month" dashboards would show the whole institution as new. Restored on exit.
    """
    fields = [m._meta.get_field("created_at") for m in (Student, Parent, Guardianship, Contract)]
    saved = [f.auto_now_add for f in fields]
    for f in fields:
        f.auto_now_add = False
    try:
        yield
    finally:
        for f, value in zip(fields, saved, strict=True):
            f.auto_now_add = value


def _wipe_plan() -> tuple[list[type[models.Model]], list[tuple[type[models.Model], str]]]:
    """Models to empty (ours plus anything that cascades from them) and FKs to null."""
    wipe: list[type[models.Model]] = [
        LedgerEntry, Attendance, Payment, Refund, ExamScore, Interaction, Complaint,
        SatisfactionSurvey, Contract, ClassSession, ClassGroup, Course, GuardianConsent,
        ContactConsent, Guardianship, Parent, Student,
    ]
    for model in (Student, Parent, Guardianship):
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
    return wipe, nulls


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


def flush_demo_data() -> None:
    """Remove all students and everything hanging off them, courses and the demo staff.

    Branches stay (other rows may point at them) and are reused by code. Raw DELETEs:
    the ORM's collector would load millions of rows and fire history signals.
    """
    wipe, nulls = _wipe_plan()
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


# --------------------------------------------------------------------------- the world


def _person_name(rng: random.Random, given: list[str], surname: str | None = None) -> str:
    surname = surname or rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    return surname + rng.choice(given)


def _course_key(grade: str) -> str:
    if grade in ("P1", "P2", "P3"):
        return "PL"
    if grade in ("P4", "P5", "P6"):
        return "PH"
    return grade


def _build_courses(seed: int) -> dict[tuple[str, str, str], Course]:
    """The catalogue: per grade (primary: lower/upper), subject and format."""
    rng = random.Random(f"{seed}:courses")
    wanted = []
    for key in ["PL", "PH", "J1", "J2", "J3", "S1", "S2", "S3"]:
        level = key[0]
        subjects = list(LEVEL_SUBJECTS[level])
        if key == "J1":
            subjects = [s for s in subjects if s not in ("physics", "chemistry")]
        elif key == "J2":
            subjects = [s for s in subjects if s != "chemistry"]
        level_zh = {"PL": "小学低年级", "PH": "小学高年级"}.get(key) or GRADE_ZH[key]
        for subject in subjects:
            for fmt in LEVEL_FORMATS[level]:
                lo, hi = FORMAT_PRICE[(level, fmt)]
                wanted.append(Course(
                    code=f"demo-{key.lower()}-{subject}-{fmt.replace('_', '')}",
                    name=f"{level_zh}{SUBJECT_ZH[subject]}{FORMAT_ZH[fmt]}",
                    subject=subject, format=fmt, level=key,
                    unit_price=Decimal(rng.randrange(lo, hi + 1, 10)),
                ))
    existing = {c.code: c for c in Course.objects.filter(code__in=[w.code for w in wanted])}
    Course.objects.bulk_create([w for w in wanted if w.code not in existing],
                               batch_size=BATCH_SIZE)
    existing = {c.code: c for c in Course.objects.filter(code__in=[w.code for w in wanted])}
    return {(c.level, c.subject, c.format): c for c in existing.values()}


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


def build_world(opts: SeedOptions, *, append: bool = False) -> World:
    """Branches, role groups, staff logins and courses: created once, reused by chunks."""
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
        full = _person_name(rng, WOMAN_NAMES if female else MAN_NAMES)
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
    staff: dict[int, dict[str, list]] = {b.pk: defaultdict(list) for b in branches}
    teacher_subject: dict[int, str] = {}
    for username, role, b in plan:
        if b is None:
            continue
        user = users[username]
        role_list = staff[branches[b - 1].pk][role]
        if role == Role.TEACHER:
            teacher_subject[user.pk] = TEACHER_SUBJECTS[len(role_list) % len(TEACHER_SUBJECTS)]
        role_list.append(user)

    channels = list(Channel.objects.filter(is_active=True).order_by("sort_order", "code"))
    taken: set[str] = set()
    start = 0
    if append:
        taken = set(Parent.objects.values_list("phone", flat=True))
        start = len(taken)
    world = World(
        opts=opts, branches=branches, staff=staff, teacher_subject=teacher_subject,
        head_office=users["headoffice"], courses=_build_courses(opts.seed), channels=channels,
        channel_weights=[CHANNEL_WEIGHTS.get(c.code, 5) for c in channels],
        phones=PhoneNumbers(opts.seed, start=start, taken=taken), password_hash=password_hash,
    )
    if append:
        world.contract_seq = Contract.objects.count()
        world.payment_seq = Payment.objects.count()
        world.group_seq = dict(ClassGroup.objects.values("branch").annotate(n=models.Count("pk"))
                               .values_list("branch", "n"))
    return world


def login_table(world: World) -> list[tuple[str, str, str]]:
    """(username, role, branch) of the first login of each role per branch."""
    rows = [("headoffice", str(Role.HEAD_OFFICE.label), str(_("all branches")))]
    for b, branch in enumerate(world.branches, start=1):
        for prefix, role in [("manager", Role.MANAGER), ("counselor", Role.COUNSELOR),
                             ("frontdesk", Role.FRONT_DESK), ("teacher", Role.TEACHER)]:
            rows.append((f"{prefix}{b}", str(role.label), branch.name))
    return rows


# --------------------------------------------------------------------------- per student


@dataclass
class ContractPlan:
    course: Course
    hours: int
    gifted: int
    is_trial: bool
    is_renewal: bool
    statuses: list[str]  # pre-drawn roll calls until the package is used up
    used: int = 0
    dates: list[dt.date] = field(default_factory=list)
    end: str = "active"  # active | completed | expired | refund | cancel
    refund_status: str = ""
    refund_at: dt.date | None = None
    refund_decided: dt.date | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    signed_on: dt.date | None = None
    obj: Contract | None = None


@dataclass
class GroupPlan:
    branch: Branch
    course: Course
    slot: tuple[int, dt.time, dt.time]
    teacher: object
    room: str = ""
    chains: int = 0
    dates: set[dt.date] = field(default_factory=set)
    active: bool = False
    obj: ClassGroup | None = None
    sessions: dict[dt.date, int] = field(default_factory=dict)  # date -> session id


@dataclass
class Chain:
    """Consecutive packages of one course in one class group (renewals follow on)."""

    course: Course
    contracts: list[ContractPlan]
    group: GroupPlan | None = None


@dataclass
class StudentPlan:
    student: Student
    guardians: list[tuple[Parent, str, bool, bool]]  # parent, relation, primary, decides
    period: str
    base: str  # the period the facts are built for (at_risk: the one it came from)
    main: Chain | None = None
    extra: Chain | None = None
    absence_run: int = 0
    end_date: dt.date | None = None
    end_kind: str = ""


def _draw_statuses(rng: random.Random, budget: int) -> list[str]:
    """Roll calls until the package (incl. gifted hours) is used up: never overdrawn."""
    seq, left = [], budget
    while left >= SESSION_HOURS:
        r = rng.random()
        status = ATT if r < 0.86 else LATE if r < 0.91 else LEAVE if r < 0.96 else ABSENT
        seq.append(status)
        if status in CONSUMING:
            left -= SESSION_HOURS
    return seq


def _package(rng: random.Random, course: Course, *, first: bool, renewal: bool) -> ContractPlan:
    if first:
        hours = rng.choice([20, 30, 40, 40, 60])
        gifted = rng.choice([2, 4]) if rng.random() < 0.15 else 0
    else:
        hours = rng.choices([40, 48, 60, 80, 100, 120], weights=[35, 20, 25, 12, 5, 3])[0]
        gifted = rng.choice([2, 4, 6, 10]) if rng.random() < 0.4 else 0
    return ContractPlan(course=course, hours=hours, gifted=gifted, is_trial=False,
                        is_renewal=renewal, statuses=_draw_statuses(rng, hours + gifted))


def _trial(course: Course) -> ContractPlan:
    return ContractPlan(course=course, hours=SESSION_HOURS, gifted=0, is_trial=True,
                        is_renewal=False, statuses=[ATT])


def _pick_course(rng: random.Random, world: World, grade: str, exclude: str = "") -> Course:
    level = _level(grade)
    key = _course_key(grade)
    subjects = {s: w for s, w in LEVEL_SUBJECTS[level].items()
                if s != exclude and any(k[0] == key and k[1] == s for k in world.courses)}
    subject = _wchoice(rng, subjects)
    formats = {f: w for f, w in LEVEL_FORMATS[level].items() if (key, subject, f) in world.courses}
    return world.courses[(key, subject, _wchoice(rng, formats))]


def _plan_story(rng: random.Random, world: World, sp: StudentPlan) -> None:
    """Choose contracts (and their pre-drawn attendance) that fit the student's period."""
    grade = sp.student.grade
    course = _pick_course(rng, world, grade)
    if sp.period == Period.PROSPECTING:
        if rng.random() < 0.35:
            sp.main = Chain(course, [_trial(course)])
        return
    base = sp.base
    if base == Period.SOCIALIZATION:
        n = 1
    elif base == Period.GROWTH:
        n = 2
    elif base == Period.MATURITY:
        n = rng.choice([3, 3, 4])
    else:  # ended: early abort (I), mid-way (II) or early exit (III)
        n = rng.choices([1, 2, 3], weights=[55, 30, 15])[0]
    contracts = [_package(rng, course, first=i == 0, renewal=i > 0) for i in range(n)]
    if rng.random() < 0.4:
        contracts.insert(0, _trial(course))
    sp.main = Chain(course, contracts)
    if base in (Period.GROWTH, Period.MATURITY) and rng.random() < 0.25:
        other = _pick_course(rng, world, grade, exclude=course.subject)
        sp.extra = Chain(other, [_package(rng, other, first=False, renewal=True)])


def _validity(plan: ContractPlan, rng: random.Random) -> None:
    first = plan.dates[0] if plan.dates else plan.signed_on
    plan.valid_from = first - dt.timedelta(days=rng.randint(0, 6))
    plan.signed_on = plan.valid_from - dt.timedelta(days=rng.randint(0, 10))
    if plan.is_trial:
        plan.valid_until = plan.valid_from + dt.timedelta(days=30)
        return
    weeks = math.ceil(plan.hours / SESSION_HOURS / 0.9) + 4
    months = 6 if weeks <= 26 else 12 if weeks <= 52 else 18
    plan.valid_until = plan.valid_from + dt.timedelta(days=round(months * 30.5))
    if plan.dates:
        plan.valid_until = max(plan.valid_until, plan.dates[-1] + dt.timedelta(days=14))


def _schedule_chain(rng: random.Random, chain: Chain, anchor: dt.date, last_used: int,
                    absences: int) -> None:
    """Lay the chain's lessons out weekly, backwards from `anchor` (its latest lesson).

    The last package has used `last_used` of its drawn roll calls, earlier ones all of
    theirs; the final `absences` lessons become absences (a run the risk scan will see).
    """
    weekday = chain.group.slot[0]
    day = _last_weekday_on_or_before(anchor, weekday)
    paid = [c for c in chain.contracts if not c.is_trial]
    for i, plan in enumerate(reversed(paid)):
        plan.used = last_used if i == 0 else len(plan.statuses)
        plan.used = max(1, min(plan.used, len(plan.statuses)))
        plan.dates = [day - dt.timedelta(weeks=plan.used - 1 - k) for k in range(plan.used)]
        if i == 0 and absences:
            for k in range(max(0, plan.used - absences), plan.used):
                plan.statuses[k] = ABSENT
        day = plan.dates[0] - dt.timedelta(weeks=1 + rng.choice([0, 0, 0, 1, 2]))
    for plan in chain.contracts:
        if plan.is_trial:
            plan.used = 1
            first = paid[0].dates[0] if paid else anchor + dt.timedelta(weeks=1)
            plan.dates = [_last_weekday_on_or_before(first, weekday)
                          - dt.timedelta(weeks=rng.randint(1, 2))]
    for plan in chain.contracts:
        _validity(plan, rng)


def _book(chain: Chain, *, active: bool) -> None:
    """Reserve the chain's lesson dates in its class group (sessions are made per date)."""
    for plan in chain.contracts:
        chain.group.dates.update(plan.dates)
    chain.group.active = chain.group.active or active


def _schedule(rng: random.Random, sp: StudentPlan, today: dt.date) -> None:
    """Place lessons in time so the facts say what the period says."""
    main = sp.main
    if main is None:
        return
    if sp.period == Period.PROSPECTING:  # a trial lesson, no paid package
        trial = main.contracts[0]
        day = today - dt.timedelta(weeks=rng.randint(0, 8))
        trial.dates = [_last_weekday_on_or_before(day, main.group.slot[0])]
        trial.used = 1
        if rng.random() < 0.1:
            trial.statuses = [ABSENT]
        _validity(trial, rng)
        trial.end = "completed" if trial.statuses[0] in CONSUMING else (
            "expired" if trial.valid_until < today else "active")
        main.group.dates.update(trial.dates)
        if trial.end == "active":
            main.group.active = True
        return
    last = main.contracts[-1]
    w = len(last.statuses)
    if sp.period in ACTIVE_PERIODS or sp.period == Period.AT_RISK:
        lo = max(1, sp.absence_run + 2)
        hi = min(w - 1, 10) if sp.base == Period.SOCIALIZATION else w - 1
        used = rng.randint(lo, max(lo, hi))
        _schedule_chain(rng, main, today, used, sp.absence_run)
        _book(main, active=True)
        if sp.extra is not None:
            extra = sp.extra.contracts[0]
            lo2 = max(2, sp.absence_run + 1)
            used2 = rng.randint(lo2, max(lo2, min(16, len(extra.statuses) - 1)))
            _schedule_chain(rng, sp.extra, today, used2, sp.absence_run)
            first_paid = next(c for c in main.contracts if not c.is_trial)
            if extra.signed_on <= first_paid.signed_on + dt.timedelta(days=28):
                sp.extra = None  # would predate the first package: no cross-sell then
            else:
                _book(sp.extra, active=True)
        for c in main.contracts[:-1]:
            c.end = "completed"
        return
    # termination / lapsed: the relationship ended at end_date
    kind = sp.end_kind
    if kind == "completed":
        used = w
    else:
        used = rng.randint(1, min(3 if kind == "cancel" else w, max(1, w - 1)))
    _schedule_chain(rng, main, sp.end_date, used, 0)
    _book(main, active=False)
    for c in main.contracts[:-1]:
        c.end = "completed"
    last.end = kind
    if kind in ("refund", "cancel"):
        last.refund_at = min(today, last.dates[-1] + dt.timedelta(days=rng.randint(1, 10)))
        if sp.period == Period.LAPSED:
            last.refund_status = Refund.Status.PAID
        else:
            last.refund_status = rng.choices(
                [Refund.Status.REQUESTED, Refund.Status.APPROVED, Refund.Status.PAID],
                weights=[35, 25, 40])[0]
        if kind == "cancel":
            last.refund_status = Refund.Status.PAID
        if last.refund_status != Refund.Status.REQUESTED:
            last.refund_decided = min(today, last.refund_at + dt.timedelta(days=rng.randint(1, 5)))
    if kind == "expired":
        last.valid_until = min(last.valid_until, today - dt.timedelta(days=rng.randint(10, 60)))
        last.valid_until = max(last.valid_until, last.dates[-1])


def _period_since(rng: random.Random, sp: StudentPlan, today: dt.date) -> dt.date:
    main = sp.main
    paid = [c for c in main.contracts if not c.is_trial] if main else []
    if sp.period == Period.PROSPECTING:
        return sp.student.created_at.date()
    if sp.period == Period.AT_RISK:
        run_dates = paid[-1].dates[-sp.absence_run:]
        return run_dates[min(2, len(run_dates) - 1)]
    if sp.period == Period.SOCIALIZATION:
        return paid[0].signed_on
    if sp.period == Period.GROWTH:  # since the first renewal or cross-sell
        return min(c.signed_on for c in paid[1:] + (sp.extra.contracts if sp.extra else []))
    if sp.period == Period.MATURITY:
        return paid[2].signed_on
    last = paid[-1]
    if sp.period == Period.TERMINATION:
        return last.refund_at or min(today, last.dates[-1] + dt.timedelta(days=rng.randint(7, 30)))
    return min(today, sp.end_date + dt.timedelta(days=rng.randint(60, 100)))


# --------------------------------------------------------------------------- a chunk


class ChunkBuilder:
    """Generates one chunk of families in memory, then writes it in dependency order."""

    def __init__(self, world: World, chunk_no: int, size: int, stats: Stats) -> None:
        self.world, self.size, self.stats = world, size, stats
        self.opts = world.opts
        self.today = world.opts.today
        self.rng = random.Random(f"{world.opts.seed}:chunk:{chunk_no}")
        self.plans: list[StudentPlan] = []
        self.parents: list[Parent] = []
        self.touched: dict[int, GroupPlan] = {}  # groups used by this chunk, in order

    # -- families ---------------------------------------------------------------------
    def _parent(self, branch: Branch, name: str, elder: bool, created: dt.date) -> Parent:
        rng = self.rng
        full, initials = _pinyin(name)
        r = rng.random()
        wechat = ("wxid_" + "".join(rng.choices("abcdefghijkmnpqrstuvwxyz23456789", k=10))
                  if r < 0.4 else f"{full}{rng.randint(1, 999)}" if r < 0.8 else "")
        email = (f"{full}{rng.randint(10, 9999)}@{rng.choice(['qq.com', '163.com', '126.com'])}"
                 if rng.random() < 0.1 else "")
        parent = Parent(
            branch=branch, name=name, name_pinyin=full, name_initials=initials,
            phone=self.world.phones.next(), wechat_id=wechat, email=email,
            occupation="退休" if elder else rng.choice(OCCUPATIONS),
            created_at=_at(created, rng.randint(9, 20), rng.randint(0, 59)),
        )
        self.parents.append(parent)
        return parent

    def _family(self, remaining: int) -> None:
        rng, world, today = self.rng, self.world, self.today
        branch = rng.choices(world.branches, weights=BRANCH_WEIGHTS[:len(world.branches)])[0]
        children = min(remaining, rng.choices([1, 2, 3], weights=[80, 17, 3])[0])
        father_surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
        shape = rng.choices(["both", "grand", "mother", "father", "elder"],
                            weights=[65, 10, 18, 5, 2])[0]
        first_contact = today - dt.timedelta(days=rng.randint(0, 900))
        members: list[tuple[Parent, str]] = []
        if shape in ("both", "grand", "mother"):
            members.append((self._parent(branch, _person_name(rng, WOMAN_NAMES), False,
                                         first_contact), Guardianship.Relation.MOTHER))
        if shape in ("both", "grand", "father"):
            members.append((self._parent(branch, _person_name(rng, MAN_NAMES, father_surname),
                                         False, first_contact), Guardianship.Relation.FATHER))
        if shape in ("grand", "elder"):
            members.append((self._parent(branch, _person_name(rng, ELDER_NAMES, father_surname),
                                         True, first_contact), Guardianship.Relation.GRANDPARENT))
        surname = father_surname if shape != "mother" or rng.random() < 0.7 else \
            members[0][0].name[0]
        grades: list[int] = []
        while len(grades) < children:  # siblings: distinct grades, same weighting
            g = rng.choices(range(12), weights=GRADE_WEIGHTS)[0]
            if g not in grades:
                grades.append(g)
        situation = rng.choice(FAMILY_SITUATIONS[shape])
        for g in grades:
            self._student(branch, surname, GRADES[g], members, situation)

    def _student(self, branch: Branch, surname: str, grade: str,
                 members: list[tuple[Parent, str]], situation: str) -> None:
        rng, world, today = self.rng, self.world, self.today
        level = _level(grade)
        gender = rng.choices(["m", "f", "u"], weights=[49, 49, 2])[0]
        name = surname + rng.choice(BOY_NAMES if gender == "m" else GIRL_NAMES
                                    if gender == "f" else BOY_NAMES + GIRL_NAMES)
        full, initials = _pinyin(name)
        birth = None
        if rng.random() < 0.9:
            age = 6 + GRADES.index(grade)
            start = _school_year_start(today)
            birth = (start.replace(year=start.year - age - 1)
                     + dt.timedelta(days=rng.randint(1, 365)))
        period = _wchoice(rng, PERIOD_WEIGHTS)
        base = period
        if period == Period.AT_RISK:
            base = rng.choices(ACTIVE_PERIODS, weights=[30, 40, 30])[0]
        elif period in (Period.TERMINATION, Period.LAPSED):
            base = period
        subject_hint = rng.choice(list(LEVEL_SUBJECTS[level]))
        style = rng.choices(["student_led", "parent_led", "joint"],
                            weights={"S": [35, 30, 35], "J": [15, 50, 35],
                                     "P": [3, 80, 17]}[level])[0]
        counselors = world.staff[branch.pk][Role.COUNSELOR]
        counselor = rng.choice(counselors) if (
            period != Period.PROSPECTING or rng.random() < 0.6) else None
        channel = rng.choices(world.channels, weights=world.channel_weights)[0] \
            if world.channels else None
        detail = ""
        if channel is not None and channel.is_referral:
            detail = f"{_person_name(rng, WOMAN_NAMES)}家长推荐"
        elif channel is not None and channel.code == "lecture":
            detail = rng.choice(["高考志愿填报讲座", "中考政策解读会", "期末学习方法讲座"])
        student = Student(
            branch=branch, counselor=counselor, name_zh=name, name_pinyin=full,
            name_initials=initials,
            name_en=rng.choice(ENGLISH_NAMES) if level == "S" and rng.random() < 0.3 else "",
            gender=gender, birth_date=birth, school=rng.choice(SCHOOLS[level]), grade=grade,
            family_situation=situation,
            goals=rng.choice(GOALS[level]).format(subj=SUBJECT_ZH[subject_hint]),
            target_university=rng.choice(UNIVERSITIES) if level == "S" and rng.random() < 0.7
            else "",
            source=channel, source_detail=detail, decision_style=style,
            personality=rng.choice(PERSONALITIES),
            learning_style=rng.choice(["", "visual", "auditory", "reading", "kinesthetic"]),
            preferences=rng.choice(PREFERENCES), period=period,
            previous_period=base if period == Period.AT_RISK else "",
            created_by=world.staff[branch.pk][Role.FRONT_DESK][0],
        )
        # Primary contact and deciders: consistent with the decision style (DOMAIN.md §2).
        relations = [rel for _p, rel in members]
        if Guardianship.Relation.GRANDPARENT in relations and (
                len(members) == 1 or rng.random() < 0.4):
            primary = relations.index(Guardianship.Relation.GRANDPARENT)
        elif Guardianship.Relation.MOTHER in relations and rng.random() < 0.8:
            primary = relations.index(Guardianship.Relation.MOTHER)
        else:
            primary = 0 if relations[0] != Guardianship.Relation.GRANDPARENT or len(members) == 1 \
                else 1
        parents_idx = [i for i, r in enumerate(relations) if r != Guardianship.Relation.GRANDPARENT]
        deciders: set[int] = set()
        if style != "student_led":
            if parents_idx:
                deciders.add(primary if primary in parents_idx else parents_idx[0])
                if len(parents_idx) > 1 and rng.random() < 0.3:
                    deciders.update(parents_idx)
            else:
                deciders.add(primary)
        guardians = [(p, rel, i == primary, i in deciders) for i, (p, rel) in enumerate(members)]
        sp = StudentPlan(student=student, guardians=guardians, period=period, base=base)
        if period == Period.AT_RISK:
            sp.absence_run = rng.randint(3, 5)
        elif period in ACTIVE_PERIODS and rng.random() < 0.06:
            sp.absence_run = 3  # not flagged yet: the risk scan should find these
        if period == Period.TERMINATION:
            sp.end_date = today - dt.timedelta(days=rng.randint(7, 60))
            sp.end_kind = rng.choices(["refund", "completed", "cancel"], weights=[60, 25, 15])[0]
        elif period == Period.LAPSED:
            sp.end_date = today - dt.timedelta(days=rng.randint(120, 400))
            sp.end_kind = rng.choices(["completed", "expired", "refund"], weights=[45, 35, 20])[0]
        _plan_story(rng, world, sp)
        self.plans.append(sp)

    # -- class groups -----------------------------------------------------------------
    def _group_for(self, branch: Branch, course: Course, cohort: str) -> GroupPlan:
        """Chains of the same branch, course and time (now / ended quarter) share a class.

        Groups stay open across chunks until full, so lessons are shared by classmates.
        """
        rng, world = self.rng, self.world
        key = (branch.pk, course.pk, cohort)
        group = world.open_groups.get(key)
        if group is None or group.chains >= CHAINS_PER_GROUP[course.format]:
            teachers = world.staff[branch.pk][Role.TEACHER]
            fit = [t for t in teachers if world.teacher_subject[t.pk] == course.subject]
            group = GroupPlan(branch=branch, course=course, slot=rng.choice(SLOTS),
                              teacher=rng.choice(fit or teachers),
                              room=f"{rng.choice('ABC')}{rng.randint(1, 4)}0{rng.randint(1, 9)}")
            world.open_groups[key] = group
        group.chains += 1
        self.touched[id(group)] = group
        return group

    def plan(self) -> None:
        while len(self.plans) < self.size:
            self._family(self.size - len(self.plans))
        for sp in self.plans:
            cohort = "now" if sp.end_date is None else \
                f"{sp.end_date.year}q{(sp.end_date.month - 1) // 3}"
            for chain in (sp.main, sp.extra):
                if chain is not None:
                    chain.group = self._group_for(sp.student.branch, chain.course, cohort)
        for sp in self.plans:
            _schedule(self.rng, sp, self.today)
            first = [c.signed_on for ch in (sp.main, sp.extra) if ch for c in ch.contracts]
            created = (min(first) - dt.timedelta(days=self.rng.randint(3, 45)) if first
                       else self.today - dt.timedelta(days=self.rng.randint(0, 150)))
            sp.student.created_at = _at(created, self.rng.randint(9, 20), self.rng.randint(0, 59))
            sp.student.period_since = _at(_period_since(self.rng, sp, self.today), 21)
            self.stats.periods[sp.period] += 1
        for parent in self.parents:  # parents registered with the first child's first contact
            parent.created_at = None
        for sp in self.plans:
            for p, _rel, _pr, _d in sp.guardians:
                if p.created_at is None or p.created_at > sp.student.created_at:
                    p.created_at = sp.student.created_at

    # -- writing ----------------------------------------------------------------------
    def _put(self, model: type[models.Model], objs: list) -> None:
        model.objects.bulk_create(objs, batch_size=BATCH_SIZE)
        self.stats.rows[model._meta.label] += len(objs)

    def _raw(self, model: type[models.Model], columns: list[str], rows: list[tuple],
             *, returning: bool = False) -> list[int]:
        ids = raw_insert(model, columns, rows, returning=returning)
        self.stats.rows[model._meta.label] += len(rows)
        return ids

    def write(self) -> None:
        """Insert the chunk, parents before children; ORM for small tables, raw for big."""
        rng, world, today = self.rng, self.world, self.today
        text = temporals_as_text()

        def ts(value: dt.datetime) -> object:
            return db_datetime(value, text)

        self._put(Parent, self.parents)
        self._put(Student, [sp.student for sp in self.plans])

        guardianships, consents = [], []
        for sp in self.plans:
            st = sp.student
            for parent, rel, primary, decides in sp.guardians:
                guardianships.append((st.pk, parent.pk, rel, primary, decides, ts(st.created_at)))
            if st.needs_guardian_consent(today):
                signer = next(p for p, _r, primary, _d in sp.guardians if primary)
                scope = ["profile", "contact"] + (["photos"] if rng.random() < 0.5 else []) + (
                    ["marketing"] if rng.random() < 0.3 else [])
                consents.append(GuardianConsent(
                    student=st, guardian=signer, guardian_name=signer.name,
                    given_at=st.created_at + dt.timedelta(minutes=rng.randint(5, 90)),
                    method=rng.choice(["paper", "esign", "esign", "recorded_call"]), scope=scope,
                    recorded_by=st.created_by))
        self._raw(Guardianship, ["student_id", "parent_id", "relation", "is_primary_contact",
                                 "is_decision_maker", "created_at"], guardianships)
        self._put(GuardianConsent, consents)
        contact = []
        for parent in self.parents:
            at = ts(parent.created_at)
            contact.append((parent.pk, "phone", rng.random() < 0.98, at, "登记表"))
            contact.append((parent.pk, "sms", rng.random() < 0.85, at, "登记表"))
            if parent.wechat_id:
                contact.append((parent.pk, "wechat", rng.random() < 0.92, at, "添加企业微信"))
            if parent.email:
                contact.append((parent.pk, "email", rng.random() < 0.7, at, "登记表"))
        self._raw(ContactConsent, ["parent_id", "channel", "granted", "updated_at", "source"],
                  contact)

        # class groups (new ones inserted, reopened ones updated) and their sessions
        new_groups, changed = [], []
        for g in self.touched.values():
            if not g.dates:
                continue
            state = (min(g.dates), None if g.active else max(g.dates), g.active)
            if g.obj is None:
                n = world.group_seq.get(g.branch.pk, 0) + 1
                world.group_seq[g.branch.pk] = n
                suffix = f"{n}班" if g.course.format != "one_to_one" else f"{n}号"
                g.obj = ClassGroup(
                    branch=g.branch, course=g.course, name=f"{g.course.name}{suffix}",
                    teacher=g.teacher, capacity=CAPACITY[g.course.format], start_date=state[0],
                    end_date=state[1], is_active=state[2])
                new_groups.append(g.obj)
            elif state != (g.obj.start_date, g.obj.end_date, g.obj.is_active):
                g.obj.start_date, g.obj.end_date, g.obj.is_active = state
                changed.append(g.obj)
        self._put(ClassGroup, new_groups)
        ClassGroup.objects.bulk_update(changed, ["start_date", "end_date", "is_active"],
                                       batch_size=BATCH_SIZE)
        session_rows, session_keys = [], []
        for g in self.touched.values():
            _wd, start_t, end_t = g.slot
            for day in sorted(g.dates - g.sessions.keys()):
                session_rows.append((g.obj.pk, day, db_time(start_t), db_time(end_t),
                                     Decimal(SESSION_HOURS), g.teacher.pk, g.room))
                session_keys.append((g, day))
        ids = self._raw(ClassSession, ["class_group_id", "date", "start_time", "end_time",
                                       "hours", "teacher_id", "room"], session_rows,
                        returning=True)
        for (g, day), pk in zip(session_keys, ids, strict=True):
            g.sessions[day] = pk

        # contracts
        contracts = []
        track_end = _has_field(Contract, "ended_on")  # the day a contract closed, if tracked
        closed = {Contract.Status.COMPLETED, Contract.Status.EXPIRED, Contract.Status.REFUNDED,
                  Contract.Status.CANCELLED}
        for sp in self.plans:
            for chain in (sp.main, sp.extra):
                if chain is None:
                    continue
                for c in chain.contracts:
                    world.contract_seq += 1
                    price = Decimal(c.hours) * c.course.unit_price
                    discount = Decimal(0)
                    if c.is_trial:
                        price = Decimal(0)
                    elif rng.random() < (0.6 if c.is_renewal else 0.3):
                        discount = (price * Decimal(rng.choice([5, 8, 10, 12, 15])) / 100
                                    ).quantize(Decimal("10"))
                    status = {"active": Contract.Status.ACTIVE,
                              "completed": Contract.Status.COMPLETED,
                              "expired": Contract.Status.EXPIRED,
                              "cancel": Contract.Status.CANCELLED,
                              "refund": Contract.Status.REFUNDED}[c.end]
                    if c.end == "refund" and c.refund_status == Refund.Status.REQUESTED:
                        status = Contract.Status.ACTIVE  # pending: nothing returned yet
                    c.obj = Contract(
                        contract_no=f"HT{c.signed_on:%y%m}{world.contract_seq:07d}",
                        student=sp.student, branch=sp.student.branch, course=c.course,
                        class_group=chain.group.obj, hours_purchased=Decimal(c.hours),
                        hours_gifted=Decimal(c.gifted), list_price=price, discount=discount,
                        valid_from=c.valid_from, valid_until=c.valid_until, signed_on=c.signed_on,
                        status=status, is_renewal=c.is_renewal, is_trial=c.is_trial,
                        sales_counselor=sp.student.counselor,
                        created_at=_at(c.signed_on, rng.randint(9, 20), rng.randint(0, 59)))
                    if track_end and status in closed:
                        c.obj.ended_on = (c.valid_until if status == Contract.Status.EXPIRED
                                          else c.dates[-1] if status == Contract.Status.COMPLETED
                                          else c.refund_decided or c.refund_at)
                    contracts.append(c.obj)
                    if not c.is_trial:
                        self.stats.revenue_by_level[_level(sp.student.grade)] += \
                            float(price - discount)
        self._put(Contract, contracts)

        # attendance, then the ledger that points at it
        attendance_rows, consumed = [], []
        minus = -Decimal(SESSION_HOURS)
        for sp in self.plans:
            for chain in (sp.main, sp.extra):
                if chain is None:
                    continue
                teacher = chain.group.teacher.pk
                sessions = chain.group.sessions
                end_t = chain.group.slot[2]
                for c in chain.contracts:
                    for day, status in zip(c.dates, c.statuses[:c.used], strict=True):
                        at = ts(_at(day, end_t.hour, end_t.minute))
                        charged = status in CONSUMING
                        attendance_rows.append((sessions[day], sp.student.pk, status, day,
                                                c.obj.pk if charged else None, teacher, at, ""))
                        consumed.append((c.obj.pk, at, teacher) if charged else None)
        att_ids = self._raw(Attendance, ["session_id", "student_id", "status", "date",
                                         "contract_id", "recorded_by_id", "recorded_at", "note"],
                            attendance_rows, returning=True)

        ledger = []
        for sp in self.plans:
            counselor = sp.student.counselor.pk if sp.student.counselor else None
            for chain in (sp.main, sp.extra):
                if chain is None:
                    continue
                for c in chain.contracts:
                    at = ts(_at(c.signed_on, 11))
                    ledger.append((c.obj.pk, "purchased", Decimal(c.hours), at, None, "",
                                   counselor, None))
                    if c.gifted:
                        ledger.append((c.obj.pk, "gifted", Decimal(c.gifted), at, None,
                                       "赠送课时", counselor, None))
        for entry, att_id in zip(consumed, att_ids, strict=True):
            if entry is not None:
                ledger.append((entry[0], "consumed", minus, entry[1], att_id, "", entry[2],
                               None))
        refunds, payments = [], []
        for sp in self.plans:
            manager = world.staff[sp.student.branch.pk][Role.MANAGER][0]
            front = world.staff[sp.student.branch.pk][Role.FRONT_DESK]
            for chain in (sp.main, sp.extra):
                if chain is None:
                    continue
                for c in chain.contracts:
                    self._money(c, sp, manager, front, ledger, refunds, payments)
        self._put(Refund, refunds)
        columns = ["contract_id", "kind", "hours", "occurred_at", "attendance_id", "note",
                   "created_by_id"]
        if _has_field(LedgerEntry, "refund"):  # refunded hours point at their refund
            columns.append("refund_id")
            ledger = [(*r[:7], r[7].pk if r[7] is not None else None) for r in ledger]
        else:
            ledger = [r[:7] for r in ledger]
        self._raw(LedgerEntry, columns, ledger)
        self._put(Payment, payments)
        self._engagement()

    def _money(self, c: ContractPlan, sp: StudentPlan, manager, front: list, ledger: list,
               refunds: list, payments: list) -> None:
        """Refunds/expiry entries of a package and the payments that paid for it."""
        rng, world, today = self.rng, self.world, self.today
        consumed = SESSION_HOURS * sum(1 for s in c.statuses[:c.used] if s in CONSUMING)
        balance = c.hours + c.gifted - consumed
        obj = c.obj
        if c.end in ("refund", "cancel") and balance > 0:
            refundable = min(balance, max(0, c.hours - consumed))
            amount = (Decimal(refundable) * obj.amount / obj.hours_purchased).quantize(
                Decimal("0.01"))
            requested = _at(c.refund_at, rng.randint(9, 18))
            decided = None
            if c.refund_decided is not None:
                decided = max(requested, _at(c.refund_decided, rng.randint(9, 18)))
            refund = Refund(contract=obj, status=c.refund_status,
                            hours=Decimal(refundable), amount=amount,
                            reason=rng.choice(REFUND_REASONS), requested_at=requested,
                            decided_by=manager if decided else None, decided_at=decided)
            refunds.append(refund)
            if decided is not None:
                if refundable:
                    ledger.append((obj.pk, "refunded", -Decimal(refundable),
                                   db_datetime(decided), None, "退费", manager.pk, refund))
                if balance > refundable:
                    ledger.append((obj.pk, "expired", -Decimal(balance - refundable),
                                   db_datetime(decided), None, "赠送课时随退费作废", manager.pk,
                                   refund))
        elif balance > 0 and c.valid_until < today and c.end != "active":
            ledger.append((obj.pk, "expired", -Decimal(balance),
                           db_datetime(_at(c.valid_until, 23, 59)), None, "合同到期", None, None))
        if sp.period == Period.AT_RISK and c is sp.main.contracts[-1] and rng.random() < 0.1:
            refunds.append(Refund(contract=obj, status=Refund.Status.REJECTED, hours=Decimal(0),
                                  amount=Decimal(0), reason="家长要求退费，协商后继续上课",
                                  requested_at=_at(today - dt.timedelta(days=rng.randint(1, 10))),
                                  decided_by=manager, decided_at=_at(today, 9)))
        amount = obj.amount
        if amount <= 0:
            return
        method = rng.choices(["wechat", "alipay", "card", "transfer", "cash"],
                             weights=[45, 25, 15, 8, 7])[0]
        parts = [amount]
        if rng.random() < 0.15 and amount > 2000:
            first = (amount * Decimal("0.6")).quantize(Decimal("1"))
            parts = [first, amount - first]
        for i, part in enumerate(parts):
            paid_on = c.signed_on + dt.timedelta(days=30 * i)
            if paid_on > today:
                break  # the second instalment is still owed
            world.payment_seq += 1
            ref = "" if method == "cash" else (
                {"wechat": "4200", "alipay": "2088", "card": "6225", "transfer": "TRF"}[method]
                + f"{paid_on:%Y%m%d}{world.payment_seq:010d}")
            payments.append(Payment(contract=obj, amount=part, method=method,
                                    paid_at=_at(paid_on, rng.randint(9, 20), rng.randint(0, 59)),
                                    reference=ref, recorded_by=rng.choice(front),
                                    note="" if len(parts) == 1 else f"分期 {i + 1}/{len(parts)}"))

    def _engagement(self) -> None:
        """Exams, contacts, complaints and surveys, shaped by each student's period."""
        rng, world, today = self.rng, self.world, self.today
        exams, interactions, complaints, surveys = [], [], [], []
        for sp in self.plans:
            st = sp.student
            bstaff = world.staff[st.branch.pk]
            staff_member = st.counselor or bstaff[Role.FRONT_DESK][0]
            parents = [p for p, *_ in sp.guardians]
            primary = next(p for p, _r, pr, _d in sp.guardians if pr)
            main = sp.main
            course_name = (main.course.name if main else
                           _pick_course(rng, world, st.grade).name)
            start = st.created_at.date()
            end = sp.end_date or today
            worse = sp.period in (Period.AT_RISK, Period.TERMINATION, Period.LAPSED)

            def contact(kind: str, day: dt.date, sentiment: str, *, st=st, parents=parents,
                        primary=primary, course_name=course_name, staff_member=staff_member,
                        ) -> None:
                with_parent = rng.random() < 0.7
                parent = (primary if rng.random() < 0.7 else rng.choice(parents)) \
                    if with_parent else None
                who = "家长" if with_parent else "学员"
                interactions.append((
                    st.pk, "parent" if with_parent else "student",
                    parent.pk if parent else None,
                    rng.choices(["call", "wechat", "visit", "meeting", "sms"],
                                weights=[35, 35, 15, 10, 5])[0],
                    staff_member.pk, db_datetime(_at(day, rng.randint(9, 20), rng.randint(0, 59))),
                    rng.choice(INTERACTION_TEXT[kind]).format(
                        course=course_name, who=who, reason=rng.choice(EXIT_REASONS)),
                    sentiment,
                    today + dt.timedelta(days=rng.randint(1, 14))
                    if kind in ("negative", "first") and day >= today - dt.timedelta(days=14)
                    else None))

            contact("first", start, "neutral")
            if sp.period == Period.PROSPECTING:
                for _i in range(rng.randint(0, 2)):
                    day = start + dt.timedelta(days=rng.randint(0, max(0, (today - start).days)))
                    contact("trial" if main else "first", day,
                            rng.choice(["positive", "neutral", "neutral", "negative"]))
                continue
            span = max(1, (end - start).days)
            for _i in range(rng.randint(1, 4)):
                day = start + dt.timedelta(days=rng.randint(1, span))
                contact("regular", min(day, today), "positive" if rng.random() < 0.6 else "neutral")
            if sp.absence_run or sp.period == Period.AT_RISK:
                for _i in range(rng.randint(1, 2)):
                    contact("negative", today - dt.timedelta(days=rng.randint(0, 10)), "negative")
            if sp.period in (Period.TERMINATION, Period.LAPSED):
                contact("exit", min(today, end + dt.timedelta(days=rng.randint(1, 10))),
                        "negative")
                if sp.period == Period.LAPSED and rng.random() < 0.4:
                    contact("winback", today - dt.timedelta(days=rng.randint(0, 40)), "neutral")

            # exam results in the main subject, trending up (or down when it goes badly)
            subject = main.course.subject
            full = Decimal(150) if subject in ("math", "english", "chinese") and \
                _level(st.grade) != "P" else Decimal(100)
            level = rng.uniform(0.5, 0.82)
            slope = rng.uniform(0.015, 0.04) * (-1 if (worse and rng.random() < 0.7)
                                                or rng.random() < 0.15 else 1)
            day = (max(start, today - dt.timedelta(days=365))
                   + dt.timedelta(days=rng.randint(20, 40)))
            i = 0
            while day <= end:
                pct = min(0.98, max(0.2, level + slope * i + rng.uniform(-0.03, 0.03)))
                kind = ("final" if day.month in (1, 6) else "midterm" if day.month in (4, 11)
                        else "mock" if st.grade == "S3" and day.month in (3, 5) else "quiz")
                label = {"final": "期末考试", "midterm": "期中考试", "mock": "模拟考试",
                         "quiz": "月考"}[kind]
                exams.append((st.pk, subject, f"{day.year}年{day.month}月{label}", kind, day,
                              Decimal(round(float(full) * pct * 2)) / 2, full,
                              db_datetime(_at(min(today, day + dt.timedelta(days=3)), 20))))
                day += dt.timedelta(days=rng.randint(28, 45))
                i += 1

            # complaints: the best source of at-risk causes
            if rng.random() < {Period.AT_RISK: 0.6, Period.TERMINATION: 0.5,
                               Period.LAPSED: 0.2}.get(sp.period, 0.05):
                category = rng.choice(list(COMPLAINT_TEXT))
                recent = sp.period == Period.AT_RISK
                created_day = (today - dt.timedelta(days=rng.randint(0, 12)) if recent
                               else start + dt.timedelta(days=rng.randint(1, span)))
                created = _at(min(created_day, today), rng.randint(9, 20))
                status = (rng.choice(["open", "in_progress", "in_progress"]) if recent
                          else "resolved" if rng.random() < 0.85 else "in_progress")
                resolved = (min(created + dt.timedelta(hours=rng.randint(2, 96)), _at(today, 20))
                            if status == "resolved" else None)
                by_parent = rng.random() < 0.7
                complaints.append(Complaint(
                    student=st, raised_by="parent" if by_parent else "student",
                    parent=primary if by_parent else None, category=category,
                    description=COMPLAINT_TEXT[category], status=status,
                    owner=st.counselor or bstaff[Role.MANAGER][0],
                    sla_due=created + dt.timedelta(hours=48), created_at=created,
                    resolved_at=resolved,
                    resolution="已与家长沟通并调整安排" if resolved else ""))

            # satisfaction: student and parent answer separately
            if rng.random() < (0.6 if worse else 0.35):
                lo, hi = (1, 3) if worse else ((4, 5) if sp.period == Period.MATURITY else (3, 5))
                day = min(today, end - dt.timedelta(days=rng.randint(0, 20)))
                day = max(day, start)
                for who in ("student", "parent"):
                    if rng.random() < 0.8:
                        overall = rng.randint(lo, hi)
                        surveys.append(SatisfactionSurvey(
                            student=st, respondent=who,
                            parent=primary if who == "parent" else None,
                            surveyed_at=_at(day, rng.randint(10, 21)), overall=overall,
                            teaching=max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
                            service=max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
                            environment=rng.randint(3, 5),
                            recommend=max(0, min(10, overall * 2 + rng.randint(-2, 0))),
                            comment=SURVEY_COMMENTS[overall] if rng.random() < 0.5 else ""))
        self._raw(ExamScore, ["student_id", "subject", "exam_name", "kind", "exam_date", "score",
                              "full_marks", "recorded_at"], exams)
        self._raw(Interaction, ["student_id", "with_whom", "parent_id", "channel", "staff_id",
                                "occurred_at", "summary", "sentiment", "next_follow_up"],
                  interactions)
        self._put(Complaint, complaints)
        self._put(SatisfactionSurvey, surveys)


# --------------------------------------------------------------------------- driver

SEEDED_MODELS: list[type[models.Model]] = [
    Parent, Student, Guardianship, GuardianConsent, ContactConsent, ClassGroup, ClassSession,
    Contract, Attendance, LedgerEntry, Refund, Payment, ExamScore, Interaction, Complaint,
    SatisfactionSurvey,
]



def seed(opts: SeedOptions, *, append: bool = False,
         progress: Callable[[str], None] | None = None) -> tuple[World, Stats]:
    """Generate `opts.students` students in chunks; one transaction per chunk."""
    started = time.monotonic()
    stats = Stats()
    say = progress or (lambda _msg: None)
    with transaction.atomic():
        world = build_world(opts, append=append)
    chunks = math.ceil(opts.students / opts.chunk_size) if opts.students else 0
    done = 0
    with historic_created_at():
        for n in range(chunks):
            size = min(opts.chunk_size, opts.students - done)
            builder = ChunkBuilder(world, n, size, stats)
            builder.plan()
            with transaction.atomic():
                builder.write()
            done += size
            elapsed = time.monotonic() - started
            say(_("chunk %(n)d/%(total)d: %(done)d/%(all)d students, %(rows)d rows, "
                  "%(rate).0f students/s") % {
                "n": n + 1, "total": chunks, "done": done, "all": opts.students,
                "rows": sum(stats.rows.values()), "rate": done / max(elapsed, 1e-6)})
    if connection.vendor == "postgresql":
        # COPY bypasses the planner's statistics until autovacuum gets round to them; with
        # stale estimates the account pages pick sequential scans over millions of rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    stats.seconds = time.monotonic() - started
    return world, stats


def under_14(student: Student, today: dt.date) -> bool:
    """The PIPL rule the generator follows (mirrors Student.needs_guardian_consent)."""
    if student.birth_date is None:
        return student.grade in UNDER_14_GRADES
    return (student.age_on(today) or 0) < settings.PIPL_CONSENT_AGE
