/*
 * consent/logout — ending the login session.
 */
#include <string.h>

#include "app/db.h"
#include "app/route.h"
#include "consent/logout.h"
#include "consent/request.h"
#include "consent/session.h"
#include "core/sbuf.h"
#include "http/problem.h"
#include "http/respond.h"

static const char session_end_sql[] = "SELECT api.login_session_end($1::bytea)";

/* 303 back to the authorization request q (it starts at the login now), or 204 when there is none. */
static void logged_out(h2o_req_t *req, const char *q)
{
    if (q != NULL) {
        sbuf_t u = SBUF_INIT(SBUF_CAP_VALUE);
        sbuf_puts(&u, "/oauth/authorize?");
        sbuf_puts(&u, q);
        consent_redirect(req, 303, &u);
        return;
    }
    http_send_bytes(req, 204, "text/plain; charset=utf-8", "", 0);
}

static void on_session_ended(h2o_req_t *req, void *state, db_status_t status, const PGresult *res)
{
    if (!app_db_ok_or_reply(req, status, res, APP_DB_PLAIN))
        return;
    logged_out(req, state);
}

int consent_logout(h2o_req_t *req, const http_match_t *m)
{
    consent_params_t p;
    const char *hash;

    app_cache_control(req, app_route_of(m), NULL);
    if (consent_origin_check_or_reply(req) != 0 || consent_params_of_form_or_reply(req, &p) != 0)
        return 0;
    if (p.v[P_CSRF] != NULL && consent_csrf_check_or_reply(req, &p) != 0)
        return 0;
    if (p.v[P_Q] != NULL && (strlen(p.v[P_Q]) > CONSENT_MAX_BODY || !consent_query_safe(p.v[P_Q]))) {
        http_problem_send(req, HTTP_PROBLEM_INVALID_PARAMETER, "q must be the authorization request's query string.", "q");
        return 0;
    }
    hash = consent_session_hash(req);
    consent_session_clear(req);
    if (hash == NULL) {
        logged_out(req, p.v[P_Q]);
        return 0;
    }
    {
        const char *params[1] = {hash};
        app_db_query(req, session_end_sql, 1, params, on_session_ended, (void *)p.v[P_Q]);
    }
    return 0;
}
