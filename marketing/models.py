"""Acquisition: where families hear of us (an editable list, DOMAIN.md §6)."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.Model):
    """A source/channel (walk-in, phone, referral, lecture, ...); managers can add more."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    is_referral = models.BooleanField(_("word of mouth"), default=False,
                                      help_text=_("Families from this channel came through "
                                                  "someone's recommendation."))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("source channel")
        verbose_name_plural = _("source channels")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return self.name_zh if (get_language() or "").startswith("zh") else self.name_en
