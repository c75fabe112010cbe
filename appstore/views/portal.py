from allauth.account.views import SignupView

app_name = "portal"
urlpatterns: list = []


class PartnerSignupView(SignupView):
    pass
