"""Column specifications per import kind, and the header aliases that map a file's
headers (Chinese or English, as staff type them) onto them.

A spec is the single description of a kind's columns: the template download, the
header matching and the students export (so export -> import round-trips) all read it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import ImportKind


@dataclass(frozen=True)
class Col:
    key: str
    zh: str  # the template's Chinese header
    en: str  # the template's English header
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str | Promise = ""
    # Required only in one layout (students: parent1_* in the wide layout, parent_* in long).
    layout: str = ""
    all_aliases: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        names = {self.key, self.zh, self.en, *self.aliases}
        object.__setattr__(self, "all_aliases", frozenset(norm_header(n) for n in names))


_PAREN = re.compile(r"[（(][^）)]*[）)]")


def norm_header(text: str) -> str:
    """'Parent 1 name', 'parent1_name' and '家长1姓名（必填）' compare equal to their key."""
    text = _PAREN.sub("", str(text or "")).strip().lower()
    return re.sub(r"[\s_\-*:：.]+", "", text)


def _parent_cols(slot: str, layout: str) -> list[Col]:
    n = slot or ""
    zh_n = n
    key = f"parent{n}" if n else "parent"
    zh_prefix = f"家长{zh_n}"
    extra_name = ("家长", "父母姓名", "联系人", "监护人", "监护人姓名", "家长姓名",
                  "联系人姓名") if not n else (
        f"家长{n}", f"监护人{n}", f"联系人{n}", f"家长姓名{n}", f"联系人姓名{n}",
        f"联系人{n}姓名", f"监护人{n}姓名", f"姓名{n}")
    # Old systems number the contact columns (电话1, 手机2, 联系电话1...).
    extra_phone = ("家长手机", "手机", "手机号", "电话", "联系电话", "联系方式", "家长手机号",
                   "家长电话", "mobile", "phone") if not n else (
        f"家长{n}手机", f"家长{n}手机号", f"联系人{n}电话", f"监护人{n}电话", f"电话{n}",
        f"手机{n}", f"手机号{n}", f"联系电话{n}", f"联系方式{n}", f"家长电话{n}",
        f"家长手机{n}", f"phone{n}", f"mobile{n}")
    return [
        Col(f"{key}_name", f"{zh_prefix}姓名", f"{key}_name", aliases=extra_name,
            required=(n in ("", "1")), layout=layout),
        Col(f"{key}_phone", f"{zh_prefix}电话", f"{key}_phone", aliases=extra_phone,
            required=(n in ("", "1")), layout=layout),
        Col(f"{key}_relation", f"{zh_prefix}关系", f"{key}_relation",
            aliases=(f"与学员关系{n}", f"{zh_prefix}身份", f"关系{n}", f"联系人{n}关系",
                     f"称谓{n}") if n else ("与学员关系", "家长身份", "关系", "称谓"),
            help=_("mother/father/grandparent/other, or 妈妈/爸爸/奶奶..."), layout=layout),
    ]


EXTERNAL_ID_ALIASES = ("学号", "学生编号", "学员号", "学生号", "学员ID", "学员id", "编号",
                       "student_no", "student_number", "student_id", "external_id")

STUDENT_BASE = [
    Col("branch", "校区", "branch", aliases=("分部", "校区代码", "branch_code", "campus",
                                             "所属校区", "校区名称")),
    Col("external_id", "学员编号", "student_number", aliases=EXTERNAL_ID_ALIASES,
        help=_("The previous system's student number; later files (contracts, attendance, "
               "visits...) may name the student by it.")),
    Col("name_zh", "学员姓名", "student_name", required=True,
        aliases=("姓名", "学生姓名", "学员", "学生", "孩子姓名", "name", "name_zh")),
    Col("name_en", "英文名", "english_name", aliases=("name_en",)),
    Col("gender", "性别", "gender", help=_("男/女 or M/F")),
    Col("birth_date", "出生日期", "birth_date", aliases=("生日", "出生年月日", "birthday", "dob")),
    Col("grade", "年级", "grade", required=True,
        help=_("e.g. 高一, 高1, S1, Senior 1, 初二, 小学三年级")),
    Col("school", "学校", "school", aliases=("就读学校", "在读学校")),
    Col("consent", "监护人同意", "guardian_consent",
        aliases=("家长同意", "同意", "consent"),
        help=_("Under-14s: 是/yes when a guardian agreed to the processing of the "
               "child's data")),
    Col("consent_method", "同意方式", "consent_method",
        help=_("纸质/电子签名/录音电话 or paper/esign/recorded_call")),
    Col("decision_maker", "决策人", "decision_maker",
        aliases=("决策者", "决策方式", "决策类型", "decision_style"),
        help=_("学生/家长/共同 or student/parent/joint")),
    Col("counselor", "课程顾问", "counselor",
        aliases=("顾问", "学管师", "学管", "班主任", "负责人", "advisor"),
        help=_("The staff member's name or login")),
    Col("source", "来源渠道", "source",
        aliases=("来源", "渠道", "信息来源", "了解途径", "客户来源", "channel"),
        help=_("A source channel's name or code; other text is kept as the source detail")),
    Col("status", "学员状态", "status", aliases=("状态", "在读状态", "学籍状态", "student_status"),
        help=_("在读/退学/结课/休学: former customers are placed in termination (退学, 结课) "
               "or lapsed (休学) on the leaving date")),
    Col("left_on", "退学日期", "left_on",
        aliases=("离校日期", "结课日期", "休学日期", "流失日期", "停课日期", "leaving_date")),
    Col("leave_reason", "退学原因", "leave_reason",
        aliases=("离开原因", "流失原因", "退费原因", "休学原因", "原因", "leaving_reason")),
]

STUDENT_WIDE = [*STUDENT_BASE, *_parent_cols("1", "wide"), *_parent_cols("2", "wide")]
STUDENT_LONG = [*STUDENT_BASE, *_parent_cols("", "long")]

# Columns that name an existing student in the other kinds: the previous system's
# student number, or else the name and a guardian's phone (Importer.readers checks that
# a file has one or the other).
STUDENT_REF = [
    Col("external_id", "学员编号", "student_number", aliases=EXTERNAL_ID_ALIASES),
    Col("name_zh", "学员姓名", "student_name",
        aliases=("姓名", "学生姓名", "学员", "学生", "name")),
    Col("parent_phone", "家长电话", "parent_phone",
        aliases=("家长手机", "手机", "手机号", "电话", "联系电话", "parent1_phone", "家长1电话",
                 "电话1", "手机1", "phone")),
]

CONTRACT_COLS = [
    Col("contract_no", "合同编号", "contract_no", required=True,
        aliases=("合同号", "合同", "contract", "contract_number")),
    *STUDENT_REF,
    Col("course", "课程", "course", required=True, aliases=("课程代码", "课程名称", "course_code")),
    Col("hours_purchased", "购买课时", "hours_purchased", required=True,
        aliases=("课时", "总课时", "hours")),
    Col("hours_gifted", "赠送课时", "hours_gifted", aliases=("赠课", "gift_hours")),
    Col("hours_remaining", "剩余课时", "hours_remaining", aliases=("剩余", "remaining_hours",
                                                                 "balance", "剩余课时数")),
    Col("balance_as_of", "余额日期", "balance_as_of",
        aliases=("截至日期", "剩余课时日期", "结余日期", "统计日期", "as_of"),
        help=_("The day the remaining hours were counted (default: the day of the import)")),
    Col("list_price", "金额", "amount", required=True,
        aliases=("合同金额", "价格", "标价", "price", "list_price")),
    Col("discount", "优惠", "discount", aliases=("折扣", "优惠金额")),
    Col("signed_on", "签约日期", "signed_on", required=True, aliases=("签约时间", "日期", "date")),
    Col("valid_from", "生效日期", "valid_from", aliases=("开始日期", "起始日期")),
    Col("valid_until", "有效期至", "valid_until", required=True,
        aliases=("到期日期", "截止日期", "有效期", "expires")),
]

ATTENDANCE_COLS = [
    # Class and time are optional: old systems often export only the day and the course;
    # such lessons go to a placeholder class of the course, one session per day.
    Col("class_group", "班级", "class", aliases=("班级名称", "class_group")),
    Col("course", "课程", "course", aliases=("课程名称", "课程代码", "course_code")),
    Col("date", "日期", "date", required=True, aliases=("上课日期", "lesson_date", "考勤日期")),
    Col("start_time", "开始时间", "start_time", aliases=("上课时间", "时间", "time")),
    Col("end_time", "结束时间", "end_time", aliases=("下课时间",)),
    Col("hours", "课时", "hours", aliases=("消耗课时", "扣课时", "课时数", "lesson_hours"),
        help=_("Lesson hours (default: from the times, else 2)")),
    *STUDENT_REF,
    Col("status", "出勤", "status", required=True,
        aliases=("出勤情况", "考勤", "状态", "attendance", "考勤状态"),
        help=_("出勤/迟到/请假/缺勤 or attended/late/leave/absent")),
    Col("note", "备注", "note", aliases=("说明",)),
]

PAYMENT_COLS = [
    Col("contract_no", "合同编号", "contract_no", required=True, aliases=("合同号", "contract")),
    Col("amount", "金额", "amount", required=True, aliases=("支付金额", "付款金额", "实收")),
    Col("method", "支付方式", "method", required=True, aliases=("付款方式", "方式"),
        help=_("微信/支付宝/银行卡/转账/现金 or wechat/alipay/card/transfer/cash")),
    Col("paid_at", "支付日期", "paid_at", required=True,
        aliases=("付款日期", "日期", "支付时间", "date")),
    Col("reference", "流水号", "reference", aliases=("交易号", "交易流水号", "订单号", "ref")),
    Col("note", "备注", "note"),
]

EXAM_COLS = [
    *STUDENT_REF,
    Col("exam_name", "考试", "exam", required=True, aliases=("考试名称", "exam_name")),
    Col("subject", "科目", "subject", required=True, aliases=("学科",)),
    Col("score", "分数", "score", required=True, aliases=("成绩", "得分")),
    Col("full_marks", "满分", "full_marks", aliases=("总分",)),
    Col("exam_date", "日期", "date", required=True, aliases=("考试日期", "exam_date")),
    Col("exam_kind", "类型", "exam_kind", aliases=("考试类型", "kind"),
        help=_("月考/期中/期末/模考/中考/高考")),
]

INTERACTION_COLS = [
    *STUDENT_REF,
    Col("occurred_on", "回访日期", "date", required=True,
        aliases=("日期", "回访时间", "沟通日期", "跟进日期", "沟通时间")),
    Col("channel", "回访方式", "channel", aliases=("方式", "沟通方式", "跟进方式"),
        help=_("电话/上门/微信/面谈/短信 (default: phone call)")),
    Col("with_whom", "回访对象", "with", aliases=("对象", "沟通对象"),
        help=_("家长/学员 (default: parent)")),
    Col("staff", "回访人", "staff", aliases=("跟进人", "沟通人", "回访老师")),
    Col("summary", "回访内容", "summary", aliases=("内容", "沟通内容", "跟进内容", "记录")),
    Col("satisfaction", "满意度", "satisfaction", aliases=("满意程度", "评分", "满意度评分"),
        help=_("1-5, 0-10 or 0-100, or 满意/一般/不满意: recorded as a satisfaction "
               "survey too")),
    Col("next_follow_up", "下次回访", "next_follow_up", aliases=("下次回访日期", "下次跟进")),
]

COMPLAINT_COLS = [
    *STUDENT_REF,
    Col("raised_on", "投诉日期", "date", required=True, aliases=("日期", "投诉时间")),
    Col("category", "投诉类型", "category", aliases=("类型", "类别", "投诉类别"),
        help=_("教学/老师/排课/服务/收费/环境/其他")),
    Col("description", "投诉内容", "description", required=True,
        aliases=("内容", "问题描述", "描述")),
    Col("raised_by", "投诉人", "raised_by", aliases=("投诉方", "提出人"),
        help=_("家长/学员 (default: parent)")),
    Col("status", "处理状态", "status", aliases=("状态",),
        help=_("待处理/处理中/已解决 (default: resolved when a result is given)")),
    Col("resolution", "处理结果", "resolution", aliases=("处理意见", "解决方案", "结果")),
    Col("resolved_on", "解决日期", "resolved_on", aliases=("处理日期", "解决时间")),
]

PROSPECT_EXTRA = [
    Col("urgency", "意向程度", "urgency", aliases=("意向", "意向度", "需求紧迫度"),
        help=_("高/中/低")),
    Col("next_follow_up", "下次跟进", "next_follow_up", aliases=("下次跟进日期", "下次回访")),
]
PROSPECT_WIDE = [*STUDENT_WIDE, *PROSPECT_EXTRA]
PROSPECT_LONG = [*STUDENT_LONG, *PROSPECT_EXTRA]

SPECS: dict[str, list[Col]] = {
    ImportKind.STUDENTS: STUDENT_WIDE,
    ImportKind.CONTRACTS: CONTRACT_COLS,
    ImportKind.ATTENDANCE: ATTENDANCE_COLS,
    ImportKind.PAYMENTS: PAYMENT_COLS,
    ImportKind.EXAMS: EXAM_COLS,
    ImportKind.INTERACTIONS: INTERACTION_COLS,
    ImportKind.COMPLAINTS: COMPLAINT_COLS,
    ImportKind.PROSPECTS: PROSPECT_WIDE,
}
# Kinds whose rows are students with their parents (two layouts).
FAMILY_KINDS = {ImportKind.STUDENTS: (STUDENT_WIDE, STUDENT_LONG),
                ImportKind.PROSPECTS: (PROSPECT_WIDE, PROSPECT_LONG)}


@dataclass
class HeaderMap:
    """Which file column (index, as written) holds each key; unknown headers are ignored."""

    index: dict[str, int]
    written: dict[str, str]  # key -> the header as written in the file (for messages)
    layout: str = ""
    unknown: list[str] = field(default_factory=list)


def map_headers(kind: str, headers: list[str], mapping: dict[str, str] | None = None
                ) -> HeaderMap:
    """Match the file's header row to a kind's columns.

    Students come in two layouts: one row per student with parent1_*/parent2_* columns
    ("wide"), or one row per parent-student pair with parent_* columns ("long"). A file
    with any numbered parent column is wide.
    """
    normed = [norm_header(h) for h in headers]
    mapping = {norm_header(k): v for k, v in (mapping or {}).items()}
    cols = SPECS[kind]
    layout = ""
    if kind in FAMILY_KINDS:
        wide, long = FAMILY_KINDS[kind]
        wide_keys = {a for c in wide if c.layout == "wide" for a in c.all_aliases}
        wide_mapped = {c.key for c in wide if c.layout == "wide"}
        layout = "wide" if any(n in wide_keys or mapping.get(n) in wide_mapped
                               for n in normed) else "long"
        cols = wide if layout == "wide" else long
    index: dict[str, int] = {}
    written: dict[str, str] = {}
    unknown: list[str] = []
    keys = {c.key for c in cols}
    # The user's mapping first: it wins over the aliases ("" ignores a header).
    for i, n in enumerate(normed):
        key = mapping.get(n) if n else None
        if key and key in keys and key not in index:
            index[key] = i
            written[key] = str(headers[i]).strip()
    for i, n in enumerate(normed):
        if not n or n in mapping:
            continue
        for col in cols:
            if n in col.all_aliases and col.key not in index:
                index[col.key] = i
                written[col.key] = str(headers[i]).strip()
                break
        else:
            unknown.append(str(headers[i]))
    return HeaderMap(index=index, written=written, layout=layout, unknown=unknown)


def columns_for(kind: str, layout: str = "") -> list[Col]:
    if kind in FAMILY_KINDS and layout == "long":
        return FAMILY_KINDS[kind][1]
    return SPECS[kind]


def column_label(col: Col) -> str:
    """How a column is named to a person: its Chinese header and its English one in words."""
    return f"{col.zh} · {col.en.replace('_', ' ')}"


def mappable_columns(kind: str, layout: str = "") -> list[Col]:
    """The columns a header can be mapped to (students: both layouts' parent columns)."""
    if kind in FAMILY_KINDS:
        seen: dict[str, Col] = {}
        for c in [*FAMILY_KINDS[kind][0], *FAMILY_KINDS[kind][1]]:
            seen.setdefault(c.key, c)
        return list(seen.values())
    return SPECS[kind]
