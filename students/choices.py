"""Choice lists shared by the student-side models, forms and API."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")
    UNKNOWN = "u", _("Not stated")


class Grade(models.TextChoices):
    P1 = "P1", _("Primary 1 (小学一年级)")
    P2 = "P2", _("Primary 2 (小学二年级)")
    P3 = "P3", _("Primary 3 (小学三年级)")
    P4 = "P4", _("Primary 4 (小学四年级)")
    P5 = "P5", _("Primary 5 (小学五年级)")
    P6 = "P6", _("Primary 6 (小学六年级)")
    J1 = "J1", _("Junior 1 (初一)")
    J2 = "J2", _("Junior 2 (初二)")
    J3 = "J3", _("Junior 3 (初三)")
    S1 = "S1", _("Senior 1 (高一)")
    S2 = "S2", _("Senior 2 (高二)")
    S3 = "S3", _("Senior 3 (高三)")


class DecisionStyle(models.TextChoices):
    """DOMAIN.md §2: who decides decides whom a retention task targets."""

    STUDENT_LED = "student_led", _("Student-led (学员主导型)")
    PARENT_LED = "parent_led", _("Parent-led (家长主导型)")
    JOINT = "joint", _("Joint (共同决策)")


class LearningStyle(models.TextChoices):
    UNKNOWN = "", _("Not assessed")
    VISUAL = "visual", _("Visual")
    AUDITORY = "auditory", _("Auditory")
    READING = "reading", _("Reading/writing")
    KINESTHETIC = "kinesthetic", _("Hands-on")


class Subject(models.TextChoices):
    CHINESE = "chinese", _("Chinese")
    MATH = "math", _("Mathematics")
    ENGLISH = "english", _("English")
    PHYSICS = "physics", _("Physics")
    CHEMISTRY = "chemistry", _("Chemistry")
    BIOLOGY = "biology", _("Biology")
    HISTORY = "history", _("History")
    GEOGRAPHY = "geography", _("Geography")
    POLITICS = "politics", _("Politics")
    OTHER = "other", _("Other")
