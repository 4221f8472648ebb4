"""Cell parsers: tolerant of how staff type things (高一, 高1, S1, Senior 1; 2010/5/1,
2010年5月1日; 男/女), strict about what is wrong. Each raises CellError with a reason
in the user's language; the importer adds the row and the column.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _lazy

from crm.spreadsheets import unquote_cell
from students.choices import Gender, Grade, Subject

from .readers import Cell


class CellError(ValueError):
    """A cell's value is wrong: `reason` is shown to the user next to row and column."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return unquote_cell(str(value).strip())


_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
              "十": 10, "十一": 11, "十二": 12}


def _grade_table() -> dict[str, str]:
    table: dict[str, str] = {}
    cn = {v: k for k, v in _CN_DIGITS.items()}
    for n in range(1, 7):
        code = f"P{n}"
        for form in (code, f"primary{n}", f"grade{n}", f"g{n}", f"小学{cn[n]}年级", f"小{cn[n]}",
                     f"小学{n}年级", f"小{n}", f"{cn[n]}年级", f"{n}年级"):
            table[form.lower()] = code
    for n in range(1, 4):
        for code, zh, en, year in ((f"J{n}", "初", "junior", 6 + n), (f"S{n}", "高", "senior",
                                                                       9 + n)):
            for form in (code, f"{en}{n}", f"{zh}{cn[n]}", f"{zh}{n}", f"{zh}中{cn[n]}年级",
                         f"{zh}中{n}年级", f"grade{year}", f"g{year}", f"{cn[year]}年级",
                         f"{year}年级"):
                table[form.lower()] = code
    return table


_GRADES = _grade_table()


def grade(value: Cell) -> str:
    raw = text(value)
    key = re.sub(r"[\s_\-.]+", "", raw).lower()
    if not key:
        raise CellError(_("Enter the grade."))
    code = _GRADES.get(key)
    if code is None:
        raise CellError(_("Unknown grade “%(value)s” (use e.g. 高一, S1, Senior 1, 初二, "
                          "小学三年级).") % {"value": raw})
    return code


_DATE_FORMS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S",
               "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M")


def _iso_day(raw: str) -> dt.date | None:
    """2024-09-01 or 2024/09/01, the common forms, without strptime's locale lookups."""
    if len(raw) == 10 and raw[4] in "-/." and raw[7] == raw[4]:
        try:
            return dt.date(int(raw[:4]), int(raw[5:7]), int(raw[8:]))
        except ValueError:
            return None
    return None


def date(value: Cell, *, not_future: bool = False) -> dt.date | None:
    """A date, or None for an empty cell; `not_future` refuses days after today."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        raw = text(value)
        day = _iso_day(raw)
        for form in () if day else _DATE_FORMS:
            try:
                day = dt.datetime.strptime(raw, form).date()  # noqa: DTZ007 (a plain day)
                break
            except ValueError:
                continue
        if day is None:
            raise CellError(_("“%(value)s” is not a date (use 2024-09-01).") % {"value": raw})
    if not_future and day > timezone.localdate():
        raise CellError(_("The date %(date)s is in the future.") % {"date": day.isoformat()})
    return day


def time(value: Cell) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, dt.time):
        return value
    raw = text(value).replace("：", ":")
    for form in ("%H:%M", "%H:%M:%S", "%H点", "%H.%M"):
        try:
            return dt.datetime.strptime(raw, form).time()  # noqa: DTZ007
        except ValueError:
            continue
    raise CellError(_("“%(value)s” is not a time of day (use 18:30).") % {"value": raw})


def decimal(value: Cell, *, required: bool = True, minimum: Decimal | None = None
            ) -> Decimal | None:
    raw = text(value).replace(",", "").replace("¥", "").replace("￥", "").replace("元", "")
    if not raw:
        if required:
            raise CellError(_("This value is required."))
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation as exc:
        raise CellError(_("“%(value)s” is not a number.") % {"value": text(value)}) from exc
    if not number.is_finite():
        raise CellError(_("“%(value)s” is not a number.") % {"value": text(value)})
    if minimum is not None and number < minimum:
        raise CellError(_("%(value)s is below the minimum of %(min)s.")
                        % {"value": number, "min": minimum})
    return number


def _choice(value: Cell, table: dict[str, str], what: Any) -> str:
    raw = text(value)
    key = raw.lower().replace(" ", "").replace("_", "")
    if key in table:
        return table[key]
    raise CellError(_("Unknown %(what)s “%(value)s”.") % {"what": what, "value": raw})


_GENDERS = {"男": Gender.MALE, "m": Gender.MALE, "male": Gender.MALE, "boy": Gender.MALE,
            "女": Gender.FEMALE, "f": Gender.FEMALE, "female": Gender.FEMALE,
            "girl": Gender.FEMALE, "": Gender.UNKNOWN, "u": Gender.UNKNOWN,
            "未知": Gender.UNKNOWN, "不详": Gender.UNKNOWN}


def gender(value: Cell) -> str:
    return _choice(value, _GENDERS, _lazy("gender"))


_RELATIONS = {
    **dict.fromkeys(["mother", "mom", "mum", "母亲", "妈妈", "母", "妈"], "mother"),
    **dict.fromkeys(["father", "dad", "父亲", "爸爸", "父", "爸"], "father"),
    **dict.fromkeys(["grandparent", "grandmother", "grandfather", "爷爷", "奶奶", "外公",
                     "外婆", "姥姥", "姥爷", "祖父", "祖母", "外祖父", "外祖母", "祖父母"],
                    "grandparent"),
    **dict.fromkeys(["other", "guardian", "其他", "其它", "监护人", "亲属"], "other"),
}


def relation(value: Cell, default: str = "mother") -> str:
    if not text(value):
        return default
    return _choice(value, _RELATIONS, _lazy("relation"))


_YES = {"是", "同意", "已同意", "有", "y", "yes", "true", "1", "√", "✓", "ok"}
_NO = {"否", "不同意", "无", "n", "no", "false", "0", ""}


def yes_no(value: Cell) -> bool:
    raw = text(value).lower()
    if raw in _YES:
        return True
    if raw in _NO:
        return False
    raise CellError(_("Answer yes or no (是/否), not “%(value)s”.") % {"value": text(value)})


_CONSENT_METHODS = {
    **dict.fromkeys(["paper", "纸质", "纸质签字", "签字", "书面", "纸质同意书"], "paper"),
    **dict.fromkeys(["esign", "电子签名", "电子签", "电子", "线上"], "esign"),
    **dict.fromkeys(["recordedcall", "录音电话", "电话录音", "电话"], "recorded_call"),
}


def consent_method(value: Cell) -> str:
    return _choice(value, _CONSENT_METHODS, _lazy("consent method"))


_SUBJECTS = {
    **{s.value: s.value for s in Subject},
    **dict.fromkeys(["语文"], "chinese"), **dict.fromkeys(["数学", "maths"], "math"),
    **dict.fromkeys(["英语", "外语"], "english"), **dict.fromkeys(["物理"], "physics"),
    **dict.fromkeys(["化学"], "chemistry"), **dict.fromkeys(["生物"], "biology"),
    **dict.fromkeys(["历史"], "history"), **dict.fromkeys(["地理"], "geography"),
    **dict.fromkeys(["政治", "道德与法治"], "politics"), **dict.fromkeys(["其他"], "other"),
}


def subject(value: Cell) -> str:
    return _choice(value, _SUBJECTS, _lazy("subject"))


_ATTENDANCE = {
    **dict.fromkeys(["attended", "present", "出勤", "到课", "已到", "到", "正常", "√"],
                    "attended"),
    **dict.fromkeys(["late", "迟到"], "late"),
    **dict.fromkeys(["leave", "请假", "假"], "leave"),
    **dict.fromkeys(["absent", "缺勤", "缺课", "旷课", "未到", "×"], "absent"),
}


def attendance_status(value: Cell) -> str:
    return _choice(value, _ATTENDANCE, _lazy("attendance status"))


_PAY_METHODS = {
    **dict.fromkeys(["wechat", "微信", "微信支付"], "wechat"),
    **dict.fromkeys(["alipay", "支付宝"], "alipay"),
    **dict.fromkeys(["card", "银行卡", "刷卡", "pos"], "card"),
    **dict.fromkeys(["transfer", "转账", "银行转账", "对公转账"], "transfer"),
    **dict.fromkeys(["cash", "现金"], "cash"),
}


def pay_method(value: Cell) -> str:
    return _choice(value, _PAY_METHODS, _lazy("payment method"))


_EXAM_KINDS = {
    **dict.fromkeys(["quiz", "月考", "周测", "测验", "小测", ""], "quiz"),
    **dict.fromkeys(["midterm", "期中", "期中考试"], "midterm"),
    **dict.fromkeys(["final", "期末", "期末考试"], "final"),
    **dict.fromkeys(["mock", "模考", "模拟考", "一模", "二模", "三模"], "mock"),
    **dict.fromkeys(["zhongkao", "中考"], "zhongkao"),
    **dict.fromkeys(["gaokao", "高考"], "gaokao"),
}


def exam_kind(value: Cell) -> str:
    return _choice(value, _EXAM_KINDS, _lazy("exam type"))


def grade_label(code: str) -> str:
    return str(Grade(code).label) if code in Grade.values else code


_DECISION = {
    **dict.fromkeys(["student_led", "studentled", "student", "学生", "学员", "孩子", "学生主导",
                     "学员主导", "学员主导型", "学生主导型", "学生本人", "本人"], "student_led"),
    **dict.fromkeys(["parent_led", "parentled", "parent", "家长", "父母", "妈妈", "爸爸", "母亲",
                     "父亲", "家长主导", "家长主导型"], "parent_led"),
    **dict.fromkeys(["joint", "共同", "共同决策", "双方", "一起", "都有"], "joint"),
}


def decision_style(value: Cell) -> str:
    """DOMAIN.md §2: who decides (学员主导型 / 家长主导型 / joint)."""
    return _choice(value, _DECISION, gettext_lazy("decision maker"))


_CONTACT_CHANNELS = {
    **dict.fromkeys(["call", "电话", "来电", "去电", "电话回访", "电话沟通", "phone"], "call"),
    **dict.fromkeys(["visit", "上门", "到访", "来访", "面访", "家访"], "visit"),
    **dict.fromkeys(["wechat", "微信", "微信沟通", "企业微信"], "wechat"),
    **dict.fromkeys(["meeting", "面谈", "家长会", "会议", "当面"], "meeting"),
    **dict.fromkeys(["sms", "短信"], "sms"),
}


def contact_channel(value: Cell) -> str:
    """How a visit/interaction happened; an empty cell is a phone call (回访 by default)."""
    if not text(value):
        return "call"
    return _choice(value, _CONTACT_CHANNELS, gettext_lazy("contact method"))


_COUNTERPARTS = {
    **dict.fromkeys(["parent", "家长", "父母", "妈妈", "爸爸", "母亲", "父亲", "监护人"],
                    "parent"),
    **dict.fromkeys(["student", "学员", "学生", "孩子", "本人"], "student"),
}


def counterpart(value: Cell) -> str:
    """Student or parent; an empty cell is a parent (who answers most calls)."""
    if not text(value):
        return "parent"
    return _choice(value, _COUNTERPARTS, gettext_lazy("counterpart"))


_SATISFACTION_WORDS = {"非常满意": 5, "很满意": 5, "满意": 4, "比较满意": 4, "一般": 3,
                       "基本满意": 3, "还行": 3, "不满意": 2, "不太满意": 2, "很不满意": 1,
                       "非常不满意": 1}


def satisfaction(value: Cell) -> int | None:
    """A 1-5 rating from 1-5, 0-10 or 0-100 scales or words (满意/一般/不满意)."""
    raw = text(value)
    if not raw:
        return None
    if raw in _SATISFACTION_WORDS:
        return _SATISFACTION_WORDS[raw]
    number = decimal(raw.rstrip("分%"), minimum=Decimal("0"))
    assert number is not None
    if number <= 5:
        scaled = number
    elif number <= 10:
        scaled = number / 2
    elif number <= 100:
        scaled = number / 20
    else:
        raise CellError(_("A satisfaction of %(value)s is off every scale (1-5, 0-10, "
                          "0-100).") % {"value": raw})
    return max(1, min(5, int(scaled.to_integral_value(rounding="ROUND_HALF_UP"))))


_COMPLAINT_CATEGORIES = {
    **dict.fromkeys(["teaching", "教学", "教学质量", "教学效果", "课程质量"], "teaching"),
    **dict.fromkeys(["teacher", "老师", "教师", "师资", "老师态度"], "teacher"),
    **dict.fromkeys(["schedule", "排课", "时间", "课表", "上课时间", "调课"], "schedule"),
    **dict.fromkeys(["service", "服务", "服务态度", "前台", "学管"], "service"),
    **dict.fromkeys(["billing", "收费", "费用", "退费", "价格", "缴费"], "billing"),
    **dict.fromkeys(["environment", "环境", "校区环境", "教室", "设施"], "environment"),
    **dict.fromkeys(["other", "其他", "其它", ""], "other"),
}


def complaint_category(value: Cell) -> str | None:
    """The category, or None for a word outside the list (the importer notes it)."""
    key = text(value).lower().replace(" ", "")
    return _COMPLAINT_CATEGORIES.get(key)


_COMPLAINT_STATUSES = {
    **dict.fromkeys(["open", "待处理", "未处理", "未解决", "新建"], "open"),
    **dict.fromkeys(["inprogress", "处理中", "跟进中", "进行中"], "in_progress"),
    **dict.fromkeys(["resolved", "已解决", "已处理", "已完成", "关闭", "已关闭", "完成"],
                    "resolved"),
}


def complaint_status(value: Cell) -> str:
    return _choice(value, _COMPLAINT_STATUSES, gettext_lazy("complaint status"))


_URGENCY = {
    **dict.fromkeys(["high", "高", "强", "a", "急", "紧急", "高意向"], "high"),
    **dict.fromkeys(["medium", "中", "一般", "b", "中等", ""], "medium"),
    **dict.fromkeys(["low", "低", "弱", "c", "低意向"], "low"),
}


def urgency(value: Cell) -> str:
    return _choice(value, _URGENCY, gettext_lazy("need urgency"))


_STUDENT_STATUS = {
    **dict.fromkeys(["active", "在读", "正常", "在学", "在籍", "上课中", ""], "active"),
    **dict.fromkeys(["dropped", "退学", "流失", "退费", "已退学", "已退费", "停读"], "dropped"),
    **dict.fromkeys(["finished", "结课", "已结课", "毕业", "结业", "已毕业"], "finished"),
    **dict.fromkeys(["suspended", "休学", "停课", "暂停", "暂停上课"], "suspended"),
}


def student_status(value: Cell) -> str:
    """The previous system's status: 在读 (active), 退学, 结课 or 休学 (former customers)."""
    return _choice(value, _STUDENT_STATUS, gettext_lazy("student status"))
