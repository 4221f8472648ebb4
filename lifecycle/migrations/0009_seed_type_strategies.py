"""Defaults as data: a strategy and recommended actions for each of the 12 customer types
(DOMAIN.md §5-§6: expected customers are won, existing ones kept and grown, lost ones
won back; the value segment decides how much to invest). Managers edit them in the
workspace; a type that already has an institution row is left alone."""
from django.db import migrations

# customer type: (zh strategy, zh actions, en strategy, en actions)
STRATEGIES = {
    "core.expected": (
        "高价值潜在客户：重点争取。由资深顾问一对一跟进，用名师和提分成果打动决策人，尽快促成首次购买。",
        "资深顾问24小时内首次联系\n安排名师试听课\n邀请参加考后免费公开讲座\n给出首购方案并约定跟进时间",
        "A high-value prospect: win them. A senior counselor follows up one to one, shows our "
        "teachers and score gains to the decider and closes the first purchase early.",
        "Senior counselor calls within 24 hours\nBook a trial lesson with a top teacher\n"
        "Invite to the free post-exam lecture\nPropose a first package and agree the next call",
    ),
    "maintain.expected": (
        "消费能力强但口碑影响小：以教学效果和服务细节促成首购，控制投入。",
        "展示同年级提分案例\n试听后24小时内回访\n给出清晰的课时与价格方案",
        "Able to spend, little word of mouth: close the first purchase on teaching results "
        "and service detail, with measured effort.",
        "Show score gains of the same grade\nCall back within 24 hours of the trial\n"
        "Give a clear hours and price proposal",
    ),
    "develop.expected": (
        "当前消费低但口碑影响大：先建立好感与信任，借助老客户口碑和公开活动吸引。",
        "邀请参加免费公开课或讲座\n请满意的老客户家长介绍或陪同\n加入家长群保持联系",
        "Spends little now but sways others: build liking and trust first, through happy "
        "customers' word of mouth and open events.",
        "Invite to a free lecture or open class\nAsk a happy parent to introduce or accompany\n"
        "Keep in touch through the parent group",
    ),
    "ordinary.expected": (
        "一般潜在客户：低成本保持接触，需求明确时再重点跟进。",
        "加入公众号或家长群推送\n考试后统一邀约一次\n记录需求，需求出现时再联系",
        "An ordinary prospect: stay in touch cheaply and follow up in earnest when the need "
        "becomes urgent.",
        "Add to the newsletter or parent group\nOne invitation after each exam\n"
        "Record the need and call when it arises",
    ),
    "core.maintenance": (
        "核心客户：价值最高，重点维系。情感关怀加增值服务，优先安排优秀教师，邀请转介绍并提高转换成本。",
        "学管师每两周主动沟通学习情况\n每月提供学习报告并与家长面谈\n优先安排优秀教师\n"
        "邀请推荐亲友并给予忠诚奖励\n续费前一个月沟通下一阶段方案",
        "Core customers: the most valuable, keep them first. Personal care and added value, "
        "the best teachers, ask for referrals and raise the switching cost.",
        "Counselor checks in every two weeks\nMonthly progress report and parent meeting\n"
        "Give them the best teachers\nAsk for referrals with a loyalty reward\n"
        "Discuss the next package a month before renewal",
    ),
    "maintain.maintenance": (
        "消费高但忠诚与满意度不足：找出不满意的原因并尽快解决，加强情感与社交纽带，防止流失。",
        "满意度回访，了解不满意之处\n跟进并解决未结投诉\n定期家长会与学习报告\n续费时提供优惠（财务纽带）",
        "Spends well but is not yet loyal or satisfied: find what disappoints them and fix "
        "it fast, strengthen the social bond so they stay.",
        "Satisfaction call: what is not right\nResolve open complaints\n"
        "Regular parent meetings and progress reports\nA renewal offer (financial bond)",
    ),
    "develop.maintenance": (
        "满意忠诚但消费低：交叉销售和追加销售，提高钱包份额，并发挥其口碑价值。",
        "推荐其他科目或进阶课程\n提供组合课程优惠\n邀请转介绍同学或亲友",
        "Satisfied and loyal but spends little: cross-sell and upsell for a larger share of "
        "wallet, and use their word of mouth.",
        "Suggest another subject or an advanced course\nOffer a course bundle\n"
        "Ask them to refer classmates or relatives",
    ),
    "ordinary.maintenance": (
        "一般客户：标准化服务，控制服务成本，留意是否有提升价值的机会。",
        "按标准流程回访\n课时不足时按时提醒续费\n邀请参加集体活动",
        "Ordinary customers: standard service at a controlled cost; watch for a chance to "
        "raise their value.",
        "Standard follow-up calls\nRenewal reminder when hours run low\n"
        "Invite to group events",
    ),
    "core.recovery": (
        "流失的核心客户：全力挽回。校区主管亲自做离校访谈，找出真实原因，给出定制挽回方案。",
        "校区主管48小时内面谈决策人\n记录流失原因\n提供挽回方案（调整教师、补课、优惠）\n新学期或考试后再次联系",
        "A lost core customer: win them back. The branch manager holds the exit interview, "
        "finds the real cause and makes a tailored offer.",
        "Branch manager meets the decider within 48 hours\nRecord the reason for leaving\n"
        "Offer a fix (another teacher, make-up lessons, a discount)\n"
        "Call again at the new term or after exams",
    ),
    "maintain.recovery": (
        "流失的高消费客户：做离校访谈弄清原因，在合适时机提供挽回优惠。",
        "离校访谈并记录原因\n新学期或考试后提供回归优惠",
        "A lost high spender: learn why in an exit interview and make a win-back offer at "
        "the right moment.",
        "Exit interview and record the reason\nA return offer at the new term or after exams",
    ),
    "develop.recovery": (
        "流失但口碑影响大：妥善处理不满，防止负面口碑扩散，保持联系等待回归。",
        "离校访谈并解决遗留问题\n保持公众号或家长群联系\n适时邀请回归",
        "Lost but influential: settle what went wrong so bad word of mouth does not spread, "
        "and stay in touch for a return.",
        "Exit interview and settle open issues\nStay in touch through the newsletter or "
        "parent group\nInvite them back at the right time",
    ),
    "ordinary.recovery": (
        "流失的一般客户：记录原因用于改进，低成本保持联系，不做重点挽回投入。",
        "记录流失原因\n纳入资讯推送名单\n需求变化时再联系",
        "A lost ordinary customer: record why to improve, stay in touch cheaply, no "
        "special win-back effort.",
        "Record the reason for leaving\nAdd to the newsletter list\nCall when their need changes",
    ),
}


def forwards(apps, schema_editor):
    TypeStrategy = apps.get_model("lifecycle", "TypeStrategy")
    have = set(TypeStrategy.objects.filter(branch__isnull=True)
               .values_list("customer_type", flat=True))
    TypeStrategy.objects.bulk_create([
        TypeStrategy(branch=None, customer_type=t, strategy_zh=szh, actions_zh=azh,
                     strategy_en=sen, actions_en=aen)
        for t, (szh, azh, sen, aen) in STRATEGIES.items() if t not in have])


def backwards(apps, schema_editor):
    apps.get_model("lifecycle", "TypeStrategy").objects.filter(branch__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [("lifecycle", "0008_type_strategies")]

    operations = [migrations.RunPython(forwards, backwards)]
