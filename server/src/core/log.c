/*
 * core/log — one line per call to stderr; a single write(2) per line keeps lines whole across threads.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static config_log_level_t log_level = LOG_LEVEL_INFO;

void log_set_level(config_log_level_t level)
{
    log_level = level;
}

static void log_write(config_log_level_t level, const char *name, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    size_t n;
    int r;

    if (level > log_level)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ", ts.tv_nsec / 1000000, name);
    if (r > 0)
        n += (size_t)r;
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (r > 0)
        n += (size_t)r;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, n) < 0) {
        /* nowhere left to report it */
    }
}

#define LOG_DEFINE(fn, level, name)                                                                                                \
    void fn(const char *fmt, ...)                                                                                                  \
    {                                                                                                                              \
        va_list ap;                                                                                                                \
        va_start(ap, fmt);                                                                                                         \
        log_write(level, name, fmt, ap);                                                                                           \
        va_end(ap);                                                                                                                \
    }

LOG_DEFINE(log_error, LOG_LEVEL_ERROR, "error")
LOG_DEFINE(log_warn, LOG_LEVEL_WARN, "warn")
LOG_DEFINE(log_info, LOG_LEVEL_INFO, "info")
LOG_DEFINE(log_debug, LOG_LEVEL_DEBUG, "debug")
