"""Forms of the staff workspace shared by every app (login)."""
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autofocus": True,
                                                     "autocomplete": "username"})
        self.helper = FormHelper()
        self.helper.form_tag = False  # the template draws the <form> (it carries `next`)
        self.helper.add_input(Submit("submit", _("Log in"), css_class="w-100"))
