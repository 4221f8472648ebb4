"""Words and numbers the students side of the demo draws from (schools, goals, courses,
prices, time slots, contact texts)."""
from __future__ import annotations

import datetime as dt

from students.models import Attendance

SESSION_HOURS = 2  # every demo lesson is 2 hours; packages are whole multiples of it

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



def level_of(grade: str) -> str:
    return grade[0]
