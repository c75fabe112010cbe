from django import forms


class NameSignupForm(forms.Form):
    """Extra fields on allauth's sign-up form."""

    full_name = forms.CharField(label="Your name", max_length=150)

    def signup(self, request, user) -> None:
        user.full_name = self.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])
