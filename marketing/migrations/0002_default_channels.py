from django.db import migrations

DEFAULTS = [
    ("walk_in", "上门咨询", "Walk-in", False),
    ("phone", "电话咨询", "Phone enquiry", False),
    ("referral", "老带新/转介绍", "Referral", True),
    ("lecture", "公开讲座", "Public lecture", False),
    ("online", "网络渠道", "Online", False),
    ("school_partnership", "学校合作", "School partnership", False),
    ("other", "其他", "Other", False),
]


def add_channels(apps, schema_editor):
    Channel = apps.get_model("marketing", "Channel")
    for order, (code, zh, en, referral) in enumerate(DEFAULTS):
        Channel.objects.get_or_create(
            code=code,
            defaults={"name_zh": zh, "name_en": en, "is_referral": referral, "sort_order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("marketing", "0001_initial")]
    operations = [migrations.RunPython(add_channels, migrations.RunPython.noop)]
