/*
 * app/xlsx — the spreadsheet writer thread (the design is in app/xlsx.h).
 *
 * The loop and the thread share one app_xlsx_t under its mutex: the loop posts one command at a time (feed, finish,
 * read a chunk, stop) and waits for its event; the thread posts the event and wakes the loop through an eventfd that
 * the loop watches. Either side may be the last to let go: a reference count frees x.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "app/xlsx.h"
#include "core/log.h"

#define XLSX_CHUNK (64 * 1024)

typedef enum xlsx_cmd { CMD_NONE, CMD_FEED, CMD_FINISH, CMD_READ } xlsx_cmd_t;

struct app_xlsx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;           /* the loop's and the thread's */
    int loop_gone;      /* app_xlsx_cancel ran: no more events, efd is closed */
    xlsx_cmd_t cmd;     /* the command waiting for the thread */
    int event;          /* the event waiting for the loop (app_xlsx_event_t), or -1 */
    h2o_socket_t *sock; /* the loop's watch on efd */
    int efd;
    void (*cb)(void *ctx, app_xlsx_event_t ev);
    void *ctx;
    /* handed back and forth with the commands: the loop touches them only while the thread waits */
    app_xlsx_writer_t *w;
    char *batch; /* the rows being fed, NUL-terminated */
    size_t batch_len, batch_cap;
    int feed_failed; /* no memory for the batch */
    char *chunk;
    size_t chunk_len;
};

/* --- the thread and the loop --------------------------------------------------------------------------------------- */

static void release(app_xlsx_t *x)
{
    int last;
    pthread_mutex_lock(&x->mu);
    last = --x->refs == 0;
    pthread_mutex_unlock(&x->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    app_xlsx_writer_free(x->w);
    free(x->batch);
    free(x->chunk);
    free(x);
}

/* One command of the thread; 0 or -1 (the writer says why). */
static int run(app_xlsx_t *x, xlsx_cmd_t cmd)
{
    ssize_t n;
    switch (cmd) {
    case CMD_FEED:
        return x->feed_failed ? -1 : app_xlsx_writer_rows(x->w, x->batch, x->batch_len);
    case CMD_FINISH:
        return app_xlsx_writer_close(x->w);
    default:
        if (x->chunk == NULL && (x->chunk = malloc(XLSX_CHUNK)) == NULL)
            return -1;
        n = app_xlsx_writer_read(x->w, x->chunk, XLSX_CHUNK);
        x->chunk_len = n > 0 ? (size_t)n : 0;
        return n < 0 ? -1 : 0;
    }
}

/* Tells the loop that ev happened (unless it let go already). */
static void post(app_xlsx_t *x, app_xlsx_event_t ev)
{
    uint64_t one = 1;
    pthread_mutex_lock(&x->mu);
    if (!x->loop_gone) {
        x->event = (int)ev;
        if (write(x->efd, &one, sizeof(one)) != sizeof(one))
            log_warn("xlsx: waking the event loop failed: %s", strerror(errno));
    }
    pthread_mutex_unlock(&x->mu);
}

static void *xlsx_main(void *arg)
{
    app_xlsx_t *x = arg;
    int failed = app_xlsx_writer_open(x->w) != 0;

    for (;;) {
        xlsx_cmd_t cmd;
        int rc = 0;
        pthread_mutex_lock(&x->mu);
        while (x->cmd == CMD_NONE && !x->loop_gone)
            pthread_cond_wait(&x->cv, &x->mu);
        cmd = x->loop_gone ? CMD_NONE : x->cmd;
        x->cmd = CMD_NONE;
        pthread_mutex_unlock(&x->mu);
        if (cmd == CMD_NONE)
            break;
        if (!failed)
            rc = run(x, cmd);
        failed |= rc != 0;
        post(x, failed ? APP_XLSX_FAILED : cmd == CMD_FEED ? APP_XLSX_FED : cmd == CMD_FINISH ? APP_XLSX_READY : APP_XLSX_CHUNK);
    }
    release(x);
    return NULL;
}

static void on_event(h2o_socket_t *sock, const char *err)
{
    app_xlsx_t *x = sock->data;
    uint64_t n;
    int ev;

    if (read(x->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        log_warn("xlsx: reading the wake-up failed: %s", strerror(errno));
    pthread_mutex_lock(&x->mu);
    ev = x->event;
    x->event = -1;
    pthread_mutex_unlock(&x->mu);
    if (ev >= 0)
        x->cb(x->ctx, (app_xlsx_event_t)ev); /* may cancel: x is not touched after this */
}

app_xlsx_t *app_xlsx_start(h2o_evloop_t *loop, const app_xlsx_book_t *book, void (*cb)(void *ctx, app_xlsx_event_t ev), void *ctx)
{
    app_xlsx_t *x = calloc(1, sizeof(*x));
    pthread_attr_t attr;
    pthread_t tid;
    int rc;

    if (x == NULL)
        return NULL;
    x->efd = -1;
    x->event = -1;
    x->refs = 2;
    x->cb = cb;
    x->ctx = ctx;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    if ((x->w = app_xlsx_writer_new(book)) == NULL || (x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        log_warn("xlsx: cannot start a workbook for %s (out of memory or descriptors)", book->dataset ? book->dataset : "?");
        if (x->efd >= 0)
            close(x->efd);
        x->refs = 1;
        release(x);
        return NULL;
    }
    x->sock = h2o_evloop_socket_create(loop, x->efd, H2O_SOCKET_FLAG_DONT_READ);
    x->sock->data = x;
    h2o_socket_read_start(x->sock, on_event);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 2 * 1024 * 1024); /* libxlsxwriter and zlib need little; ASan more */
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    rc = pthread_create(&tid, &attr, xlsx_main, x);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        log_warn("xlsx: cannot start a writer thread: %s", strerror(rc));
        x->refs = 1;
        h2o_socket_read_stop(x->sock);
        h2o_socket_close(x->sock);
        release(x);
        return NULL;
    }
    return x;
}

static void command(app_xlsx_t *x, xlsx_cmd_t cmd)
{
    pthread_mutex_lock(&x->mu);
    x->cmd = cmd;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

void app_xlsx_feed(app_xlsx_t *x, const char *data, size_t len)
{
    /* the thread is idle (it posted its last event): the batch is the loop's to replace */
    if (len + 1 > x->batch_cap) {
        char *b = realloc(x->batch, len + 1);
        if (b == NULL) {
            x->feed_failed = 1; /* the command fails: the writer's error stays "unknown", the log says more */
            log_warn("xlsx: no memory for a batch of %zu bytes", len);
            command(x, CMD_FEED);
            return;
        }
        x->batch = b;
        x->batch_cap = len + 1;
    }
    memcpy(x->batch, data, len);
    x->batch[len] = '\0';
    x->batch_len = len;
    command(x, CMD_FEED);
}

void app_xlsx_finish(app_xlsx_t *x)
{
    command(x, CMD_FINISH);
}

void app_xlsx_next_chunk(app_xlsx_t *x)
{
    command(x, CMD_READ);
}

h2o_iovec_t app_xlsx_chunk(app_xlsx_t *x)
{
    return h2o_iovec_init(x->chunk, x->chunk_len);
}

int app_xlsx_more(const app_xlsx_t *x)
{
    return app_xlsx_writer_more(x->w);
}

const char *app_xlsx_last_field(const app_xlsx_t *x, size_t col)
{
    return app_xlsx_writer_last_field(x->w, col);
}

const char *app_xlsx_error(const app_xlsx_t *x)
{
    return x->feed_failed ? "out of memory for a batch of rows" : app_xlsx_writer_error(x->w);
}

void app_xlsx_cancel(app_xlsx_t *x)
{
    if (x == NULL)
        return;
    h2o_socket_read_stop(x->sock);
    pthread_mutex_lock(&x->mu);
    x->loop_gone = 1;
    h2o_socket_close(x->sock); /* closes efd: the thread writes to it only under the lock and while loop_gone is 0 */
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
    release(x);
}
