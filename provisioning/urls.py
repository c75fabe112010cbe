"""The login service per environment (SPEC §1): /<env>/.well-known/…, /<env>/login/…"""

from django.urls import path

from .oidc import views
from .oidc.authorize import AuthorizeView

app_name = "login"

urlpatterns = [
    path("<slug:env>/.well-known/openid-configuration", views.discovery, name="discovery"),
    path("<slug:env>/login/.well-known/openid-configuration", views.discovery, name="discovery-login"),
    path("<slug:env>/login/.well-known/jwks", views.jwks, name="jwks"),
    path("<slug:env>/login/common/oauth/authorize", AuthorizeView.as_view(), name="authorize"),
    path("<slug:env>/login/common/oauth/tokens", views.LoginTokenView.as_view(), name="token"),
    path("<slug:env>/login/common/oauth/revoke", views.LoginRevokeView.as_view(), name="revoke"),
    path("<slug:env>/login/common/oauth/logout", views.EndSessionView.as_view(), name="logout"),
    path("<slug:env>/login/common/oauth/introspect", views.IntrospectView.as_view(), name="introspect"),
    path("<slug:env>/login/api/PartnerSystemUser/Authenticate", views.SystemUserView.as_view(),
         name="system-user"),
]
