/*
 * consent/register — dynamic client registration (RFC 7591).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "app/db.h"
#include "app/route.h"
#include "auth/client.h"
#include "auth/keyring.h"
#include "auth/scope.h"
#include "consent/register.h"
#include "core/strutil.h"
#include "http/problem.h"
#include "http/respond.h"

#define REGISTER_MAX_BODY 16384
#define REGISTER_MAX_URIS 20
#define REGISTER_MAX_URI_LEN 2000
#define REGISTER_MAX_CONTACTS 5

static const char register_sql[] =
    "SELECT api.client_register($1::text, $2::text, ARRAY(SELECT json_array_elements_text($3::json)), $4::boolean, $5::bytea, "
    "string_to_array(nullif($6::text, ''), ' '), ARRAY(SELECT json_array_elements_text($7::json)))";

typedef struct register_state {
    json_t *answer; /* the 201 body, without status until the database has spoken */
} register_state_t;

static void register_state_dispose(void *p)
{
    json_decref(((register_state_t *)p)->answer);
}

/* The RFC 7591 error as a problem document: type, title, status, detail and parameter, plus error and
 * error_description for OAuth clients. */
static void metadata_error(h2o_req_t *req, const char *error, const char *field, const char *detail)
{
    json_t *p =
        json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "type", "/docs/problems#invalid-parameter", "title", "Invalid parameter",
                  "status", 400, "detail", detail, "error", error, "error_description", detail, "instance", "/oauth/register");
    if (field != NULL)
        json_object_set_new(p, "parameter", json_string(field));
    http_send_json_as(req, 400, p, JSON_COMPACT, "application/problem+json"); /* takes p */
}

/* Checks an optional array of strings: each of allowed (NULL-terminated), or NULL allowed for any. */
static int string_array_ok(json_t *a, const char *const *allowed, size_t max)
{
    size_t i;
    json_t *v;
    if (a == NULL)
        return 1;
    if (!json_is_array(a) || json_array_size(a) > max)
        return 0;
    json_array_foreach(a, i, v)
    {
        int found = allowed == NULL;
        if (!json_is_string(v))
            return 0;
        for (size_t k = 0; allowed != NULL && allowed[k] != NULL; ++k)
            found |= strcmp(allowed[k], json_string_value(v)) == 0;
        if (!found)
            return 0;
    }
    return 1;
}

/* Checks the metadata; answers the 400 itself and returns -1 on the first fault. *public_client and *scopes (the
 * scope string, "" for none) are set on success. */
static int metadata_ok_or_reply(h2o_req_t *req, json_t *md, int *public_client, const char **scopes)
{
    static const char *const grants[] = {"authorization_code", "refresh_token", NULL}, *const responses[] = {"code", NULL},
                             *const methods[] = {"none", "client_secret_basic", "client_secret_post", NULL};
    json_t *uris = json_object_get(md, "redirect_uris"), *name = json_object_get(md, "client_name"), *v;
    json_t *method = json_object_get(md, "token_endpoint_auth_method"), *scope = json_object_get(md, "scope");
    json_t *contacts = json_object_get(md, "contacts");
    const char *m = "client_secret_basic";
    uint32_t mask = 0;
    size_t i;

    if (!json_is_array(uris) || json_array_size(uris) < 1 || json_array_size(uris) > REGISTER_MAX_URIS) {
        metadata_error(req, "invalid_redirect_uri", "redirect_uris", "redirect_uris is required: an array of 1 to 20 URIs.");
        return -1;
    }
    json_array_foreach(uris, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) > REGISTER_MAX_URI_LEN || !auth_redirect_uri_valid(json_string_value(v))) {
            metadata_error(req, "invalid_redirect_uri", "redirect_uris",
                           "Each redirect URI must be https://..., http://localhost... (or a loopback address), or a private-use "
                           "scheme of a native app (com.example.app:/cb), without a fragment.");
            return -1;
        }
    }
    if (!json_is_string(name) || json_string_length(name) < 1 || json_string_length(name) > 100 ||
        strpbrk(json_string_value(name), "\r\n\t<>") != NULL) {
        metadata_error(req, "invalid_client_metadata", "client_name",
                       "client_name is required: the app's name as citizens will see it, 1 to 100 characters, one line.");
        return -1;
    }
    if (method != NULL) {
        int known = 0;
        for (size_t k = 0; json_is_string(method) && methods[k] != NULL; ++k)
            known |= strcmp(methods[k], json_string_value(method)) == 0;
        if (!known) {
            metadata_error(req, "invalid_client_metadata", "token_endpoint_auth_method",
                           "token_endpoint_auth_method is none (a public app: browser, mobile), client_secret_basic or "
                           "client_secret_post.");
            return -1;
        }
        m = json_string_value(method);
    }
    *public_client = strcmp(m, "none") == 0;
    if (!string_array_ok(json_object_get(md, "grant_types"), grants, 2)) {
        metadata_error(req, "invalid_client_metadata", "grant_types", "grant_types may name authorization_code and refresh_token.");
        return -1;
    }
    if (!string_array_ok(json_object_get(md, "response_types"), responses, 1)) {
        metadata_error(req, "invalid_client_metadata", "response_types", "response_types may name code only.");
        return -1;
    }
    *scopes = "";
    if (scope != NULL) {
        if (!json_is_string(scope) || auth_scope_parse(json_string_value(scope), 1, &mask) != 0 ||
            (mask & auth_scope_bit("consents:manage", 15)) != 0) {
            metadata_error(req, "invalid_client_metadata", "scope",
                           "scope is a space-separated list of summary:read, energy:read, waste:read, mobility:read and "
                           "export:read (each once); leave it out for an open-data app.");
            return -1;
        }
        *scopes = json_string_value(scope);
    }
    if (!string_array_ok(contacts, NULL, REGISTER_MAX_CONTACTS)) {
        metadata_error(req, "invalid_client_metadata", "contacts", "contacts is an array of at most 5 e-mail addresses.");
        return -1;
    }
    json_array_foreach(contacts, i, v)
    {
        if (json_string_length(v) > 200 || strchr(json_string_value(v), '@') == NULL) {
            metadata_error(req, "invalid_client_metadata", "contacts", "contacts is an array of at most 5 e-mail addresses.");
            return -1;
        }
    }
    return 0;
}

static void on_registered(h2o_req_t *req, void *data, db_status_t status, const PGresult *res)
{
    register_state_t *st = data;
    const char *s;
    if (!app_db_row_or_reply(req, status, res))
        return;
    s = PQgetvalue(res, 0, 0);
    if (strcmp(s, "full") == 0) {
        http_add_header(req, "retry-after", "3600");
        http_problem_send(req, HTTP_PROBLEM_BUSY,
                          "Too many registrations wait for an operator's approval; try again later or contact the city.", NULL);
        return;
    }
    json_object_set_new(st->answer, "status", json_string(s));
    json_object_set_new(st->answer, "status_description",
                        json_string(strcmp(s, "active") == 0
                                        ? "Active: the client id may be used at once."
                                        : "Pending: the app asks for personal data; an operator of the city approves it before "
                                          "citizens can be asked for their consent."));
    http_send_json(req, 201, st->answer); /* takes the answer */
    st->answer = NULL;
}

int consent_register(h2o_req_t *req, const http_match_t *m)
{
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    json_t *md;
    json_error_t jerr;
    register_state_t *st;
    int public_client = 1;
    const char *scopes = "";
    char id[40], secret[48], hash_hex[67];

    app_cache_control(req, app_route_of(m), NULL); /* no-store, on errors too */
    if (ct == -1 || !(req->headers.entries[ct].value.len >= 16 &&
                      h2o_lcstris(req->headers.entries[ct].value.base, 16, H2O_STRLIT("application/json")))) {
        http_problem_send(req, HTTP_PROBLEM_UNSUPPORTED_MEDIA_TYPE, "Send the client metadata as application/json (RFC 7591).",
                          NULL);
        return 0;
    }
    if (req->entity.len > REGISTER_MAX_BODY) {
        http_problem_sendf(req, HTTP_PROBLEM_PAYLOAD_TOO_LARGE, NULL, "The metadata may be at most %d bytes.", REGISTER_MAX_BODY);
        return 0;
    }
    /* the rate limit (the route's class, register: KLIMA_RATE_REGISTER) was applied by app/gate.c before this handler */
    md = json_loadb(req->entity.base != NULL ? req->entity.base : "", req->entity.len, JSON_REJECT_DUPLICATES, &jerr);
    st = h2o_mem_alloc_shared(&req->pool, sizeof(*st), register_state_dispose);
    st->answer = NULL;
    if (!json_is_object(md)) {
        json_decref(md);
        metadata_error(req, "invalid_client_metadata", NULL, "The body must be one JSON object of client metadata (RFC 7591).");
        return 0;
    }
    if (metadata_ok_or_reply(req, md, &public_client, &scopes) != 0) {
        json_decref(md);
        return 0;
    }
    if (auth_random_token(12, id, sizeof(id)) != 0 || auth_random_token(32, secret, sizeof(secret)) != 0) {
        json_decref(md);
        http_problem_send(req, HTTP_PROBLEM_INTERNAL, "No randomness for the client id.", NULL);
        return 0;
    }
    auth_sha256_bytea(secret, strlen(secret), hash_hex);
    st->answer = json_pack("{s:s, s:I, s:O, s:O, s:s, s:[s,s], s:[s]}", "client_id", id, "client_id_issued_at",
                           (json_int_t)time(NULL), "client_name", json_object_get(md, "client_name"), "redirect_uris",
                           json_object_get(md, "redirect_uris"), "token_endpoint_auth_method",
                           public_client ? "none"
                                         : (json_is_string(json_object_get(md, "token_endpoint_auth_method"))
                                                ? json_string_value(json_object_get(md, "token_endpoint_auth_method"))
                                                : "client_secret_basic"),
                           "grant_types", "authorization_code", "refresh_token", "response_types", "code");
    if (scopes[0] != '\0')
        json_object_set_new(st->answer, "scope", json_string(scopes));
    json_t *contacts_in = json_object_get(md, "contacts");
    json_object_set_new(st->answer, "contacts", json_is_array(contacts_in) ? json_incref(contacts_in) : json_array());
    if (!public_client) {
        json_object_set_new(st->answer, "client_secret", json_string(secret));
        json_object_set_new(st->answer, "client_secret_expires_at", json_integer(0));
    }
    /* every value in the request's pool: the query may be sent after this function returned */
    char *uris = json_dumps(json_object_get(md, "redirect_uris"), JSON_COMPACT);
    char *contacts = json_dumps(json_object_get(st->answer, "contacts"), JSON_COMPACT);
    const char *params[7] = {h2o_strdup(&req->pool, id, SIZE_MAX).base,
                             h2o_strdup(&req->pool, json_string_value(json_object_get(md, "client_name")), SIZE_MAX).base,
                             h2o_strdup(&req->pool, uris != NULL ? uris : "[]", SIZE_MAX).base,
                             public_client ? "t" : "f",
                             public_client ? NULL : h2o_strdup(&req->pool, hash_hex, SIZE_MAX).base,
                             h2o_strdup(&req->pool, scopes, SIZE_MAX).base,
                             h2o_strdup(&req->pool, contacts != NULL ? contacts : "[]", SIZE_MAX).base};
    free(uris);
    free(contacts);
    json_decref(md);
    app_db_query(req, register_sql, 7, params, on_registered, st);
    return 0;
}
