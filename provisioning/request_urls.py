"""URLs of custom-app authorization requests, each list included under its own namespace in
config/urls.py: the portal's (``portal-authz``), staff review's (``review-authz``) and the
customer's confirmation link (``my-authz``)."""

from django.urls import path

from . import views_requests as views

portal_patterns = ([
    path("apps/<int:app_id>/authorization/", views.authorization_requests, name="authorization"),
    path("apps/<int:app_id>/authorization/<int:pk>/withdraw/", views.withdraw_authorization_request,
         name="authorization_withdraw"),
], "portal-authz")

review_patterns = ([
    path("authorization-requests/", views.review_queue, name="queue"),
    path("authorization-requests/<int:pk>/", views.review_request, name="detail"),
    path("authorization-requests/<int:pk>/activate/", views.activate_request, name="activate"),
    path("authorization-requests/<int:pk>/reject/", views.reject_request, name="reject"),
], "review-authz")

customer_patterns = ([
    path("confirm-authorization/<str:token>/", views.confirm_authorization, name="confirm"),
], "my-authz")
