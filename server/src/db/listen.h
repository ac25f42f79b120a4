/*
 * db/listen — the process's one LISTEN connection. It runs on a thread of its own (blocking poll on one socket harms no
 * event loop) and reconnects with backoff; each notification is handed to a callback on that thread, which fans it out
 * to the workers (see app/app.c).
 */
#ifndef KLIMA_DB_LISTEN_H
#define KLIMA_DB_LISTEN_H

/* Called on the listener thread for each notification; channel and payload are valid only during the call. After each
 * (re)connection it is called once with channel and payload NULL: notifications sent meanwhile were missed. */
typedef void (*db_listen_cb)(const char *channel, const char *payload, void *ctx);

/* Starts the listener thread: connects with conninfo (copied), LISTENs on every channel of the NULL-terminated list
 * (which must stay valid) and calls cb for each notification. Returns 0, or -1 if the thread cannot start. */
int db_listen_start(const char *conninfo, const char *const *channels, db_listen_cb cb, void *ctx);

/* Stops the listener thread and closes its connection. */
void db_listen_stop(void);

#endif
