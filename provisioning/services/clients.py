"""django-oauth-toolkit's client rows, kept in step with the App Store's client-ID registry."""

from appstore.models import AppClient

from ..models import LoginClient


def sync_login_client(app_client: AppClient) -> LoginClient:
    client, created = LoginClient.objects_all.get_or_create(
        app_client=app_client,
        defaults={
            "client_id": app_client.client_id,
            "environment_id": app_client.environment_id,
            "name": app_client.app.name[:255],
            "client_type": LoginClient.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": LoginClient.GRANT_AUTHORIZATION_CODE,
            "algorithm": LoginClient.RS256_ALGORITHM,
            "hash_client_secret": False,
        },
    )
    if not created and client.client_id != app_client.client_id:
        client.client_id = app_client.client_id
        client.save(update_fields=["client_id", "updated"])
    return client
