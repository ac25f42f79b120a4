/*
 * auth/client — rules for registered apps (OAuth clients) shared by the operator's `klimaspejl client add` and the
 * self-service registration endpoint (POST /oauth/register).
 */
#ifndef KLIMA_AUTH_CLIENT_H
#define KLIMA_AUTH_CLIENT_H

/* Whether u may be registered as a redirect URI: absolute https, http only to localhost or a loopback address, or a
 * private-use scheme of a native app (RFC 8252: a reverse domain name with a dot, com.example.app:/cb); never with a
 * fragment, whitespace, quotes or angle brackets. The authorization endpoint then accepts exactly the registered URIs. */
int auth_redirect_uri_valid(const char *u);

#endif
