/*
 * core/time — the monotonic clock and the civil calendar (proleptic Gregorian, no time zones), each once. Days are
 * counted from 1970-01-01 (day 0), as PostgreSQL's date - '1970-01-01' would.
 */
#ifndef KLIMA_CORE_TIME_H
#define KLIMA_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in milliseconds and in seconds (for deadlines and rates; never a wall-clock time). */
uint64_t time_mono_ms(void);
double time_mono_s(void);

/* Days since 1970-01-01 of year y, month m (1-12), day d (1-31); and back. Valid for any date a calendar has. */
int64_t time_days_from_civil(int64_t y, int m, int d);
void time_civil_from_days(int64_t days, int *y, int *m, int *d);

/* 0 = Sunday ... 6 = Saturday. */
int time_weekday(int64_t days);

/* Parses exactly "YYYY-MM-DD" (s[0..len), len 10) of a real calendar date (no 2025-02-30) with min_year <= year. Stores
 * the day number in *days when days is not NULL. Returns 0, or -1. */
int time_date_parse(const char *s, size_t len, int min_year, int64_t *days);

/* Writes day `days` as "YYYY-MM-DD" (years 0-9999; 11 bytes with the NUL). */
void time_date_format(int64_t days, char out[11]);

/* Whether s is "YYYY-MM-DD[THH:MM[:SS[.fraction]]]" followed, unless local, by nothing, "Z" or "+HH:MM"/"-HH:MM" (a
 * space may stand for the T). A local time (a wall-clock column without offset) takes no zone. */
int time_valid_datetime(const char *s, int local);

/* What time_datetime_seconds found: a bare date, a date and time without offset, or one with Z or an offset. */
enum { TIME_BARE_DATE, TIME_LOCAL, TIME_INSTANT };

/* Parses a time_valid_datetime(s, 0) value into seconds since 1970-01-01T00:00Z, reading a bare date as its midnight
 * and a time without offset as UTC (the caller decides what they mean; *kind says which it was). Fractions of a second
 * are dropped. Returns 0, or -1 when s is not valid. */
int time_datetime_seconds(const char *s, int64_t *seconds, int *kind);

/* seconds plus whole calendar years (in UTC), 29 February becoming 28 February as in PostgreSQL. */
int64_t time_add_years(int64_t seconds, int years);

#endif
