"""Image uploads in the listing editor: Pillow checks shown on the field, nothing stored on error."""

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from appstore.models import ImageKind, ListingImage
from tests.factories import AppFactory, ListingFactory, png_bytes, png_upload, truncated_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(partner_member):
    return ListingFactory(app=AppFactory(partner=partner_member.partner))


def upload_url(listing, kind):
    return reverse("portal:listing_image_add", args=[listing.app_id, listing.pk, kind])


def image_url(image):
    return reverse("portal:listing_image", args=[image.listing.app_id, image.listing_id, image.pk])


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a size, with almost no pixel data (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def post_upload(client, listing, kind, upload, alt="Our logo"):
    return client.post(upload_url(listing, kind), {f"{kind}-image": upload, f"{kind}-alt_text": alt})


def stored_files(settings):
    root = settings.MEDIA_ROOT / "listings"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_icon_upload_is_stored_and_shown_with_alt_text(partner_client, listing, settings):
    response = post_upload(partner_client, listing, "home_icon", png_upload(488, 488, "logo.png"))
    assert response.status_code == 302
    image = listing.images.get()
    assert (image.kind, image.width, image.height, image.alt_text) == ("home_icon", 488, 488, "Our logo")
    html = partner_client.get(reverse("portal:listing", args=[listing.app_id, listing.pk])).content.decode()
    assert f'src="{image.image.url}" alt="Our logo"' in html
    assert len(stored_files(settings)) == 1


@pytest.mark.parametrize(("kind", "content", "name", "message"), [
    ("home_icon", png_bytes(500, 500), "icon.png", "exactly 488×488"),
    ("screenshot", png_bytes(1920, 1200), "shot.png", "16:9"),
    ("screenshot", png_bytes(1280, 720), "small.png", "1920×1080 up to 3840×2160"),
    ("detail_icon", b"GIF89a" + b"\x00" * 200, "icon.png", "not a PNG"),
    ("detail_icon", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', "icon.svg", "SVG"),
    ("screenshot", png_claiming(30000, 30000), "bomb.png", "too large to decode safely"),
    ("home_icon", b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "broken.png", "damaged"),
    # A valid 488×488 header whose pixel data is cut short: only a full decode finds it.
    ("home_icon", truncated_png(488, 488), "cut.png", "incomplete or damaged"),
    ("detail_icon", png_bytes(488, 488)[:-400] + png_bytes(488, 488)[-12:], "cut.png", "damaged"),
])
def test_bad_uploads_are_refused_on_the_image_field(partner_client, listing, settings, kind, content, name,
                                                    message):
    response = post_upload(partner_client, listing, kind,
                           SimpleUploadedFile(name, content, content_type="image/png"), alt="Typed alt")

    assert response.status_code == 200
    upload_form = next(s["form"] for s in response.context["image_sections"] if s["kind"] == kind)
    assert message in " ".join(upload_form.errors["image"])
    html = response.content.decode()
    assert f'id="id_{kind}-image_error"' in html
    assert 'value="Typed alt"' in html  # what was typed is kept
    assert not ListingImage.objects.exists()
    assert stored_files(settings) == []


def test_file_over_the_size_limit_is_refused(partner_client, listing, settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 1024 * 1024
    big = png_bytes(488, 488) + b"\x00" * (1024 * 1024)
    response = post_upload(partner_client, listing, "home_icon", SimpleUploadedFile("big.png", big))
    form = next(s["form"] for s in response.context["image_sections"] if s["kind"] == "home_icon")
    assert "larger than 1 MB" in form.errors["image"][0]
    assert not ListingImage.objects.exists()


def test_alt_text_is_required(partner_client, listing):
    response = post_upload(partner_client, listing, "home_icon", png_upload(488, 488), alt="  ")
    form = next(s["form"] for s in response.context["image_sections"] if s["kind"] == "home_icon")
    assert form.errors["alt_text"]
    assert not ListingImage.objects.exists()


def test_icon_upload_replaces_the_previous_icon(partner_client, listing):
    post_upload(partner_client, listing, "detail_icon", png_upload(488, 488), alt="First")
    post_upload(partner_client, listing, "detail_icon", png_upload(488, 488), alt="Second")
    assert list(listing.images.values_list("alt_text", flat=True)) == ["Second"]


def test_screenshots_move_edit_and_remove(partner_client, listing):
    for alt in ("One", "Two", "Three"):
        post_upload(partner_client, listing, "screenshot", png_upload(1920, 1080), alt=alt)

    def order():
        return list(listing.images.filter(kind=ImageKind.SCREENSHOT).order_by("position")
                    .values_list("alt_text", flat=True))

    assert order() == ["One", "Two", "Three"]
    three = listing.images.get(alt_text="Three")
    partner_client.post(image_url(three), {"action": "up"})
    assert order() == ["One", "Three", "Two"]
    one = listing.images.get(alt_text="One")
    partner_client.post(image_url(one), {"action": "down"})
    assert order() == ["Three", "One", "Two"]

    partner_client.post(image_url(one), {"action": "alt", "alt_text": "Dashboard view"})
    assert order() == ["Three", "Dashboard view", "Two"]
    response = partner_client.post(image_url(one), {"action": "alt", "alt_text": ""}, follow=True)
    assert "Alt text:" in response.content.decode()
    assert order() == ["Three", "Dashboard view", "Two"]

    partner_client.post(image_url(three), {"action": "delete"})
    assert order() == ["Dashboard view", "Two"]
    assert list(listing.images.order_by("position").values_list("position", flat=True)) == [0, 1]


def test_images_of_a_pending_version_cannot_change(partner_client, listing):
    post_upload(partner_client, listing, "home_icon", png_upload(488, 488))
    listing.state = "pending"
    listing.save()
    image = listing.images.get()
    response = partner_client.post(image_url(image), {"action": "delete"}, follow=True)
    assert "cannot be changed" in response.content.decode()
    assert listing.images.count() == 1
    post_upload(partner_client, listing, "screenshot", png_upload(1920, 1080))
    assert listing.images.count() == 1
