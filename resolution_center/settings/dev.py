"""Local development: needs no environment variables at all."""

from .base import *  # noqa: F401,F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# A receiver on this machine (127.0.0.1) may get webhooks in development.
WEBHOOKS = {**WEBHOOKS, "ALLOW_PRIVATE_URLS": env_bool("WEBHOOKS_ALLOW_PRIVATE_URLS", True)}  # noqa: F405
