"""A messy export of a tutoring chain's previous system, for the end-to-end import test
and the import benchmark (issue #25).

What makes it realistic: each file in the encoding the old system wrote (GBK CSV, UTF-8
CSV with and without a BOM, xlsx); the student file names the student column 学员名称,
which no alias knows (one mapping in the page), and carries columns nobody needs
(家庭住址, 备注); every other file names the student by 学员编号 only; siblings share one
phone under two contact names (王芳 / 王女士); phones typed with spaces, +86 or a range
the numbering metadata does not list; under-14s with consent; leavers with status, date
and reason; attendance without class or time; a subject (奥数) outside the built-in list.

    files = chain_export(students=30, today=date.today())
    files["students"] -> ("学员.csv", b"...")   # kind -> (file name, bytes)
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
from typing import Any

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "子涵欣怡梓轩浩宇一诺雨桐思远嘉怡俊杰晨曦宇航梦琪博文佳琪"
COURSES = [("math-hs", "高中数学"), ("eng-hs", "高中英语")]

STUDENT_HEAD = ["学员编号", "学员名称", "性别", "年级", "出生日期", "学校", "联系人1", "电话1",
                "关系1", "联系人2", "电话2", "关系2", "决策人", "课程顾问", "来源渠道",
                "学员状态", "退学日期", "退学原因", "监护人同意", "同意方式", "家庭住址", "备注"]


def _csv(rows: list[list[Any]], encoding: str, bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return (("\ufeff" if bom else "") + buf.getvalue()).encode(encoding)


def _xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _phone(i: int, style: int) -> str:
    digits = f"139{i:08d}"
    if style == 0:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 1:
        return f"+86 {digits}"
    return digits


class Chain:
    """The old system's records, generated once; the files are views of them."""

    def __init__(self, students: int, today: dt.date, counselor: str, seed: int = 25):
        self.rnd = random.Random(seed)
        self.today = today
        self.n = students
        self.counselor = counselor
        self.students: list[dict[str, Any]] = []
        self.contracts: list[dict[str, Any]] = []
        self._make()

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def _make(self) -> None:
        rnd = self.rnd
        for i in range(self.n):
            sid = f"XB{i + 1:05d}"
            name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN) + str(i)
            young = i % 10 == 7  # a junior-school pupil under 14
            birth = self.day(365 * (12 if young else 16) + i % 300)
            status = "在读"
            if i % 10 == 8:
                status = "退学"
            elif i % 10 == 9:
                status = "休学" if i % 20 == 9 else "结课"
            mother = rnd.choice(SURNAMES) + "芳"
            phone = _phone(i, i % 3)
            if i % 10 == 1:  # the sibling of the student before: same phone, other name
                prev = self.students[-1]
                phone, mother = prev["phone"], prev["mother"][0] + "女士"
            if i % 10 == 2:
                phone = f"154{i:08d}"  # well formed, but not a range in use
            s = {"id": sid, "name": name, "young": young, "birth": birth, "status": status,
                 "mother": mother, "phone": phone, "i": i,
                 "course": COURSES[i % 2][1]}
            self.students.append(s)
            self._contracts(s)

    def _contracts(self, s: dict[str, Any]) -> None:
        i = s["i"]
        if s["status"] != "在读":  # one old contract, over
            spans = [(400, 60, 0)]
        elif i % 3 == 0:  # a long-standing customer: two renewals
            spans = [(520, 280, 0), (280, 40, 0), (40, -300, 20)]
        elif i % 3 == 1:  # renewed once
            spans = [(200, 20, 0), (20, -300, 30)]
        else:  # a newcomer
            spans = [(30, -300, 36)]
        for k, (signed, until, left) in enumerate(spans):
            self.contracts.append({
                "no": f"HT{i + 1:05d}-{k + 1}", "student": s["id"], "course": s["course"],
                "hours": 40, "left": left, "price": 8000 + 400 * k,
                "signed": self.day(signed), "until": self.day(until),
                "as_of": self.day(10)})

    # --- the files ----------------------------------------------------------------------
    def students_file(self) -> bytes:
        rows: list[list[Any]] = [STUDENT_HEAD]
        for s in self.students:
            i = s["i"]
            left = self.day(60) if s["status"] != "在读" else ""
            reason = {"退学": "成绩没有提高", "休学": "出国交流", "结课": "高考结束"}.get(
                s["status"], "")
            second = (["爸爸" + s["name"][0], _phone(50_000 + i, 2), "父亲"] if i % 4 == 0
                      else ["", "", ""])
            rows.append([
                s["id"], s["name"], "男" if i % 2 else "女", "初一" if s["young"] else "高二",
                s["birth"].isoformat(), "第一中学", s["mother"], s["phone"], "妈妈", *second,
                "家长" if i % 2 else "学生",
                self.counselor if i % 6 else "已离职老师", "转介绍" if i % 3 else "地推",
                s["status"], left.isoformat() if left else "", reason,
                "是" if s["young"] else "", "纸质" if s["young"] else "",
                "西湖区某路", "老系统备注"])
        return _csv(rows, "gbk")

    def contracts_file(self) -> bytes:
        rows: list[list[Any]] = [["合同编号", "学员编号", "课程", "购买课时", "剩余课时",
                                  "余额日期", "合同金额", "签约日期", "生效日期", "有效期至"]]
        for c in self.contracts:
            rows.append([c["no"], c["student"], c["course"], c["hours"], c["left"],
                         c["as_of"], c["price"], c["signed"], c["signed"], c["until"]])
        return _xlsx(rows)

    def payments_file(self) -> bytes:
        rows: list[list[Any]] = [["合同编号", "实收", "付款方式", "付款日期", "交易号"]]
        for k, c in enumerate(self.contracts):
            rows.append([c["no"], f"{c['price']:.2f}", ["微信", "支付宝", "现金"][k % 3],
                         c["signed"].strftime("%Y/%m/%d"), f"TX{k:07d}"])
        return _csv(rows, "utf-8", bom=True)

    def active(self) -> list[dict[str, Any]]:
        return [s for s in self.students if s["status"] == "在读"]

    def attendance_file(self, weeks: int = 8) -> bytes:
        rows: list[list[Any]] = [["学员编号", "上课日期", "考勤", "课时"]]
        for s in self.active():
            for w in range(weeks, 0, -1):
                slipping = s["i"] % 5 == 4 and w <= 3  # stopped coming lately
                rows.append([s["id"], self.day(7 * w).isoformat(),
                             "缺勤" if slipping else ("迟到" if w == 5 else "出勤"), "2"])
        return _csv(rows, "utf-8")

    def visits_file(self) -> bytes:
        rows: list[list[Any]] = [["学员编号", "回访日期", "回访方式", "回访对象", "回访内容",
                                  "满意度"]]
        for s in self.active():
            unhappy = s["i"] % 5 == 4
            rows.append([s["id"], self.day(20).isoformat(), "电话" if s["i"] % 2 else "微信",
                         "家长", "作业太多，孩子压力大" if unhappy else "对老师满意",
                         "不满意" if unhappy else ("非常满意" if s["i"] % 3 == 0 else "4")])
        return _xlsx(rows)

    def complaints_file(self) -> bytes:
        rows: list[list[Any]] = [["学员编号", "投诉日期", "投诉类型", "投诉内容", "处理结果",
                                  "解决日期"]]
        for s in self.active():
            if s["i"] % 5 == 4:
                rows.append([s["id"], self.day(12).isoformat(), "老师", "老师经常迟到", "", ""])
            elif s["i"] % 7 == 0:
                rows.append([s["id"], self.day(90).isoformat(), "收费", "发票开错",
                             "已重开发票", self.day(85).isoformat()])
        return _csv(rows, "gbk")

    def exams_file(self) -> bytes:
        rows: list[list[Any]] = [["学员编号", "考试名称", "科目", "成绩", "满分", "考试日期",
                                  "考试类型"]]
        for s in self.active():
            rows.append([s["id"], "期中考试", "数学", 60 + s["i"] % 80, 150,
                         self.day(45).isoformat(), "期中"])
            if s["i"] % 4 == 0:
                rows.append([s["id"], "期中考试", "奥数", 70, 100, self.day(45).isoformat(),
                             "期中"])
        return _csv(rows, "utf-8")

    def prospects_file(self, n: int = 5) -> bytes:
        rows: list[list[Any]] = [["学员姓名", "年级", "出生日期", "家长姓名", "家长电话",
                                  "意向程度", "来源渠道"]]
        for k in range(n):
            rows.append([f"潜客{k}", "高一", self.day(365 * 15 + k).isoformat(), f"潜客家长{k}",
                         f"137{k:08d}", ["高", "中", "低"][k % 3], "地推"])
        return _csv(rows, "utf-8")


def chain_export(*, students: int = 30, today: dt.date, counselor: str,
                 seed: int = 25) -> dict[str, tuple[str, bytes]]:
    """kind -> (file name, content): the files in the order a school imports them."""
    chain = Chain(students, today, counselor, seed)
    return {
        "students": ("学员.csv", chain.students_file()),
        "prospects": ("潜在客户.csv", chain.prospects_file()),
        "contracts": ("合同.xlsx", chain.contracts_file()),
        "payments": ("收费记录.csv", chain.payments_file()),
        "attendance": ("上课记录.csv", chain.attendance_file()),
        "interactions": ("回访记录.xlsx", chain.visits_file()),
        "complaints": ("投诉.csv", chain.complaints_file()),
        "exams": ("成绩.csv", chain.exams_file()),
    }
