"""/api/v1/ routes (namespace "api")."""

from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("apps/", views.AppList.as_view(), name="apps"),
    path("apps/<int:app_id>/", views.AppDetail.as_view(), name="app"),
    path("apps/<int:app_id>/listings/", views.ListingList.as_view(), name="listings"),
    path("apps/<int:app_id>/listings/<int:pk>/", views.ListingDetail.as_view(), name="listing"),
    path("apps/<int:app_id>/listings/<int:pk>/request-publish/", views.ListingRequestPublish.as_view(),
         name="listing_request_publish"),
    path("apps/<int:app_id>/listings/<int:pk>/withdraw/", views.ListingWithdraw.as_view(),
         name="listing_withdraw"),
    path("apps/<int:app_id>/configurations/", views.ConfigurationList.as_view(), name="configurations"),
    path("apps/<int:app_id>/configurations/<int:pk>/", views.ConfigurationDetail.as_view(),
         name="configuration"),
    path("apps/<int:app_id>/configurations/<int:pk>/publish/", views.ConfigurationPublish.as_view(),
         name="configuration_publish"),
    path("apps/<int:app_id>/configurations/<int:pk>/withdraw/", views.ConfigurationWithdraw.as_view(),
         name="configuration_withdraw"),
    path("requests/", views.PublishRequestList.as_view(), name="requests"),
]
