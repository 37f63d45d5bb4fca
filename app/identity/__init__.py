"""Users, OAuth2 clients, tokens and the login rate limit."""
