"""The rule numbers every page may state ("the merchant has 7 days"), read from settings.RESOLUTION
so that a deployment with other durations never shows a stale number."""

from django.conf import settings


def resolution_rules(request) -> dict:
    rules = settings.RESOLUTION
    return {
        "rules": {
            "response_days": rules["RESPONSE_DAYS"],
            "reply_days": rules["REPLY_DAYS"],
            "appeal_days": rules["APPEAL_DAYS"],
            "eligibility_days": rules["ELIGIBILITY_DAYS"],
            "max_info_requests": rules["MAX_INFO_REQUESTS"],
            "max_offers": rules["MAX_OFFERS"],
            "max_files": rules["MAX_FILES_PER_MESSAGE"],
        }
    }
