"""A real OpenID Connect provider on loopback for the single sign-on tests: ``oidc-provider-mock``.

The mock speaks the authorization code flow and signs ID tokens with its own RSA key, but it
does not check PKCE; :class:`Probe` sits in front of it (a WSGI middleware) to do that, as
Keycloak and Cognito do, and to play the attacker on request: swap the nonce a browser carries
to the provider, or make the token endpoint sign as another issuer.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import oidc_provider_mock
import werkzeug.serving
from authlib.oauth2.rfc7636 import create_s256_code_challenge

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass
class Probe:
    """What the provider saw, and the tricks it plays when told to."""

    app: WSGIApp
    authorizations: list[dict[str, str]] = field(default_factory=list)
    challenges: dict[str, str] = field(default_factory=dict)  # code -> its code_challenge
    verified: int = 0
    nonce_override: str | None = None
    token_host: str | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    def _authorize(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if self.nonce_override is not None and "nonce" in query:
            query["nonce"] = self.nonce_override
            environ["QUERY_STRING"] = urlencode(query)
        if environ["REQUEST_METHOD"] == "GET":
            self.authorizations.append(query)

        def seeing_the_code(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            for name, value in headers:
                if name.lower() == "location":
                    code = parse_qs(urlparse(value).query).get("code")
                    if code:
                        self.challenges[code[0]] = query.get("code_challenge", "")
            return start_response(status, headers, *rest)

        return self.app(environ, seeing_the_code)

    def _token(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        challenge = self.challenges.get(form.get("code", ""))
        verifier = form.get("code_verifier", "")
        if challenge is not None:
            if not verifier or create_s256_code_challenge(verifier) != challenge:
                answer = json.dumps({"error": "invalid_grant", "error_description": "PKCE"})
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [answer.encode()]
            self.verified += 1
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if self.token_host is not None:
            environ["HTTP_HOST"] = self.token_host
        return self.app(environ, start_response)


@dataclass
class RunningProvider:
    url: str
    probe: Probe


@contextlib.contextmanager
def running_provider(users: Sequence[oidc_provider_mock.User]) -> Iterator[RunningProvider]:
    """The mock on a free port of ``localhost`` (another site than the platform's 127.0.0.1)."""
    flask_app = oidc_provider_mock.app(require_nonce=True, user_claims=users)
    probe = Probe(flask_app.wsgi_app)
    flask_app.wsgi_app = probe  # type: ignore[method-assign]
    server = werkzeug.serving.make_server("localhost", 0, flask_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield RunningProvider(f"http://localhost:{server.server_port}", probe)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
