"""Customer administration under /my/: a user's companies, each company's installed apps, uninstall by
the company's administrators only, and the uninstall report e-mail."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from audit.models import AuditEntry
from provisioning.models import Authorization, AuthorizationStatus, SystemUserTicket
from provisioning.services.authorizations import approve, system_user_token_for
from tenants.models import Tenant, TenantMember, TenantState

from ..factories import AppFactory, PartnerMemberFactory, UserFactory, published_listing
from .conftest import tenant_with_people
from .test_tokens import tokens_for

pytestmark = pytest.mark.django_db


def apps_url(people) -> str:
    return f"/my/{people.tenant.environment.code}/{people.tenant.context_identifier}/apps/"


def uninstall_url(people, authorization) -> str:
    return f"{apps_url(people)}{authorization.pk}/uninstall/"


def install(login_app, people, consent_text="Acme reads your companies and writes orders back."):
    return approve(app=login_app.app, tenant=people.tenant, user=people.admin.user, consent_text=consent_text)


def reports_to(partner, addresses: str) -> None:
    partner.uninstall_report_emails = addresses
    partner.save(update_fields=["uninstall_report_emails"])


def page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# ---------------------------------------------------------------- /my/ and the header


def test_pages_need_sign_in(client, login_app, tenant_a):
    authorization = install(login_app, tenant_a)
    for url in ("/my/", apps_url(tenant_a), uninstall_url(tenant_a, authorization)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
    assert client.post(uninstall_url(tenant_a, authorization)).status_code == 302
    assert Authorization.objects.get().status == AuthorizationStatus.ACTIVE


def test_my_lists_the_users_companies_in_every_environment(client, tenant_a, tenant_b):
    online = tenant_with_people("Cust30001", env="online")
    TenantMember.objects.create(tenant=online.tenant, user=tenant_a.member.user, is_user_administrator=True)
    body = page(client, tenant_a.member.user, "/my/")
    assert escape(tenant_a.tenant.company_name) in body and escape(online.tenant.company_name) in body
    assert 'href="/my/sod/Cust10001/apps/"' in body and 'href="/my/online/Cust30001/apps/"' in body
    assert "Cust10002" not in body and escape(tenant_b.tenant.company_name) not in body
    assert body.count("Administrator</span>") == 1  # only in the online company


def test_my_without_companies_says_so(client):
    body = page(client, UserFactory(), "/my/")
    assert "does not belong to any customer" in body


def test_header_links_to_my_companies_only_for_tenant_members(client, tenant_a):
    link = "My company's apps"
    assert link not in client.get("/").content.decode()
    assert link not in page(client, PartnerMemberFactory().user, "/")
    assert link in page(client, tenant_a.member.user, "/")
    assert 'href="/my/"' in page(client, tenant_a.member.user, "/apps/")


def test_header_link_appears_after_the_my_page_for_someone_added_since_sign_in(client, tenant_a):
    user = UserFactory()
    client.force_login(user)
    TenantMember.objects.create(tenant=tenant_a.tenant, user=user)
    assert "My company's apps" in client.get("/my/").content.decode()


def test_header_link_appears_for_someone_added_elsewhere_once_the_no_is_old(client, tenant_a, monkeypatch):
    from tenants import sessions

    user = UserFactory()
    client.force_login(user)
    assert "My company's apps" not in client.get("/apps/").content.decode()
    TenantMember.objects.create(tenant=tenant_a.tenant, user=user)  # added by an administrator
    assert "My company's apps" not in client.get("/apps/").content.decode()  # the kept "no", no query
    monkeypatch.setattr(sessions, "RECHECK_NO_AFTER", -1)
    assert "My company's apps" in client.get("/apps/").content.decode()


# ---------------------------------------------------------------- installed apps


def test_admin_sees_installed_apps_with_consent_and_uninstall_button(client, login_app, tenant_a):
    authorization = install(login_app, tenant_a)
    app = login_app.app
    body = page(client, tenant_a.admin.user, apps_url(tenant_a))
    assert escape(f"Apps installed for {tenant_a.tenant.company_name}") in body
    assert app.name in body and app.partner.name in body
    assert "Active" in body and escape(tenant_a.admin.user.get_full_name()) in body
    assert authorization.approved_at.strftime("%-d %b %Y") in body
    details = body[body.index("<details>"):body.index("</details>")]
    assert "Acme reads your companies and writes orders back." in details
    assert "Act as a system user in your CRM" in details  # a consent grant of the SystemToken claim
    assert f'href="{uninstall_url(tenant_a, authorization)}"' in body
    assert "Only administrators" not in body
    assert f'href="/apps/{app.partner.seo_name}/{app.seo_name}/"' not in body  # not listed in the store


def test_app_listed_in_the_store_links_to_its_page(client, login_app, tenant_a):
    install(login_app, tenant_a)
    published_listing(app=login_app.app)
    app = login_app.app
    body = page(client, tenant_a.member.user, apps_url(tenant_a))
    assert f'href="/apps/{app.partner.seo_name}/{app.seo_name}/"' in body


def test_member_sees_the_list_read_only(client, login_app, tenant_a):
    authorization = install(login_app, tenant_a)
    body = page(client, tenant_a.member.user, apps_url(tenant_a))
    assert login_app.app.name in body
    assert "Only administrators of" in body and "can uninstall apps" in body
    assert uninstall_url(tenant_a, authorization) not in body and ">Uninstall<" not in body


def test_every_status_is_explained(client, tenant_a):
    def authorization(name, **fields):
        app = AppFactory(name=name)
        return Authorization.objects.create(
            app=app, tenant=tenant_a.tenant, approved_by=tenant_a.admin.user, approved_at=timezone.now(),
            system_user_token=system_user_token_for(app), **fields)

    authorization("Fresh App")
    authorization("Wider App", needs_reapproval=True,
                  reapproval_reason="The app now also asks for: mirroring")
    authorization("Old App", valid_to=timezone.now() - timedelta(days=1))
    gone = authorization("Gone App", status=AuthorizationStatus.REVOKED, revoked_at=timezone.now(),
                         revoked_by=tenant_a.admin.user)
    body = page(client, tenant_a.admin.user, apps_url(tenant_a))
    rows = {name: body[body.index(name):] for name in ("Fresh App", "Wider App", "Old App", "Gone App")}
    cell = {name: row[:row.index("</tr>")] for name, row in rows.items()}
    assert ">Active<" in cell["Fresh App"]
    assert "Needs re-approval" in cell["Wider App"] and "also asks for: mirroring" in cell["Wider App"]
    assert ">Expired<" in cell["Old App"]
    assert ">Uninstalled<" in cell["Gone App"]
    assert escape(tenant_a.admin.user.get_full_name()) in cell["Gone App"]
    assert gone.revoked_at.strftime("%-d %b %Y") in cell["Gone App"]
    assert "/uninstall/" not in cell["Gone App"] and "/uninstall/" in cell["Fresh App"]


def test_staff_activated_app_names_the_staff_not_an_approver(client, tenant_a):
    app = AppFactory(name="Custom App", is_custom=True)
    Authorization.objects.create(app=app, tenant=tenant_a.tenant, activated_by=UserFactory(is_staff=True),
                                 approved_at=timezone.now(), system_user_token=system_user_token_for(app))
    body = page(client, tenant_a.admin.user, apps_url(tenant_a))
    assert "Activated by the platform's staff" in body


def test_newest_first_and_paginated(client, tenant_a):
    start = timezone.now() - timedelta(days=30)
    for number in range(25):
        app = AppFactory(name=f"Paged App {number:02d}")
        Authorization.objects.create(app=app, tenant=tenant_a.tenant,
                                     approved_at=start + timedelta(days=number),
                                     system_user_token=system_user_token_for(app))
    first = page(client, tenant_a.admin.user, apps_url(tenant_a))
    assert first.index("Paged App 24") < first.index("Paged App 23")
    assert "Paged App 04" not in first and "Page 1 of 2" in first
    second = page(client, tenant_a.admin.user, apps_url(tenant_a) + "?page=2")
    assert "Paged App 04" in second and "Paged App 00" in second and "Paged App 24" not in second
    assert client.get(apps_url(tenant_a) + "?page=9").status_code == 404


def test_query_count_does_not_grow_with_the_number_of_apps(client, tenant_a, django_assert_num_queries):
    def add(count):
        for _ in range(count):
            app = AppFactory()
            Authorization.objects.create(
                app=app, tenant=tenant_a.tenant, approved_by=UserFactory(), approved_at=timezone.now(),
                status=AuthorizationStatus.REVOKED, revoked_by=UserFactory(), revoked_at=timezone.now(),
                system_user_token=system_user_token_for(app), consent_grants=["Sign you in."])
            published_listing(app=app)

    client.force_login(tenant_a.admin.user)
    add(2)
    # session, user, membership, count, authorizations, their apps' live endpoints (ERP sync), partner nav
    with django_assert_num_queries(7) as two:
        assert client.get(apps_url(tenant_a)).status_code == 200
    add(8)
    with django_assert_num_queries(len(two.captured_queries)):
        body = client.get(apps_url(tenant_a)).content.decode()
    assert body.count(">Uninstalled<") == 10


# ---------------------------------------------------------------- two tenants


def test_admin_of_one_tenant_cannot_see_or_uninstall_anothers_apps(client, login_app, tenant_a, tenant_b):
    mine = install(login_app, tenant_a)
    theirs = install(login_app, tenant_b)
    client.force_login(tenant_a.admin.user)
    assert client.get(apps_url(tenant_b)).status_code == 404
    assert client.get(uninstall_url(tenant_b, theirs)).status_code == 404
    assert client.post(uninstall_url(tenant_b, theirs)).status_code == 404
    # Another tenant's authorization under one's own tenant is not found either.
    assert client.get(f"{apps_url(tenant_a)}{theirs.pk}/uninstall/").status_code == 404
    assert client.post(f"{apps_url(tenant_a)}{theirs.pk}/uninstall/").status_code == 404
    assert client.get("/my/stage/Cust10001/apps/").status_code == 404  # same ctx, other environment
    assert client.get("/my/sod/Cust99999/apps/").status_code == 404
    body = client.get(apps_url(tenant_a)).content.decode()
    assert f"/apps/{theirs.pk}/uninstall/" not in body and f"/apps/{mine.pk}/uninstall/" in body
    theirs.refresh_from_db()
    assert theirs.status == AuthorizationStatus.ACTIVE
    assert not AuditEntry.objects.filter(event_type="app.uninstalled").exists()


def test_not_found_page_does_not_name_the_other_company(client, tenant_a, tenant_b):
    client.force_login(tenant_a.admin.user)
    response = client.get(apps_url(tenant_b))
    assert response.status_code == 404
    assert escape(tenant_b.tenant.company_name) not in response.content.decode()


# ---------------------------------------------------------------- uninstall


def test_member_may_not_uninstall(client, login_app, tenant_a):
    authorization = install(login_app, tenant_a)
    client.force_login(tenant_a.member.user)
    assert client.get(uninstall_url(tenant_a, authorization)).status_code == 403
    response = client.post(uninstall_url(tenant_a, authorization))
    assert response.status_code == 403
    assert "Only the administrators" in response.content.decode()
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.ACTIVE and authorization.revoked_at is None
    assert not AuditEntry.objects.filter(event_type="app.uninstalled").exists()


def test_confirmation_page_says_what_will_happen(client, login_app, tenant_a):
    authorization = install(login_app, tenant_a)
    body = page(client, tenant_a.admin.user, uninstall_url(tenant_a, authorization))
    assert escape(f"Uninstall {login_app.app.name} from {tenant_a.tenant.company_name}?") in body
    assert "can sign in to" in body and "any longer" in body
    assert "tokens and system-user tickets for your CRM stop working at once" in body
    assert "Your CRM data is not touched" in body
    assert f"{login_app.app.partner.name} is told by e-mail" in body
    assert 'name="csrfmiddlewaretoken"' in body and 'method="post"' in body
    assert Authorization.objects.get().status == AuthorizationStatus.ACTIVE  # GET changes nothing


def test_admin_uninstalls_and_everything_but_the_access_stays(client, login_app, tenant_a,
                                                               django_capture_on_commit_callbacks):
    reports_to(login_app.app.partner, "reports@partner.example.com")
    authorization = install(login_app, tenant_a)
    SystemUserTicket.objects.create(authorization=authorization, checksum="0" * 64,
                                    last_used_at=timezone.now())
    client.force_login(tenant_a.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(uninstall_url(tenant_a, authorization), follow=True)
    assert response.redirect_chain == [(apps_url(tenant_a), 302)]
    body = response.content.decode()
    assert escape(f"{login_app.app.name} was uninstalled from {tenant_a.tenant.company_name}") in body
    assert "message-success" in body and ">Uninstalled<" in body
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.REVOKED
    assert authorization.revoked_by == tenant_a.admin.user and authorization.revoked_at is not None
    assert Tenant.objects.filter(pk=tenant_a.tenant.pk).exists()
    assert TenantMember.objects.filter(tenant=tenant_a.tenant).count() == 2
    assert not SystemUserTicket.objects.exists()
    entry = AuditEntry.objects.get(event_type="app.uninstalled")
    assert entry.tenant_id == tenant_a.tenant.pk and entry.app_id == login_app.app.pk
    assert len(mail.outbox) == 1


def test_uninstall_twice_is_harmless(client, login_app, tenant_a, django_capture_on_commit_callbacks):
    reports_to(login_app.app.partner, "reports@partner.example.com")
    authorization = install(login_app, tenant_a)
    client.force_login(tenant_a.admin.user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(uninstall_url(tenant_a, authorization))
        again = client.post(uninstall_url(tenant_a, authorization), follow=True)
    assert again.status_code == 200 and "already uninstalled" in again.content.decode()
    page_again = client.get(uninstall_url(tenant_a, authorization), follow=True)
    assert page_again.redirect_chain == [(apps_url(tenant_a), 302)]
    assert AuditEntry.objects.filter(event_type="app.uninstalled").count() == 1
    assert len(mail.outbox) == 1
    assert Authorization.objects.get().status == AuthorizationStatus.REVOKED


def test_uninstall_needs_the_csrf_token(login_app, tenant_a):
    authorization = install(login_app, tenant_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_a.admin.user)
    assert client.post(uninstall_url(tenant_a, authorization)).status_code == 403
    assert Authorization.objects.get().status == AuthorizationStatus.ACTIVE
    body = client.get(uninstall_url(tenant_a, authorization)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    response = client.post(uninstall_url(tenant_a, authorization), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Authorization.objects.get().status == AuthorizationStatus.REVOKED


def test_pages_are_phone_friendly(client, login_app, tenant_a):
    authorization = install(login_app, tenant_a)
    for url in ("/my/", apps_url(tenant_a), uninstall_url(tenant_a, authorization)):
        body = page(client, tenant_a.admin.user, url)
        assert 'name="viewport" content="width=device-width, initial-scale=1"' in body
        main = body[body.index('<main'):body.index('</main>')]
        assert "style=" not in main and not re.search(r"\swidth=", main)
    body = page(client, tenant_a.admin.user, apps_url(tenant_a))
    assert 'class="table-wrap' in body and 'class="table review-table' in body
    assert 'data-label="Status"' in body
    css = Path(settings.BASE_DIR, "static/css/site.css").read_text()
    start = css.index("/* Customer administration */")
    ours = css[start:css.index("\n/* ", start)]  # up to the next section
    assert not re.search(r"(?<![-\w])(min-|max-)?width\s*:", ours)
    for name in ("card", "table", "button-danger", "muted", "message"):
        assert re.search(rf"\.{name}\b", css)


def test_robots_keep_out_of_my(client):
    assert "Disallow: /my/" in client.get("/robots.txt").content.decode()


# ---------------------------------------------------------------- the uninstall report


def uninstall_by_view(client, people, authorization, capture) -> None:
    client.force_login(people.admin.user)
    with capture(execute=True):
        assert client.post(uninstall_url(people, authorization)).status_code == 302


def with_contact(partner, email: str = "boss@partner.example.com") -> None:
    partner.administrative_contact = UserFactory(email=email)
    partner.save(update_fields=["administrative_contact"])


def test_report_goes_to_the_apps_uninstall_addresses_first(client, login_app, tenant_a,
                                                           django_capture_on_commit_callbacks):
    app, partner = login_app.app, login_app.app.partner
    app.uninstall_report_emails = ("ops@partner.example.com\n\n  billing@partner.example.com \n"
                                   "ops@partner.example.com")
    app.save(update_fields=["uninstall_report_emails"])
    reports_to(partner, "partner-wide@partner.example.com")
    with_contact(partner)
    uninstall_by_view(client, tenant_a, install(login_app, tenant_a), django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [["billing@partner.example.com",
                                                        "ops@partner.example.com"]]


def test_report_falls_back_to_the_partners_addresses(client, login_app, tenant_a,
                                                     django_capture_on_commit_callbacks):
    reports_to(login_app.app.partner, "partner-wide@partner.example.com\nsales@partner.example.com")
    with_contact(login_app.app.partner)
    uninstall_by_view(client, tenant_a, install(login_app, tenant_a), django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [["partner-wide@partner.example.com",
                                                        "sales@partner.example.com"]]


def test_report_falls_back_to_the_administrative_contact(client, login_app, tenant_a,
                                                         django_capture_on_commit_callbacks):
    with_contact(login_app.app.partner)
    uninstall_by_view(client, tenant_a, install(login_app, tenant_a), django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [["boss@partner.example.com"]]


def test_no_addresses_at_all_sends_nothing_and_still_uninstalls(client, login_app, tenant_a,
                                                                django_capture_on_commit_callbacks):
    partner = login_app.app.partner
    partner.administrative_contact = None
    partner.save(update_fields=["administrative_contact"])
    authorization = install(login_app, tenant_a)
    uninstall_by_view(client, tenant_a, authorization, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.REVOKED


def test_report_says_what_happened_and_holds_no_secret_or_token(client, login_app, tenant_a,
                                                               django_capture_on_commit_callbacks):
    reports_to(login_app.app.partner, "ops@partner.example.com")
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    authorization = Authorization.objects.get(app=login_app.app, tenant=tenant_a.tenant)
    uninstall_by_view(client, tenant_a, authorization, django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    text = message.subject + "\n" + message.body + "".join(str(part) for part in message.alternatives)
    assert login_app.app.name in message.subject and tenant_a.tenant.company_name in message.subject
    assert "Cust10001 (sod)" in message.body and tenant_a.admin.user.email in message.body
    secrets = [authorization.system_user_token, login_app.secret, tokens["access_token"],
               tokens["refresh_token"], tokens["id_token"]]
    for secret in secrets:
        assert secret and secret not in text
    assert "-----BEGIN" not in text
    assert not re.search(r"\b(8A|7T):", text)  # access-token and ticket prefixes


# ---------------------------------------------------------------- deleted tenants


@pytest.mark.parametrize(("state", "shown"), [(TenantState.DELETED, "was deleted"),
                                              (TenantState.DELETING, "is being deleted")])
def test_a_deleted_tenant_is_marked_and_offers_no_uninstall(client, login_app, tenant_a, tenant_b, state,
                                                            shown):
    authorization = install(login_app, tenant_a)
    install(login_app, tenant_b)
    TenantMember.objects.create(tenant=tenant_b.tenant, user=tenant_a.admin.user,
                                is_general_administrator=True)
    Tenant.objects.filter(pk=tenant_a.tenant.pk).update(state=state)

    home = page(client, tenant_a.admin.user, "/my/")
    assert home.count("tenant-gone") == 1  # the other company is not marked
    assert state.label != "Deleted" or ">Deleted<" in home
    apps = page(client, tenant_a.admin.user, apps_url(tenant_a))
    assert shown in apps and ">Tenant deleted<" in apps
    assert uninstall_url(tenant_a, authorization) not in apps and ">Uninstall<" not in apps
    assert uninstall_url(tenant_b, Authorization.objects.get(tenant=tenant_b.tenant)) in page(
        client, tenant_a.admin.user, apps_url(tenant_b))

    # The uninstall URL itself goes back with a message and changes nothing.
    for response in (client.get(uninstall_url(tenant_a, authorization), follow=True),
                     client.post(uninstall_url(tenant_a, authorization), follow=True)):
        assert response.redirect_chain == [(apps_url(tenant_a), 302)]
        assert "cannot be uninstalled" in response.content.decode()
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.ACTIVE
    assert not AuditEntry.objects.filter(event_type="app.uninstalled").exists()


def test_the_uninstall_service_refuses_a_deleted_tenant(login_app, tenant_a):
    from provisioning.services.authorizations import ConsentRefused, uninstall

    authorization = install(login_app, tenant_a)
    Tenant.objects.filter(pk=tenant_a.tenant.pk).update(state=TenantState.DELETED)
    with pytest.raises(ConsentRefused, match="deleted"):
        uninstall(authorization=Authorization.objects.get(pk=authorization.pk), user=tenant_a.admin.user)
    assert Authorization.objects.get(pk=authorization.pk).status == AuthorizationStatus.ACTIVE
