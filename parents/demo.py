"""The parents domain of the demo seeder: family shapes, guardians and their consents.

Called by the orchestrator in lifecycle/demo.py with its chunk builder `b` (rng, world,
today, parents, plans, and the counted writes `put`/`raw`)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from crm.db import db_datetime, temporals_as_text
from crm.demo import (
    BRANCH_WEIGHTS,
    ELDER_NAMES,
    MAN_NAMES,
    SURNAME_WEIGHTS,
    SURNAMES,
    WOMAN_NAMES,
    local_dt,
    name_keys,
    person_name,
    words,
)
from crm.models import Branch
from parents.models import ContactConsent, GuardianConsent, Guardianship, Parent
from students.demo.vocabulary import GRADE_WEIGHTS, GRADES

if TYPE_CHECKING:
    from lifecycle.demo import ChunkBuilder

OCCUPATIONS = words("教师 医生 公务员 工程师 会计 个体经营 销售经理 程序员 企业管理 自由职业 护士 "
               "律师 银行职员 外贸 设计师")

FAMILY_SITUATIONS = {
    "both": ["双职工家庭，妈妈负责接送", "父母都在上班，周末有时间陪学",
             "父亲经常出差，母亲主管学习", "父母对学习要求高，重视成绩"],
    "grand": ["父母工作忙，平时由爷爷奶奶照顾", "三代同住，老人负责接送"],
    "mother": ["单亲家庭，由母亲抚养"],
    "father": ["单亲家庭，由父亲抚养"],
    "elder": ["父母在外地工作，由祖父母监护"],
}

# (branch, surname, grade, guardians with their relation, family situation) per child
ChildSpec = tuple[Branch, str, str, list[tuple[Parent, str]], str]


def make_parent(b: ChunkBuilder, branch: Branch, name: str, elder: bool,
                created: dt.date) -> Parent:
    rng = b.rng
    full, initials = name_keys(name)
    r = rng.random()
    wechat = ("wxid_" + "".join(rng.choices("abcdefghijkmnpqrstuvwxyz23456789", k=10))
              if r < 0.4 else f"{full}{rng.randint(1, 999)}" if r < 0.8 else "")
    email = (f"{full}{rng.randint(10, 9999)}@{rng.choice(['qq.com', '163.com', '126.com'])}"
             if rng.random() < 0.1 else "")
    parent = Parent(
        branch=branch, name=name, name_pinyin=full, name_initials=initials,
        phone=b.world.phones.next(), wechat_id=wechat, email=email,
        occupation="退休" if elder else rng.choice(OCCUPATIONS),
        created_at=local_dt(created, rng.randint(9, 20), rng.randint(0, 59)),
    )
    b.parents.append(parent)
    return parent


def draw_family(b: ChunkBuilder, remaining: int) -> list[ChildSpec]:
    """One household: its guardians (saved later with the chunk) and its children's grades."""
    rng, world, today = b.rng, b.world, b.today
    branch = rng.choices(world.branches, weights=BRANCH_WEIGHTS[:len(world.branches)])[0]
    children = min(remaining, rng.choices([1, 2, 3], weights=[80, 17, 3])[0])
    father_surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    shape = rng.choices(["both", "grand", "mother", "father", "elder"],
                        weights=[65, 10, 18, 5, 2])[0]
    first_contact = today - dt.timedelta(days=rng.randint(0, 900))
    members: list[tuple[Parent, str]] = []
    if shape in ("both", "grand", "mother"):
        members.append((make_parent(b, branch, person_name(rng, WOMAN_NAMES), False,
                                first_contact), Guardianship.Relation.MOTHER))
    if shape in ("both", "grand", "father"):
        members.append((make_parent(b, branch, person_name(rng, MAN_NAMES, father_surname),
                                False, first_contact), Guardianship.Relation.FATHER))
    if shape in ("grand", "elder"):
        members.append((make_parent(b, branch, person_name(rng, ELDER_NAMES, father_surname),
                                True, first_contact), Guardianship.Relation.GRANDPARENT))
    surname = father_surname if shape != "mother" or rng.random() < 0.7 else \
        members[0][0].name[0]
    grades: list[int] = []
    while len(grades) < children:  # siblings: distinct grades, same weighting
        g = rng.choices(range(12), weights=GRADE_WEIGHTS)[0]
        if g not in grades:
            grades.append(g)
    situation = rng.choice(FAMILY_SITUATIONS[shape])
    return [(branch, surname, GRADES[g], members, situation) for g in grades]


def write_guardians(b: ChunkBuilder) -> None:
    """Guardianships, guardian consents for under-14s and each parent's contact consents."""
    rng, today = b.rng, b.today
    text = temporals_as_text()

    def ts(value: dt.datetime) -> object:
        return db_datetime(value, text)

    guardianships, consents = [], []
    for sp in b.plans:
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
    b.raw(Guardianship, ["student_id", "parent_id", "relation", "is_primary_contact",
                         "is_decision_maker", "created_at"], guardianships)
    b.put(GuardianConsent, consents)
    contact = []
    for parent in b.parents:
        at = ts(parent.created_at)
        contact.append((parent.pk, "phone", rng.random() < 0.98, at, "登记表"))
        contact.append((parent.pk, "sms", rng.random() < 0.85, at, "登记表"))
        if parent.wechat_id:
            contact.append((parent.pk, "wechat", rng.random() < 0.92, at, "添加企业微信"))
        if parent.email:
            contact.append((parent.pk, "email", rng.random() < 0.7, at, "登记表"))
    b.raw(ContactConsent, ["parent_id", "channel", "granted", "updated_at", "source"],
          contact)
