"""What our JWTs carry besides simplejwt's claims, and the check the API makes of it.

Apart from accounts.services.tokens so that the API's authentication class, which DRF
loads with its settings, imports nothing that imports DRF back.
"""

from __future__ import annotations

from rest_framework_simplejwt.tokens import Token

from accounts.models import User

# The user's session generation when the pair was issued; the access token copies it from
# the refresh token. "Sign out everywhere" bumps the generation, and a bearer token of an
# older one is refused, so it stops at once, not at its expiry.
GENERATION_CLAIM = "session_generation"


def token_generation_current(*, token: Token, user: User) -> bool:
    """Whether a token was issued since the user last signed out everywhere (tokens from
    before the claim existed are generation 0)."""
    return bool(token.get(GENERATION_CLAIM, 0) == user.session_generation)
