/*
 * db/listen — LISTEN on a dedicated thread.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/strutil.h"
#include "db/listen.h"

static struct {
    char *conninfo;
    const char *const *channels;
    db_listen_cb cb;
    void *ctx;
    pthread_t thread;
    int stop_pipe[2];
    int running;
} listener;

/* Connects and LISTENs on every channel. Returns the connection or NULL. */
static PGconn *listen_connect(void)
{
    PGconn *pg = PQconnectdb(listener.conninfo);
    char sql[256];

    if (PQstatus(pg) != CONNECTION_OK)
        goto fail;
    for (const char *const *ch = listener.channels; *ch != NULL; ++ch) {
        PGresult *res;
        char *ident = PQescapeIdentifier(pg, *ch, strlen(*ch));
        if (ident == NULL)
            goto fail;
        str_fmt(sql, sizeof(sql), "LISTEN %s", ident);
        PQfreemem(ident);
        res = PQexec(pg, sql);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok)
            goto fail;
    }
    log_info("listening for database notifications");
    return pg;
fail:
    log_debug("LISTEN connection failed: %s", PQerrorMessage(pg));
    PQfinish(pg);
    return NULL;
}

static void *listen_main(void *arg)
{
    PGconn *pg = NULL;
    int backoff_ms = 100;

    while (1) {
        struct pollfd fds[2] = {{listener.stop_pipe[0], POLLIN, 0}, {-1, POLLIN, 0}};
        if (pg == NULL && (pg = listen_connect()) != NULL) {
            backoff_ms = 100;
            /* tell the receivers: whatever was notified while we were away is lost, they resynchronise */
            listener.cb(NULL, NULL, listener.ctx);
        }
        if (pg != NULL)
            fds[1].fd = PQsocket(pg);
        if (poll(fds, 2, pg != NULL ? -1 : backoff_ms) < 0)
            continue;
        if (fds[0].revents != 0)
            break;
        if (pg == NULL) {
            backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
            continue;
        }
        if (fds[1].revents == 0)
            continue;
        if (!PQconsumeInput(pg) || PQstatus(pg) == CONNECTION_BAD) {
            log_warn("LISTEN connection lost: %s", PQerrorMessage(pg));
            PQfinish(pg);
            pg = NULL;
            continue;
        }
        PGnotify *n;
        while ((n = PQnotifies(pg)) != NULL) {
            listener.cb(n->relname, n->extra, listener.ctx);
            PQfreemem(n);
        }
    }
    PQfinish(pg);
    return NULL;
}

int db_listen_start(const char *conninfo, const char *const *channels, db_listen_cb cb, void *ctx)
{
    listener.conninfo = str_dup(conninfo != NULL ? conninfo : "");
    listener.channels = channels;
    listener.cb = cb;
    listener.ctx = ctx;
    if (pipe2(listener.stop_pipe, O_CLOEXEC) != 0)
        return -1;
    if (pthread_create(&listener.thread, NULL, listen_main, NULL) != 0)
        return -1;
    listener.running = 1;
    return 0;
}

void db_listen_stop(void)
{
    if (!listener.running)
        return;
    if (write(listener.stop_pipe[1], "x", 1) != 1)
        log_warn("cannot wake the LISTEN thread");
    pthread_join(listener.thread, NULL);
    close(listener.stop_pipe[0]);
    close(listener.stop_pipe[1]);
    free(listener.conninfo);
    listener.running = 0;
}
