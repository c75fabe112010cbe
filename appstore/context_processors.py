from .selectors.partners import current_membership
from .selectors.review import pending_request_count


def portal(request) -> dict:
    """Current partner for the header; the review count for App managers."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {"current_membership": current_membership(request),
               "memberships": getattr(request, "_memberships", [])}
    if user.is_app_manager:
        context["review_queue_count"] = pending_request_count()
    return context
