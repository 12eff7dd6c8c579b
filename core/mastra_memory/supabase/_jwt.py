"""Verify a Supabase user's access token, so its claims can become an :class:`AuthContext`.

Over a direct connection PostgreSQL trusts whatever claims it is handed, so only *verified* claims
may reach ``memory.with_auth``. Supabase signs tokens with asymmetric keys published at
``<project>/auth/v1/.well-known/jwks.json`` (ES256 or RS256); projects on the legacy shared secret
use HS256, accepted here only when that secret is configured. Needs PyJWT (extra ``supabase``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._auth import AuthContext
from .._errors import AuthError, InvalidInputError

if TYPE_CHECKING:
    import jwt

__all__ = ["SupabaseJWTVerifier"]

_ASYMMETRIC = ("ES256", "RS256")


def _pyjwt() -> Any:
    try:
        import jwt
    except ImportError as exc:  # the optional extra is missing
        raise ImportError("SupabaseJWTVerifier needs PyJWT: pip install 'mastra-memory[supabase]'") from exc
    return jwt


class SupabaseJWTVerifier:
    """Checks a token's signature (JWKS or the legacy secret), ``exp``, ``aud`` and ``iss``.

    ::

        verifier = SupabaseJWTVerifier(project_url="https://<ref>.supabase.co")
        user_memory = memory.with_auth(verifier.auth_context(token))

    ``project_url`` gives the JWKS address and the expected issuer (``<url>/auth/v1``); either can
    be set on its own. Keys are cached for ``cache_seconds`` (Supabase's edge caches them 10
    minutes; longer slows key revocation) and at most 16 are kept. ``hs256_secret`` turns on the
    legacy shared-secret tokens. Tokens of the ``service_role`` are refused unless
    ``allow_service_role``. The constructor does no I/O; keys are fetched on first use.

    Raises:
        InvalidInputError: neither a JWKS address nor a secret, or no issuer to check.
        ImportError: PyJWT is not installed.
    """

    def __init__(
        self,
        *,
        project_url: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        audience: str = "authenticated",
        hs256_secret: str | None = None,
        allow_service_role: bool = False,
        leeway: float = 30.0,
        cache_seconds: int = 600,
        timeout: float = 5.0,
    ) -> None:
        self._jwt = _pyjwt()
        base = project_url.rstrip("/") if project_url else None
        self.jwks_url = jwks_url or (f"{base}/auth/v1/.well-known/jwks.json" if base else None)
        self.issuer = issuer or (f"{base}/auth/v1" if base else None)
        if self.jwks_url is None and not hs256_secret:
            raise InvalidInputError("give project_url or jwks_url (asymmetric keys), or hs256_secret (legacy)")
        if not self.issuer:
            raise InvalidInputError("give project_url or issuer: a token's iss claim must be checked")
        if not 0 < cache_seconds <= 3600:
            raise InvalidInputError(f"cache_seconds must be in (0, 3600], got {cache_seconds!r}")
        self.audience = audience
        self.allow_service_role = allow_service_role
        self.leeway = leeway
        self._secret = hs256_secret
        self._keys: jwt.PyJWKClient | None = (
            self._jwt.PyJWKClient(
                self.jwks_url,
                cache_jwk_set=True,
                lifespan=cache_seconds,
                cache_keys=False,
                timeout=timeout,
            )
            if self.jwks_url
            else None
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, once signature, algorithm, ``exp``, ``aud`` and ``iss`` check out.

        Raises:
            AuthError: the token is malformed, unsigned (``alg=none``), signed with an algorithm or
                key not allowed, expired, for another audience or issuer, a service-role token
                when not allowed, or the keys could not be fetched.
        """
        jwt = self._jwt
        if not isinstance(token, str) or not token:
            raise AuthError("no token given")
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is malformed: {exc}") from exc
        if alg in _ASYMMETRIC and self._keys is not None:
            try:
                key: Any = self._keys.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientConnectionError as exc:
                raise AuthError(f"could not fetch the signing keys from {self.jwks_url}: {exc}") from exc
            except jwt.PyJWTError as exc:
                raise AuthError(f"the token's signing key is not published: {exc}") from exc
        elif alg == "HS256" and self._secret:
            key = self._secret
        else:  # "none", HS256 without a configured secret, or anything else
            raise AuthError(f"tokens signed with {alg!r} are not accepted here")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],  # exactly the one this key is for: no algorithm confusion
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token was refused: {exc}") from exc
        if claims.get("role") == "service_role" and not self.allow_service_role:
            raise AuthError("a service_role token was refused; pass allow_service_role=True to accept it")
        return claims

    def auth_context(self, token: str) -> AuthContext:
        """Verify ``token`` and make the identity to pass to ``memory.with_auth``.

        Raises:
            AuthError: as :meth:`verify`, or the claims carry no usable role or subject.
        """
        return self.from_claims(self.verify(token))

    def from_claims(self, claims: Mapping[str, Any]) -> AuthContext:
        return AuthContext.from_claims(claims, allow_service_role=self.allow_service_role)
