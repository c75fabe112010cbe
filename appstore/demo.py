"""Demo content for ``manage.py load_demo``: accounts, tenants, partners and a filled App Store.

Apps are created the way partners and reviewers create them, through the services, so the demo
also fills the audit log. Loading again changes nothing: existing accounts, partners and apps
are left as they are.

The demo app Acme ERP is also registered in sod for the reference partner service
(``examples/partner_service``): its redirect and post-logout URLs, a client secret and a key pair,
whose private halves go to ``var/demo/acme.json`` (development only). That registration is the one
part a later load may change: it is brought up to date when it no longer serves the service.
"""

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
from accounts.services import ensure_user
from tenants.models import Environment
from tenants.services import ensure_tenant, ensure_tenant_member

from . import keys, urlrules
from .models import (
    App,
    AppClient,
    Category,
    ConfigurationVersion,
    EndpointKind,
    ImageKind,
    Language,
    ListingVersion,
    Market,
    Partner,
)
from .services import apps as app_services
from .services import configuration as configuration_services
from .services import credentials as credential_services
from .services import listings as listing_services
from .services import profile as profile_services
from .services import review as review_services
from .services.configuration_fields import SYSTEM_TOKEN_CLAIM, endpoint, live_version
from .services.partners import create_partner

DEMO_PASSWORD = "demo-password"
STAFF_EMAIL = "staff@example.com"
PARTNER_EMAIL = "partner@example.com"

ICON_SIZE = (488, 488)
SCREENSHOT_SIZE = (1920, 1080)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


# ---------------------------------------------------------------- images

@cache
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default(size=size)


def _rgb(hex_color: str) -> tuple[int, int, int]:
    value = hex_color.lstrip("#")
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _shade(hex_color: str, factor: float) -> tuple[int, int, int]:
    """Darker (factor < 1) or lighter (factor > 1, towards white) version of a colour."""
    r, g, b = _rgb(hex_color)
    if factor <= 1:
        return (int(r * factor), int(g * factor), int(b * factor))
    mix = factor - 1
    return (int(r + (255 - r) * mix), int(g + (255 - g) * mix), int(b + (255 - b) * mix))


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "A"


def _png(img: Image.Image, compress_level: int = 6) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def icon_png(text: str, color: str) -> bytes:
    """A 488×488 rounded square in a vertical gradient of ``color`` with ``text`` centred."""
    scale = 2  # drawn at twice the size and scaled down, for smooth edges
    size = ICON_SIZE[0] * scale
    ramp = Image.linear_gradient("L").resize((size, size))
    square = Image.composite(Image.new("RGB", (size, size), _shade(color, 0.72)),
                             Image.new("RGB", (size, size), _shade(color, 1.15)), ramp)
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, size - 1, size - 1], radius=int(size * 0.22), fill=255)
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    img.paste(square, (0, 0), mask)
    draw = ImageDraw.Draw(img)
    draw.text((size / 2, size / 2), text, font=font(int(size * (0.42 if len(text) < 2 else 0.36)), True),
              fill=(255, 255, 255), anchor="mm")
    return _png(img.resize(ICON_SIZE, Image.Resampling.LANCZOS))


COMPANIES = ["Fjellheim Eiendom AS", "Brightwater Logistics Ltd", "Kaskade Bygg AS",
             "Van Dijk Installaties BV", "Alpenrose Treuhand AG", "Nordhavn Fisk AS", "Helsinki Print Oy",
             "Lindgren & Co AB", "Skovgaard Møbler ApS", "Rheinblick Consulting GmbH"]
OWNERS = ["Ingrid S.", "Jonas B.", "Sofie J.", "Mikko V.", "Emma C.", "Lars N."]


def screenshot_png(*, app_name: str, partner_name: str, color: str, variant: str,
                   title: str, statuses: tuple[str, ...]) -> bytes:
    """A 1920×1080 mock window of the app: a dashboard or a list, in the app's colour."""
    width, height = SCREENSHOT_SIZE
    accent, dark, pale = _rgb(color), _shade(color, 0.55), _shade(color, 1.88)
    ink, muted, line = (21, 32, 43), (91, 104, 117), (221, 227, 234)
    img = Image.new("RGB", SCREENSHOT_SIZE, _shade(color, 1.93))
    draw = ImageDraw.Draw(img)
    # Window with a soft shadow and a title bar.
    x0, y0, x1, y1 = 70, 60, width - 70, height - 60
    draw.rounded_rectangle([x0 + 6, y0 + 10, x1 + 6, y1 + 10], radius=18, fill=_shade(color, 1.78))
    draw.rounded_rectangle([x0, y0, x1, y1], radius=18, fill=(255, 255, 255))
    draw.rounded_rectangle([x0, y0, x1, y0 + 56], radius=18, fill=(240, 243, 246))
    draw.rectangle([x0, y0 + 38, x1, y0 + 56], fill=(240, 243, 246))
    for i, dot in enumerate([(255, 95, 87), (254, 188, 46), (40, 200, 64)]):
        cx = x0 + 32 + i * 30
        draw.ellipse([cx - 8, y0 + 20, cx + 8, y0 + 36], fill=dot)
    draw.text(((x0 + x1) / 2, y0 + 28), f"{app_name} · {partner_name}", font=font(22), fill=muted,
              anchor="mm")
    # Sidebar.
    top = y0 + 56
    draw.rectangle([x0, top, x0 + 300, y1 - 18], fill=dark)
    draw.rounded_rectangle([x0, y1 - 40, x0 + 300, y1], radius=18, fill=dark)
    draw.rectangle([x0 + 20, y1 - 40, x0 + 300, y1], fill=dark)
    draw.text((x0 + 36, top + 40), initials(app_name), font=font(40, True), fill=(255, 255, 255))
    active = 0 if variant == "dashboard" else 2
    for i, item in enumerate(["Overview", "Activity", "Customers", "Reports", "Settings"]):
        mid = top + 150 + i * 64
        if i == active:
            draw.rounded_rectangle([x0 + 20, mid - 26, x0 + 280, mid + 26], radius=10, fill=accent)
        draw.text((x0 + 44, mid), item, font=font(26), fill=(255, 255, 255), anchor="lm")
    # Page header.
    cx0 = x0 + 360
    draw.text((cx0, top + 44), title, font=font(44, True), fill=ink)
    draw.text((cx0, top + 106), "Connected to your CRM · updated a minute ago", font=font(24), fill=muted)
    draw.rounded_rectangle([x1 - 300, top + 40, x1 - 60, top + 100], radius=12, fill=accent)
    draw.text((x1 - 180, top + 70), "New" if variant == "table" else "Refresh", font=font(26, True),
              fill=(255, 255, 255), anchor="mm")
    body = top + 170
    if variant == "dashboard":
        cards = [("This week", "1,284"), ("Success rate", "99.2%"), ("Open items", "37")]
        card_w = (x1 - 60 - cx0 - 2 * 30) // 3
        for i, (label, value) in enumerate(cards):
            cx = cx0 + i * (card_w + 30)
            draw.rounded_rectangle([cx, body, cx + card_w, body + 170], radius=16, fill=pale, outline=line)
            draw.text((cx + 30, body + 30), label, font=font(24), fill=muted)
            draw.text((cx + 30, body + 74), value, font=font(56, True), fill=ink)
        chart_top, chart_bottom = body + 220, y1 - 60
        draw.rounded_rectangle([cx0, chart_top, x1 - 60, chart_bottom], radius=16, outline=line, width=2)
        draw.text((cx0 + 30, chart_top + 24), "Last 12 weeks", font=font(26, True), fill=ink)
        bars = [42, 55, 48, 63, 70, 66, 74, 81, 77, 88, 92, 97]
        area_w = x1 - 60 - cx0 - 80
        bar_w = area_w // len(bars)
        base = chart_bottom - 40
        for i, pct in enumerate(bars):
            bx = cx0 + 40 + i * bar_w
            bar_h = int((base - chart_top - 110) * pct / 100)
            draw.rounded_rectangle([bx + 12, base - bar_h, bx + bar_w - 12, base], radius=8,
                                   fill=accent if i == len(bars) - 1 else _shade(color, 1.45))
    else:
        columns = [("Company", cx0 + 30), ("Status", cx0 + 620), ("Owner", cx0 + 900),
                   ("Updated", cx0 + 1140)]
        draw.rounded_rectangle([cx0, body, x1 - 60, body + 64], radius=12, fill=pale)
        for name, cx in columns:
            draw.text((cx, body + 32), name, font=font(24, True), fill=muted, anchor="lm")
        for row, company in enumerate(COMPANIES[:9]):
            y = body + 64 + row * 72
            if row:
                draw.line([cx0 + 20, y, x1 - 80, y], fill=line, width=2)
            mid = y + 36
            draw.text((columns[0][1], mid), company, font=font(26), fill=ink, anchor="lm")
            status = statuses[row % len(statuses)]
            pill_w = int(draw.textlength(status, font=font(22))) + 36
            first = status == statuses[0]
            draw.rounded_rectangle([columns[1][1], mid - 20, columns[1][1] + pill_w, mid + 20], radius=20,
                                   fill=_shade(color, 1.75) if first else (240, 243, 246))
            draw.text((columns[1][1] + 18, mid), status, font=font(22), fill=dark if first else muted,
                      anchor="lm")
            draw.text((columns[2][1], mid), OWNERS[row % len(OWNERS)], font=font(26), fill=ink, anchor="lm")
            draw.text((columns[3][1], mid), f"{row * 7 + 2} min ago", font=font(26), fill=muted, anchor="lm")
    # A large, mostly flat image: fast compression is plenty.
    return _png(img, compress_level=1)


# ---------------------------------------------------------------- content

@dataclass(frozen=True)
class DemoPartner:
    key: str
    name: str
    website: str
    founder_email: str
    founder_name: str


@dataclass(frozen=True)
class Shot:
    variant: str  # "dashboard" or "table"
    title: str
    alt: str


@dataclass(frozen=True)
class DemoApp:
    partner: str
    name: str
    template: str
    color: str
    categories: tuple[str, ...]
    languages: tuple[str, ...]
    markets: tuple[str, ...]
    header: str
    about: str
    features: tuple[str, ...]
    steps: tuple[str, ...]
    requirements: str
    meta: str
    keywords: str
    shots: tuple[Shot, ...]
    green: str = "Install"
    price: Decimal | None = None  # None: free
    price_model: str = ""
    startup_cost: str = ""
    consultancy: str = ""
    plans: str = "Essential, Standard, Premium"
    extra_links: tuple[str, ...] = ("support",)
    statuses: tuple[str, ...] = ("Synced", "Synced", "Pending", "Synced")
    featured: bool = False
    beta: bool = False
    installs: int = 0


PARTNERS = [
    DemoPartner("nordvik", "Nordvik Systems", "https://www.nordvik.example", PARTNER_EMAIL, "Ingrid Solberg"),
    DemoPartner("signably", "Signably", "https://www.signably.example", "jonas@signably.example",
                "Jonas Berg"),
    DemoPartner("clearview", "Clearview Analytics", "https://www.clearview-analytics.example",
                "sofie@clearview-analytics.example", "Sofie Janssen"),
    DemoPartner("voxline", "Voxline Telecom", "https://www.voxline.example", "mikko@voxline.example",
                "Mikko Virtanen"),
    DemoPartner("mailharbor", "Mailharbor", "https://www.mailharbor.example", "emma@mailharbor.example",
                "Emma Clarke"),
    DemoPartner("datafjord", "Datafjord", "https://www.datafjord.example", "lars@datafjord.example",
                "Lars Nilsen"),
    DemoPartner("bridgeworks", "Bridgeworks Integration", "https://www.bridgeworks.example",
                "hannah@bridgeworks.example", "Hannah Keller"),
]

NORDICS = ("norway", "sweden", "denmark", "finland")
ALL_MARKETS = ("benelux", "denmark", "finland", "germany", "norway", "sweden", "switzerland",
               "united-kingdom")

APPS = [
    DemoApp(
        partner="nordvik", name="Nordvik ERP Sync", template="erp", color="#1d4ed8",
        categories=("erp",), languages=("en", "no", "sv", "da", "fi"), markets=NORDICS,
        header="Two-way sync of customers, contacts and products between Nordvik ERP and your CRM",
        about="<p><b>Nordvik ERP Sync</b> keeps sales and finance looking at the same customer. "
              "New customers created in the CRM appear in Nordvik ERP within minutes, and credit "
              "limits, invoices and outstanding balances flow back to the company card.</p>"
              "<ul><li>Choose per field which system wins</li><li>Link existing records without "
              "duplicates</li><li>Runs in the background, no installation on your servers</li></ul>",
        features=("Two-way customer and contact sync", "Product and price list import",
                  "Invoice history on the company card", "Field-by-field mapping",
                  "Conflict log with one-click resolution"),
        steps=("Click Install and sign in as a CRM administrator.", "Approve the app for your company.",
               "Enter your Nordvik ERP tenant ID and API key.",
               "Review the suggested field mapping and start the first sync."),
        requirements="Nordvik ERP 2023 or later with the API module, and a CRM administrator account.",
        meta="Sync customers, contacts, products and invoices between Nordvik ERP and your CRM, both ways.",
        keywords="erp, sync, invoices, accounting, nordvik",
        price=Decimal("49.00"), price_model="per_site_month", startup_cost="None",
        consultancy="Optional onboarding, EUR 95 per hour", extra_links=("configure", "support", "uninstall"),
        featured=True, installs=412,
        shots=(Shot("dashboard", "Sync overview", "Nordvik ERP Sync overview with weekly sync volume"),
               Shot("table", "Linked customers", "List of customers linked between the CRM and Nordvik ERP")),
    ),
    DemoApp(
        partner="nordvik", name="Nordvik Quote Builder", template="erp", color="#0e7490",
        categories=("quotations", "erp"), languages=("en", "no", "sv"), markets=("norway", "sweden"),
        header="Build quotes from live Nordvik ERP prices and stock, right inside the sale",
        about="<p>Stop copying prices between systems. <b>Nordvik Quote Builder</b> looks up products, "
              "customer-specific prices and stock in Nordvik ERP while you write the quote, and turns "
              "an accepted quote into an order with one click.</p>"
              "<ul><li>Live prices and discounts</li><li>Stock per warehouse</li>"
              "<li>Order created on acceptance</li></ul>",
        features=("Live price and stock lookup", "Customer-specific discounts",
                  "Order creation on acceptance", "Quote templates with your branding"),
        steps=("Install Nordvik ERP Sync first.", "Click Install and approve the app.",
               "Switch on the quote connector for your price lists."),
        requirements="Nordvik ERP Sync installed and connected; CRM quote module enabled.",
        meta=("Create quotes from live Nordvik ERP prices, discounts and "
              "stock levels, and turn them into orders."),
        keywords="quotes, quotations, pricing, stock, orders, sync",
        price=Decimal("12.00"), price_model="per_user_month", green="Try or buy",
        extra_links=("configure", "support"), installs=158, statuses=("Accepted", "Sent", "Draft"),
        shots=(Shot("table", "Open quotes", "Open quotes with their status and owner"),),
    ),
    DemoApp(
        partner="signably", name="Signably eSign for CRM", template="web", color="#7c3aed",
        categories=("digital-signature",), languages=("en", "no", "sv", "da", "fi", "de", "nl"),
        markets=ALL_MARKETS,
        header="Send contracts for legally binding e-signature straight from a sale or document",
        about="<p>Send any CRM document for signature in two clicks. Your customer signs on any device "
              "with <b>BankID</b>, MitID or a simple e-signature, and the signed PDF is filed back on "
              "the sale automatically.</p><ul><li>eIDAS-compliant signatures</li>"
              "<li>Reminders until everyone has signed</li>"
              "<li>Audit trail stored with the document</li></ul>",
        features=("Sign with BankID, MitID or simple e-signature", "Signed PDF filed on the sale",
                  "Automatic reminders", "Signing order and multiple parties", "Complete audit trail"),
        steps=("Click Start free trial to create your Signably account.",
               "Approve the app for your CRM company.", "Pick the document templates that can be signed."),
        requirements=("A Signably account (the trial needs no card) and a CRM "
                      "administrator to approve the app."),
        meta=("Legally binding e-signatures from your CRM: send, track and "
              "file signed contracts automatically."),
        keywords="e-signature, esign, contracts, bankid, signing",
        price=Decimal("15.00"), price_model="per_user_month", green="Start free trial",
        extra_links=("configure", "support", "report-problem"), featured=True, installs=689,
        statuses=("Signed", "Waiting", "Signed", "Viewed"),
        shots=(Shot("table", "Signature requests", "Signature requests with their signing status"),
               Shot("dashboard", "Signing overview", "Overview of documents signed this week")),
    ),
    DemoApp(
        partner="signably", name="Signably Document Templates", template="web", color="#9333ea",
        categories=("email-document-calendar", "productivity"), languages=("en", "sv", "de"),
        markets=("sweden", "germany", "switzerland", "united-kingdom"),
        header="Reusable contract and offer templates filled with CRM data in one click",
        about="<p>Write a template once, use it everywhere. Fields such as <i>company name</i>, "
              "<i>contact person</i> and <i>sale amount</i> are filled from the CRM, so every "
              "offer and contract is consistent and ready to send.</p>"
              "<ul><li>Word and PDF output</li><li>Shared template library</li></ul>",
        features=("Merge fields from company, contact and sale", "Word and PDF output",
                  "Shared template library with approval"),
        steps=("Click Install and approve the app.", "Upload your first Word template.",
               "Choose the template from the Documents tab of a sale."),
        requirements="A CRM administrator to approve the app. Works with or without Signably eSign.",
        meta="Create offers and contracts from templates that fill themselves with data from your CRM.",
        keywords="documents, templates, contracts, offers, mail merge",
        extra_links=("support",), installs=233, statuses=("Ready", "Draft", "Ready"),
        shots=(Shot("table", "Template library", "Template library with ready and draft templates"),),
    ),
    DemoApp(
        partner="clearview", name="Clearview Sales Dashboards", template="server", color="#ea580c",
        categories=("business-intelligence-reporting",), languages=("en", "nl", "de", "fr"),
        markets=("benelux", "germany", "switzerland", "united-kingdom"),
        header="Ready-made sales dashboards on your CRM data, refreshed every fifteen minutes",
        about="<p>See pipeline, win rate and activity per team without building a data warehouse. "
              "<b>Clearview</b> reads your CRM data securely and gives you twenty ready-made "
              "dashboards you can adjust and share.</p><ul><li>Pipeline and forecast</li>"
              "<li>Activity per sales rep</li><li>Scheduled PDF reports by e-mail</li></ul>",
        features=("Twenty ready-made dashboards", "Refreshed every 15 minutes", "Scheduled PDF reports",
                  "Row-level access follows CRM rights", "Export to Excel"),
        steps=("Click Get free demo and book a 30-minute session.", "Approve the app for your company.",
               "Invite colleagues from the Clearview admin page."),
        requirements="CRM Online with the Sales module; a CRM administrator to approve access.",
        meta=("Sales dashboards on your CRM data: pipeline, win rate and "
              "activity, refreshed every 15 minutes."),
        keywords="bi, dashboards, reporting, analytics, pipeline",
        price=Decimal("19.00"), price_model="per_user_month", green="Get free demo",
        startup_cost="EUR 250 set-up", extra_links=("configure", "support"), featured=True, installs=301,
        shots=(Shot("dashboard", "Pipeline this quarter", "Pipeline dashboard with weekly bars"),
               Shot("table", "Top accounts", "Top accounts by pipeline value")),
    ),
    DemoApp(
        partner="clearview", name="Clearview Forecast", template="server", color="#c2410c",
        categories=("business-intelligence-reporting", "productivity"), languages=("en", "nl"),
        markets=("benelux", "united-kingdom"),
        header="Machine-learning revenue forecast that learns from your closed sales",
        about="<p>Clearview Forecast predicts the revenue of each open sale from the history of your "
              "closed ones, and tells you which deals need attention this week.</p>"
              "<ul><li>Forecast per team and month</li><li>Deals at risk</li></ul>",
        features=("Revenue forecast per month", "Deals-at-risk list", "Accuracy report"),
        steps=("Click Try or buy.", "Approve the app.",
               "Wait for the first model to be trained (about an hour)."),
        requirements="At least one year of closed sales in the CRM.",
        meta="Forecast next quarter's revenue from your CRM sales history and spot the deals at risk early.",
        keywords="forecast, ai, revenue, pipeline, analytics",
        price=Decimal("99.00"), price_model="per_site_month", green="Try or buy", beta=True, installs=27,
        statuses=("On track", "At risk", "On track"),
        shots=(Shot("dashboard", "Forecast", "Monthly revenue forecast"),),
    ),
    DemoApp(
        partner="voxline", name="Voxline CTI", template="native", color="#059669",
        categories=("cti",), languages=("en", "fi", "sv", "no"), markets=("finland", "sweden", "norway"),
        header="Click to call, caller ID and call logging for your CRM, on any phone system",
        about="<p>When the phone rings, <b>Voxline CTI</b> shows who is calling and opens their "
              "contact card. Every call is logged as an activity with its duration and an optional "
              "note, so colleagues know what was said.</p><ul><li>Caller identification</li>"
              "<li>Click to call from any number</li><li>Automatic call logging</li></ul>",
        features=("Caller ID with contact pop-up", "Click to call", "Automatic call logging",
                  "Works with Teams, Voxline and SIP phones"),
        steps=("Download the Voxline desktop client.", "Sign in with your CRM user and approve the app.",
               "Choose your phone system in the client settings."),
        requirements="Windows 10 or macOS 12 or later; a supported phone system.",
        meta="Caller ID, click to call and automatic call logging between your phone system and your CRM.",
        keywords="cti, telephony, calls, caller id, softphone",
        price=Decimal("9.00"), price_model="per_user_month", extra_links=("support", "uninstall"),
        installs=540, statuses=("Answered", "Missed", "Answered", "Outgoing"),
        shots=(Shot("table", "Call log", "Today's calls with caller and status"),),
    ),
    DemoApp(
        partner="voxline", name="Voxline SMS", template="server", color="#16a34a",
        categories=("email-marketing-sms",), languages=("en", "fi", "sv"), markets=("finland", "sweden"),
        header="Send SMS reminders and campaigns to CRM contacts and selections",
        about="<p>Reach customers where they read: text messages sent from a contact, a sale or a "
              "whole selection, with replies stored in the CRM.</p><ul><li>Two-way SMS</li>"
              "<li>Delivery reports</li></ul>",
        features=("SMS from contact, sale or selection", "Replies logged in the CRM", "Delivery reports"),
        steps=("Click Sign up and create a Voxline account.", "Approve the app.",
               "Buy or port a sender number."),
        requirements="A Voxline account; contacts with mobile numbers in international format.",
        meta=("Send SMS messages and reminders to CRM contacts and "
              "selections, with replies and delivery reports."),
        keywords="sms, text messages, reminders, campaigns",
        price=Decimal("0.06"), price_model="pay_per_use", green="Sign up", installs=198,
        statuses=("Delivered", "Delivered", "Sent", "Failed"),
        shots=(Shot("table", "Messages", "Sent messages with delivery status"),),
    ),
    DemoApp(
        partner="mailharbor", name="Mailharbor Campaigns", template="server", color="#db2777",
        categories=("email-marketing-sms",), languages=("en", "de", "nl", "fr"),
        markets=("united-kingdom", "benelux", "germany"),
        header="Newsletters and e-mail campaigns to CRM selections, with results on every contact",
        about="<p>Design responsive newsletters with a drag-and-drop editor and send them to any CRM "
              "selection. Opens, clicks and unsubscribes are written back to the contact so sales "
              "can follow up on real interest.</p><ul><li>GDPR consent respected</li>"
              "<li>A/B testing of subject lines</li></ul>",
        features=("Drag-and-drop editor", "Send to CRM selections", "Opens and clicks on the contact",
                  "Consent and unsubscribe handling", "A/B tests"),
        steps=("Click Sign up; the free plan needs no card.", "Approve the app.",
               "Pick a selection and send your first campaign."),
        requirements="Contacts with e-mail consent registered in the CRM.",
        meta="Send newsletters to CRM selections and see opens, clicks and unsubscribes on every contact.",
        keywords="email marketing, newsletter, campaigns, gdpr",
        green="Sign up", extra_links=("support", "report-problem"), featured=True, installs=875,
        statuses=("Sent", "Scheduled", "Draft"),
        shots=(Shot("dashboard", "Campaign results", "Results of the latest campaign"),
               Shot("table", "Campaigns", "Campaigns with their status")),
    ),
    DemoApp(
        partner="mailharbor", name="Mailharbor Inbox Link", template="native", color="#be185d",
        categories=("email-document-calendar",), languages=("en", "de"),
        markets=("united-kingdom", "germany", "switzerland"),
        header="Archive e-mails and meetings from Outlook and Gmail to the right CRM contact",
        about="<p>Save an e-mail or a meeting to the CRM from your inbox with one click. Inbox Link "
              "finds the contact and the open sale, and keeps calendars in sync both ways.</p>",
        features=("One-click e-mail archiving", "Calendar sync", "Suggests the contact and sale"),
        steps=("Install the add-in from your mail client's store.", "Sign in and approve the app."),
        requirements="Outlook 2019 or later, Outlook on the web, or Gmail.",
        meta="Archive e-mails and meetings from Outlook or Gmail to the right CRM contact and sale.",
        keywords="email, outlook, gmail, calendar, archive",
        extra_links=("support",), installs=1203, statuses=("Archived", "Archived", "Suggested"),
        shots=(Shot("table", "Archived e-mails", "E-mails archived to CRM contacts"),),
    ),
    DemoApp(
        partner="datafjord", name="Datafjord Company Lookup", template="web", color="#0891b2",
        categories=("prospecting-data-quality",), languages=("en", "no", "sv", "da"), markets=NORDICS,
        header="Find companies and fill in addresses, org numbers and key figures automatically",
        about="<p>Type a company name and pick the right one: <b>Datafjord</b> fills in organisation "
              "number, addresses, industry and key figures from official registers, and keeps them "
              "up to date.</p><ul><li>Nordic company registers</li><li>Monthly refresh</li></ul>",
        features=("Search official company registers", "Auto-fill org number and addresses",
                  "Key figures and industry codes", "Monthly refresh of changed companies"),
        steps=("Click Start free trial.", "Approve the app.", "Choose which fields Datafjord may update."),
        requirements="A CRM administrator to approve the app.",
        meta=("Look up companies in Nordic registers and fill org numbers, "
              "addresses and key figures in your CRM."),
        keywords="prospecting, company data, enrichment, registers",
        price=Decimal("7.00"), price_model="per_user_month", green="Start free trial",
        extra_links=("configure", "support"), installs=466, statuses=("Updated", "Unchanged", "Updated"),
        shots=(Shot("table", "Recently enriched", "Companies enriched with register data"),),
    ),
    DemoApp(
        partner="datafjord", name="Datafjord Duplicate Cleaner", template="server", color="#0284c7",
        categories=("prospecting-data-quality", "productivity"), languages=("en", "no"), markets=("norway",),
        header="Find and merge duplicate companies and contacts before they confuse your team",
        about="<p>Duplicate Cleaner scans your CRM every night, scores likely duplicates and lets you "
              "merge them safely, keeping every activity and sale.</p>",
        features=("Nightly duplicate scan", "Safe merge that keeps history", "Rules per field"),
        steps=("Click Install and approve the app.", "Review the first scan results."),
        requirements="A CRM administrator; merge rights for the users who merge.",
        meta="Find and merge duplicate companies and contacts in your CRM while keeping all their history.",
        keywords="duplicates, data quality, merge, cleanup",
        beta=True, installs=12, statuses=("Likely", "Possible", "Likely"),
        shots=(Shot("table", "Duplicate candidates", "Pairs of likely duplicate companies"),),
    ),
    DemoApp(
        partner="bridgeworks", name="Bridgeworks Connect", template="server", color="#4f46e5",
        categories=("integration-tools",), languages=("en", "de", "fr", "it", "rm"),
        markets=("germany", "switzerland"),
        header="Connect your CRM to 300 business systems without writing code",
        about="<p><b>Bridgeworks Connect</b> is an integration platform with ready connectors for "
              "webshops, accounting, HR and support systems. Build flows visually, monitor every "
              "run and get alerted when something fails.</p><ul><li>300+ connectors</li>"
              "<li>Hosted in Switzerland</li></ul>",
        features=("300+ ready connectors", "Visual flow designer", "Run monitoring and alerts",
                  "Hosted in Switzerland"),
        steps=("Book a demo with Get free demo.", "Approve the app.",
               "Pick a ready-made flow to start from."),
        requirements="A Bridgeworks subscription.",
        meta=("Integrate your CRM with webshops, accounting and HR systems "
              "using ready connectors, no code needed."),
        keywords="integration, ipaas, connectors, sync, automation",
        price=Decimal("79.00"), price_model="per_site_month", green="Get free demo",
        startup_cost="EUR 500 onboarding", consultancy="EUR 120 per hour",
        extra_links=("configure", "support"), installs=144, statuses=("Succeeded", "Succeeded", "Retrying"),
        shots=(Shot("dashboard", "Flow runs", "Integration runs per week"),
               Shot("table", "Flows", "Integration flows with their last run")),
    ),
    DemoApp(
        partner="bridgeworks", name="Bridgeworks Webhook Relay", template="web", color="#6366f1",
        categories=("integration-tools", "productivity"), languages=("en", "de"),
        markets=("germany", "switzerland", "united-kingdom"),
        header="Forward CRM webhooks to Slack, Teams or any URL, with retries and filtering",
        about="<p>Turn CRM events into messages and calls: a new sale posts to a Teams channel, a "
              "won deal pings Slack, a new contact calls your own service.</p>",
        features=("Slack and Teams targets", "Filters on any field", "Retries with back-off"),
        steps=("Click Explore more and sign in.", "Approve the app.", "Add your first relay."),
        requirements="A CRM administrator to approve webhooks.",
        meta=("Forward CRM events to Slack, Microsoft Teams or your own "
              "URL, with filters and automatic retries."),
        keywords="webhooks, slack, teams, automation, notifications",
        green="Explore more", beta=True, installs=38, statuses=("Delivered", "Delivered", "Retrying"),
        shots=(Shot("table", "Deliveries", "Recent webhook deliveries"),),
    ),
]

# A new app waiting for review, and a new listing version still being written.
PENDING_APP = DemoApp(
    partner="nordvik", name="Nordvik Project Accounting", template="web", color="#2563eb",
    categories=("erp", "productivity"), languages=("en", "no"), markets=("norway",),
    header="Track hours and expenses on CRM projects and invoice them from Nordvik ERP",
    about="<p>Register hours and expenses on CRM projects and send them to <b>Nordvik ERP</b> for "
          "invoicing, with budgets and approval along the way.</p>",
    features=("Time and expense registration", "Project budgets", "Invoicing through Nordvik ERP"),
    steps=("Install Nordvik ERP Sync first.", "Click Install and approve the app."),
    requirements="Nordvik ERP Sync installed; the CRM project module.",
    meta="Register hours and expenses on CRM projects and invoice them through Nordvik ERP in one flow.",
    keywords="projects, hours, expenses, invoicing",
    price=Decimal("6.00"), price_model="per_user_month", statuses=("Approved", "Submitted", "Approved"),
    shots=(Shot("table", "Timesheets", "Timesheets waiting for approval"),),
)
DRAFT_OF = "Nordvik ERP Sync"
DRAFT_WHATS_NEW = "Invoices now show their payment status, and product variants sync as separate products."

TENANTS = [("Cust10001", "Fjellheim Eiendom AS", 10001), ("Cust10002", "Brightwater Logistics Ltd", 10002)]
TENANT_ENVIRONMENT = "sod"


# ---------------------------------------------------------------- loading

@dataclass
class DemoResult:
    created_apps: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str]] = field(default_factory=list)
    # The reference partner service's settings file, and whether this load (re)wrote it.
    partner_settings_path: Path | None = None
    partner_settings_written: bool = False
    notes: list[str] = field(default_factory=list)


def _fresh(user: User) -> User:
    """The same user without cached permissions (memberships change while loading)."""
    return User.objects.get(pk=user.pk)


def ensure_accounts() -> dict[str, User]:
    users = {
        "staff": ensure_user(email=STAFF_EMAIL, password=DEMO_PASSWORD, full_name="Sam Staff",
                             is_staff=True, app_manager=True),
    }
    for ctx, company, serial in TENANTS:
        host = f"{ctx.lower()}.example.com"
        tenant = ensure_tenant(
            environment_code=TENANT_ENVIRONMENT, context_identifier=ctx, company_name=company, serial=serial,
            webapi_url=f"{settings.SITE_URL}/sandbox/{TENANT_ENVIRONMENT}/{ctx}/api/",
            public_endpoint=f"{settings.SITE_URL}/sandbox/{TENANT_ENVIRONMENT}/{ctx}",
        )
        admin = ensure_user(email=f"admin@{host}", password=DEMO_PASSWORD, full_name=f"{company} Admin")
        member = ensure_user(email=f"user@{host}", password=DEMO_PASSWORD, full_name=f"{company} User")
        ensure_tenant_member(tenant=tenant, user=admin, is_admin=True)
        ensure_tenant_member(tenant=tenant, user=member, is_admin=False)
        users[f"admin-{ctx}"], users[f"user-{ctx}"] = admin, member
    return users


def ensure_partners() -> dict[str, tuple[Partner, User]]:
    partners = {}
    for spec in PARTNERS:
        founder = ensure_user(email=spec.founder_email, password=DEMO_PASSWORD, full_name=spec.founder_name)
        partner = Partner.objects.filter(name__iexact=spec.name).first()
        if partner is None:
            partner = create_partner(founder=founder, name=spec.name, website=spec.website)
        partners[spec.key] = (partner, _fresh(founder))
    return partners


class ImageCache:
    """Each distinct picture is drawn once, however many listings use it."""

    def __init__(self) -> None:
        self._cache: dict[tuple, bytes] = {}

    def get(self, key: tuple, draw: Callable[[], bytes]) -> bytes:
        if key not in self._cache:
            self._cache[key] = draw()
        return self._cache[key]


def _fill_listing(*, actor, listing: ListingVersion, spec: DemoApp, partner: Partner,
                  images: ImageCache) -> ListingVersion:
    site = partner.website
    link_labels = {"configure": "Open settings", "support": "Help centre",
                   "report-problem": "Report a problem", "uninstall": "How to uninstall"}
    link_paths = {"configure": "/crm/settings", "support": "/support", "report-problem": "/support/new",
                  "uninstall": "/support/uninstall"}
    slug = listing.app.seo_name
    links = {"install": {"url": f"{site}/crm/{slug}/install", "label": spec.green}}
    for kind in spec.extra_links:
        links[kind] = {"url": f"{site}{link_paths[kind]}", "label": link_labels[kind]}
    is_free = spec.price is None
    listing_services.update_listing(
        actor=actor, listing=listing,
        fields={
            "header": spec.header, "about": spec.about, "key_features": list(spec.features),
            "is_free": is_free, "lowest_price_eur": spec.price,
            "price_model": "free" if is_free else spec.price_model,
            "startup_cost": spec.startup_cost, "consultancy": spec.consultancy,
            "terms_url": f"{site}/terms", "supported_plans": spec.plans,
            "install_steps": list(spec.steps), "requirements": spec.requirements,
            "meta_description": spec.meta, "keywords": spec.keywords,
        },
        categories=Category.objects.filter(slug__in=spec.categories),
        languages=Language.objects.filter(code__in=spec.languages),
        markets=Market.objects.filter(slug__in=spec.markets),
        links=links,
    )
    icon = images.get(("icon", spec.name), lambda: icon_png(initials(spec.name), spec.color))
    for kind, label in ((ImageKind.HOME_ICON, "icon"), (ImageKind.DETAIL_ICON, "logo")):
        listing_services.add_image(actor=actor, listing=listing, kind=kind,
                                   upload=ContentFile(icon, name=f"{slug}-{label}.png"),
                                   alt_text=f"{spec.name} {label}")
    for n, shot in enumerate(spec.shots, start=1):
        png = images.get(("shot", spec.name, n), lambda shot=shot: screenshot_png(
            app_name=spec.name, partner_name=partner.name, color=spec.color, variant=shot.variant,
            title=shot.title, statuses=spec.statuses))
        listing_services.add_image(actor=actor, listing=listing, kind=ImageKind.SCREENSHOT,
                                   upload=ContentFile(png, name=f"{slug}-screenshot-{n}.png"),
                                   alt_text=shot.alt)
    return listing


def _create_app(*, spec: DemoApp, partner: Partner, founder: User, images: ImageCache) -> App:
    extra = {}
    if spec.template == "erp":
        extra = {"erp_endpoint_url": f"{partner.website}/connectors/erp",
                 "quote_endpoint_url": f"{partner.website}/connectors/quote"}
    elif spec.template == "web":
        extra = {"redirect_urls": f"{partner.website}/crm/callback"}
    app = app_services.create_app(actor=founder, partner=partner, name=spec.name, template=spec.template,
                                  **extra)
    listing = app.listing_versions.get()
    _fill_listing(actor=founder, listing=listing, spec=spec, partner=partner, images=images)
    listing_services.request_publish(actor=founder, listing=listing)
    return app


def _ensure_profiles(partners: dict[str, tuple[Partner, User]], staff: User) -> None:
    """Each demo partner's public profile, version 1.0, through the request and review path."""
    colors = {}
    for spec in APPS:
        colors.setdefault(spec.partner, spec.color)
    for key, (partner, founder) in partners.items():
        if partner.profile_versions.exists():
            continue
        version = profile_services.create_profile_version(actor=founder, partner=partner)
        profile_services.update_profile_version(
            actor=founder, version=version,
            description=f"<p>{partner.name} builds apps for the CRM: integrations, add-ons and services "
                        "for sales and service teams, with support from people who know the CRM.</p>",
            meta_description=f"Apps for the CRM by {partner.name}.",
            links=[{"url": partner.website + "/", "alt": f"{partner.name} web site"}])
        logo = icon_png(initials(partner.name), colors.get(key, "#0b5d57"))
        profile_services.set_profile_logo(actor=founder, version=version,
                                          upload=ContentFile(logo, name=f"{key}-logo.png"),
                                          alt_text=f"{partner.name} logo")
        profile_services.request_profile_publish(actor=founder, version=version)
        profile_services.approve_profile(actor=staff, version=version)


CONFIGURED_APP = "Acme ERP"
CONFIGURED_CONSENT = ("Acme ERP reads and updates companies, contacts and sales in your CRM and keeps "
                      "them in step with your Acme ERP invoices and orders.")


def _create_configured_app(partner: Partner, founder: User) -> App:
    """An app not yet in the store, with a configuration per environment: sod published (1.0),
    a publish request for stage waiting for the reviewer, a draft for online."""
    site = "https://erp.acme.example"
    app = app_services.create_app(actor=founder, partner=partner, name=CONFIGURED_APP, template="erp",
                                  erp_endpoint_url=f"{site}/crm/erp-sync",
                                  quote_endpoint_url=f"{site}/crm/quotes")
    endpoints = {
        "state_change": {"url": f"{site}/crm/tenant-state", "enabled": True, "send_error_emails": True},
        "erp_sync": {"url": f"{site}/crm/erp-sync", "enabled": True, "send_error_emails": True},
        "quote": {"url": f"{site}/crm/quotes", "enabled": True, "send_error_emails": False},
    }
    fields = {"endpoints": endpoints, "consent_text": CONFIGURED_CONSENT,
              "redirect_urls": {"all": [f"{site}/crm/callback"], "sod": ["http://localhost:8080/callback"]},
              "post_logout_redirect_urls": {"all": [f"{site}/"]}, "cors_origins": {"all": [site]}}
    stage = configuration_services.create_configuration_version(actor=founder, app=app, environment="stage")
    configuration_services.update_configuration_version(actor=founder, version=stage, **fields)
    configuration_services.publish_configuration(actor=founder, version=stage)
    online = configuration_services.create_configuration_version(actor=founder, app=app,
                                                                 environment="online")
    configuration_services.update_configuration_version(actor=founder, version=online, **fields)
    return app


# ---------------------------------------------------------------- the reference partner service

PARTNER_SERVICE_HOST = "127.0.0.1"
DEFAULT_PARTNER_PORT = 8001
DEFAULT_ERP_PORT = 8002
PLATFORM_NAME = "CRM App Platform"
PARTNER_KEY_DESCRIPTION = "Reference partner service (demo)"


def partner_service_url() -> str:
    """Where ``make run`` serves the reference partner service: 127.0.0.1:$PARTNER_PORT (8001)."""
    raw = (os.environ.get("PARTNER_PORT") or str(DEFAULT_PARTNER_PORT)).strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ImproperlyConfigured(f"PARTNER_PORT must be a port number, not {raw[:20]!r}.")
    return f"http://{PARTNER_SERVICE_HOST}:{int(raw)}"


def partner_settings_path() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "acme.json"


def _serves_partner(version: ConfigurationVersion | None, environment: str, redirect: str, logout: str,
                    consent_text: str, webhook: str | None = None, erp_url: str | None = None) -> bool:
    return (version is not None
            and redirect in version.urls_for("redirect_urls", environment)
            and logout in version.urls_for("post_logout_redirect_urls", environment)
            and SYSTEM_TOKEN_CLAIM in (version.claims or [])
            and (not consent_text or bool(version.consent_text.strip()))
            and (webhook is None or endpoint(version, EndpointKind.STATE_CHANGE) == {
                "url": webhook, "enabled": True, "send_error_emails": False})
            and (erp_url is None or endpoint(version, EndpointKind.ERP_SYNC) == {
                "url": erp_url, "enabled": True, "send_error_emails": False}))


def erp_connector_url() -> str:
    """Where ``make run`` serves the reference ERP connector: 127.0.0.1:$ERP_PORT (8002)."""
    raw = (os.environ.get("ERP_PORT") or str(DEFAULT_ERP_PORT)).strip()
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ImproperlyConfigured(f"ERP_PORT must be a port number, not {raw[:20]!r}.")
    return f"http://{PARTNER_SERVICE_HOST}:{int(raw)}"


def _local_endpoint(url: str, environment: str) -> str | None:
    """``url`` when the endpoint rules accept it (http://127.0.0.1 in sod needs
    ALLOW_PRIVATE_PARTNER_URLS), else None."""
    return url if urlrules.check_endpoint_url(url, environment=environment) is None else None


@transaction.atomic
def register_partner_service(*, app: App, founder: User, staff: User, base_url: str,
                             consent_text: str = "", erp_url: str = "") -> ConfigurationVersion | None:
    """Make the app's live sod configuration serve the reference partner service at ``base_url``.

    When the live version lacks its callback, its post-logout URL, the SystemToken claim or (where
    the endpoint rules allow it) its /webhook as the state change endpoint and ``erp_url`` (the
    reference ERP connector) as the ERP sync endpoint, a new sod version adds
    them (keeping every other entry) and is published; None when nothing was missing. The claim
    is staff-only, so ``staff`` (an App manager) sets it if the copy lacks it.
    Refused (ValidationError, code "open_version") while the app has an open sod draft.
    """
    environment = TENANT_ENVIRONMENT
    redirect, logout = f"{base_url}/callback", f"{base_url}/"
    webhook = _local_endpoint(f"{base_url}/webhook", environment)
    erp_url = _local_endpoint(erp_url, environment) if erp_url else None
    live = live_version(app, Environment.objects.get(code=environment))
    if _serves_partner(live, environment, redirect, logout, consent_text, webhook, erp_url):
        return None
    draft = configuration_services.create_configuration_version(actor=founder, app=app,
                                                                environment=environment)
    fields: dict = {}
    for name, url in (("redirect_urls", redirect), ("post_logout_redirect_urls", logout)):
        lists = {scope: list(entries) for scope, entries in (getattr(draft, name) or {}).items()}
        if url not in draft.urls_for(name, environment):
            # http:// to 127.0.0.1 is accepted in the sod list only.
            lists.setdefault(environment, []).append(url)
        fields[name] = lists
    if consent_text and not draft.consent_text.strip():
        fields["consent_text"] = consent_text
    endpoints = dict(draft.endpoints or {})
    for kind, url in ((EndpointKind.STATE_CHANGE, webhook), (EndpointKind.ERP_SYNC, erp_url)):
        if url is not None:
            endpoints[kind.value] = {"url": url, "enabled": True, "send_error_emails": False}
    if endpoints != (draft.endpoints or {}):
        fields["endpoints"] = endpoints
    draft = configuration_services.update_configuration_version(actor=founder, version=draft, **fields)
    if SYSTEM_TOKEN_CLAIM not in (draft.claims or []):
        draft = configuration_services.update_configuration_version(
            actor=staff, version=draft, claims=[*(draft.claims or []), SYSTEM_TOKEN_CLAIM])
    return configuration_services.publish_configuration(actor=founder, version=draft)


def read_partner_settings(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _credentials_valid(data: dict, client: AppClient) -> bool:
    """The file's secret and private key are the ones the client has now, and neither has expired."""
    now = timezone.now()
    secret = credential_services.secret_of(client)
    certificate = credential_services.certificate_of(client)
    if (secret is None or certificate is None or data.get("client_id") != client.client_id
            or secret.expires_at <= now or certificate.expires_at <= now
            or not isinstance(data.get("client_secret"), str) or not secret.matches(data["client_secret"])):
        return False
    try:
        private = serialization.load_pem_private_key(str(data.get("private_key_pem", "")).encode(),
                                                     password=None)
        return keys.describe(private.public_key()).fingerprint == certificate.fingerprint
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def partner_service_settings(*, app: App, founder: User, path: Path, base_url: str) -> dict | None:
    """The settings the reference partner service needs for the app's sod client, when ``path`` does
    not hold them already; None when it does.

    Credentials the file names and the client still has are kept. Otherwise the client's secret
    and key are deleted and new ones created (the private halves exist only in the returned dict),
    so the caller must write it once the transaction has committed.
    """
    client = AppClient.objects.select_related("environment").get(app=app,
                                                                 environment__code=TENANT_ENVIRONMENT)
    current = read_partner_settings(path)
    wanted = {
        "environment": TENANT_ENVIRONMENT,
        "issuer": f"{settings.SITE_URL}/{TENANT_ENVIRONMENT}",
        "client_id": client.client_id,
        "redirect_uri": f"{base_url}/callback",
        "post_logout_redirect_uri": f"{base_url}/",
        "app_name": app.name,
        "platform_name": PLATFORM_NAME,
    }
    if current is not None and _credentials_valid(current, client):
        data = {**wanted, "client_secret": current["client_secret"],
                "private_key_pem": current["private_key_pem"]}
        return None if data == current else data
    if credential_services.secret_of(client) is not None:
        credential_services.delete_secret(actor=founder, client=client)
    if credential_services.certificate_of(client) is not None:
        credential_services.delete_certificate(actor=founder, client=client)
    _, secret = credential_services.create_secret(actor=founder, client=client)
    _, private_pem, _ = credential_services.generate_certificate(
        actor=founder, client=client, description=PARTNER_KEY_DESCRIPTION,
        expires_at=credential_services.default_expiry())
    return {**wanted, "client_secret": secret, "private_key_pem": private_pem}


def write_partner_settings(path: Path, data: dict) -> None:
    """Write the file readable by its owner only, replacing it in one step (the service reads it
    on every request)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.write("\n")
        os.chmod(temporary, 0o600)  # O_CREAT's mode is narrowed by the umask, never widened; be sure
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _ensure_partner_service(result: DemoResult, partner: Partner, founder: User, staff: User) -> dict | None:
    app = App.objects.filter(partner=partner, name=CONFIGURED_APP).first()
    if app is None:
        result.notes.append(f"{CONFIGURED_APP} does not belong to {partner.name}; the reference partner "
                            "service was not set up.")
        return None
    base_url = partner_service_url()
    try:
        register_partner_service(app=app, founder=founder, staff=staff, base_url=base_url,
                                 consent_text=CONFIGURED_CONSENT, erp_url=erp_connector_url())
    except ValidationError as exc:
        if getattr(exc, "code", None) != "open_version":
            raise
        result.notes.append(f"{CONFIGURED_APP} has an open sod configuration draft, so {base_url}/callback "
                            "was not registered; publish or withdraw the draft and load the demo again.")
    result.partner_settings_path = partner_settings_path()
    return partner_service_settings(app=app, founder=founder, path=result.partner_settings_path,
                                    base_url=base_url)


def load_demo() -> DemoResult:
    """Create whatever part of the demo is missing; never duplicates or changes what exists, except
    Acme ERP's sod registration for the reference partner service when it no longer serves it.

    The one file it writes, the reference partner service's settings, is written after the
    database has committed, so it never names credentials a rolled-back load would have lost.
    """
    with transaction.atomic():
        result, partner_settings = _load_demo()
    if partner_settings is not None and result.partner_settings_path is not None:
        write_partner_settings(result.partner_settings_path, partner_settings)
        result.partner_settings_written = True
    return result


def _load_demo() -> tuple[DemoResult, dict | None]:
    result = DemoResult()
    users = ensure_accounts()
    # The development CRM behind each demo tenant, reached (like any CRM) by command name and HTTP only.
    call_command("ensure_sandbox_resource_servers", stdout=io.StringIO())
    for ctx, _company, _serial in TENANTS:
        call_command("sandbox_seed", TENANT_ENVIRONMENT, ctx, companies=300, stdout=io.StringIO())
    staff = _fresh(users["staff"])
    partners = ensure_partners()
    images = ImageCache()

    for spec in APPS:
        partner, founder = partners[spec.partner]
        if app_services.name_taken(spec.name):
            continue
        app = _create_app(spec=spec, partner=partner, founder=founder, images=images)
        review_services.approve_listing(actor=staff, listing=app.listing_versions.get())
        if not spec.beta:  # a newly listed standard app is beta until staff lift it
            app_services.update_app_settings(actor=staff, app=app, is_beta=False)
        # Demo figures: real installs and featuring are counted and chosen elsewhere.
        App.objects.filter(pk=app.pk).update(install_count=spec.installs)
        if spec.featured:
            app_services.update_app_settings(actor=staff, app=app, is_featured=True)
        if spec.name == DRAFT_OF:
            draft = listing_services.create_listing_version(actor=founder, app=app, label="1.1")
            listing_services.update_listing(actor=founder, listing=draft,
                                            fields={"whats_new": DRAFT_WHATS_NEW})
        result.created_apps.append(spec.name)

    partner, founder = partners[PENDING_APP.partner]
    if not app_services.name_taken(PENDING_APP.name):
        _create_app(spec=PENDING_APP, partner=partner, founder=founder, images=images)
        result.created_apps.append(PENDING_APP.name)

    _ensure_profiles(partners, staff)
    if not app_services.name_taken(CONFIGURED_APP):
        _create_configured_app(*partners["nordvik"])
        result.created_apps.append(CONFIGURED_APP)
    nordvik, nordvik_founder = partners["nordvik"]
    partner_settings = _ensure_partner_service(result, nordvik, _fresh(nordvik_founder), staff)

    result.accounts = [
        (STAFF_EMAIL, "Platform staff, App manager: reviews listings at /review/"),
        (PARTNER_EMAIL, f"Administrator of partner {partners['nordvik'][0].name} (all permissions)"),
    ]
    for ctx, company, _serial in TENANTS:
        host = f"{ctx.lower()}.example.com"
        result.accounts += [
            (f"admin@{host}", f"Tenant administrator of {ctx} ({company}, {TENANT_ENVIRONMENT})"),
            (f"user@{host}", f"Plain member of {ctx}"),
        ]
    result.accounts += [(p.founder_email, f"Administrator of partner {p.name}")
                        for p in PARTNERS if p.founder_email != PARTNER_EMAIL]
    return result, partner_settings
