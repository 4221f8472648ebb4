"""Simplified Chinese number formats where they differ from Django's: amounts of money are
grouped by thousands with a comma (¥1,422,342), as Chinese invoices and accounts write
them, not by ten-thousands without a separator. Only grouping asked for explicitly
(crm.templatetags.money, intcomma, floatformat "g") is affected."""
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
