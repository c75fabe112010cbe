"""Checks for uploaded listing images and partner logos: a real PNG of an allowed size, nothing else."""

import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image

from .models import ImageKind

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ICON_SIZE = (488, 488)
SCREENSHOT_MIN = (1920, 1080)
SCREENSHOT_MAX = (3840, 2160)
INCOMPLETE_MESSAGE = ("The PNG file is incomplete or damaged: its image data cannot be decoded. "
                      "Export or save the image again and upload the new file.")


@dataclass(frozen=True)
class CheckedImage:
    width: int
    height: int


def check_png(upload) -> CheckedImage:
    """A real, readable PNG within the upload and pixel limits; raise ValidationError naming why."""
    if upload.size > settings.MAX_IMAGE_UPLOAD_BYTES:
        limit_mb = settings.MAX_IMAGE_UPLOAD_BYTES // (1024 * 1024)
        raise ValidationError(f"The file is larger than {limit_mb} MB.")
    upload.seek(0)
    head = upload.read(len(PNG_SIGNATURE))
    upload.seek(0)
    if head.lstrip().startswith((b"<svg", b"<?xml")):
        raise ValidationError("SVG images are not accepted; upload a PNG.")
    if head != PNG_SIGNATURE:
        raise ValidationError("The file is not a PNG image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as img:
                if img.format != "PNG":
                    raise ValidationError("The file is not a PNG image.")
                width, height = img.size
                if width * height > settings.MAX_IMAGE_PIXELS:
                    raise ValidationError(
                        f"The image is {width}×{height} pixels, more than this store accepts."
                    )
                img.verify()
            # verify() only checks the chunk structure; decoding every pixel finds image data that
            # is cut short or corrupt. The size was checked above, so decoding is bounded.
            upload.seek(0)
            with Image.open(upload) as img:
                try:
                    img.load()
                except Exception as exc:
                    raise ValidationError(INCOMPLETE_MESSAGE, code="incomplete_png") from exc
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ValidationError("The image is too large to decode safely.") from exc
    except ValidationError:
        raise
    except Exception as exc:  # Pillow raises many types for corrupt files
        raise ValidationError("The PNG file is damaged or cannot be read.") from exc
    finally:
        upload.seek(0)
    return CheckedImage(width=width, height=height)


def check_listing_image(upload, kind: str) -> CheckedImage:
    """Validate an uploaded file for the given image kind; raise ValidationError naming why."""
    checked = check_png(upload)
    width, height = checked.width, checked.height
    if kind in (ImageKind.HOME_ICON, ImageKind.DETAIL_ICON):
        if (width, height) != ICON_SIZE:
            raise ValidationError(f"Icons must be exactly 488×488 pixels; this is {width}×{height}.")
    elif kind == ImageKind.SCREENSHOT:
        if width * 9 != height * 16:
            raise ValidationError(f"Screenshots must be 16:9; this is {width}×{height}.")
        if not (SCREENSHOT_MIN[0] <= width <= SCREENSHOT_MAX[0]):
            raise ValidationError(
                f"Screenshots must be from 1920×1080 up to 3840×2160; this is {width}×{height}."
            )
    else:
        raise ValidationError("Unknown image kind.")
    return checked


def check_partner_logo(upload) -> CheckedImage:
    """A partner logo: a PNG, square, exactly 488×488 pixels."""
    checked = check_png(upload)
    width, height = checked.width, checked.height
    if width != height:
        raise ValidationError(f"The logo must be square; this is {width}×{height}.")
    if (width, height) != ICON_SIZE:
        raise ValidationError(f"The logo must be exactly 488×488 pixels; this is {width}×{height}.")
    return checked
