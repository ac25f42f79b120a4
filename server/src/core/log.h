/*
 * core/log — leveled log lines to stderr, one line per call, safe from any thread.
 * Never pass an IP address or household id to these functions (DESIGN section 4, "Privacy of requests").
 */
#ifndef KLIMA_CORE_LOG_H
#define KLIMA_CORE_LOG_H

#include "core/config.h"

/* Sets the lowest level that is written (default LOG_LEVEL_INFO). */
void log_set_level(config_log_level_t level);

/* printf-style; a trailing newline is added. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
