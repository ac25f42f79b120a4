/*
 * core/time — clocks and calendar arithmetic (Howard Hinnant's days_from_civil / civil_from_days).
 */
#include <string.h>
#include <time.h>

#include "core/strutil.h"
#include "core/time.h"

uint64_t time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

double time_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t time_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void time_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int time_weekday(int64_t days)
{
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    return (int)(w < 0 ? w + 7 : w);
}

int time_date_parse(const char *s, size_t len, int min_year, int64_t *days)
{
    uint64_t y, m, d;
    int64_t z;
    int cy, cm, cd;

    if (len != 10 || s[4] != '-' || s[7] != '-' || str_to_uint(s, 4, min_year > 0 ? (uint64_t)min_year : 0, 9999, &y) != 0 ||
        str_to_uint(s + 5, 2, 1, 12, &m) != 0 || str_to_uint(s + 8, 2, 1, 31, &d) != 0)
        return -1;
    z = time_days_from_civil((int64_t)y, (int)m, (int)d);
    time_civil_from_days(z, &cy, &cm, &cd);
    if ((uint64_t)cm != m || (uint64_t)cd != d) /* 2025-02-30 and friends */
        return -1;
    if (days != NULL)
        *days = z;
    return 0;
}

void time_date_format(int64_t days, char out[11])
{
    int y, m, d;
    time_civil_from_days(days, &y, &m, &d);
    str_fmt(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* The time of day after a date: "THH:MM[:SS[.f]]" at s[10..); returns the index after it, or 0 when malformed. */
static size_t time_of_day_end(const char *s, size_t len)
{
    size_t i = 16;
    uint64_t v;

    if ((s[10] != 'T' && s[10] != ' ') || len < 16 || str_to_uint(s + 11, 2, 0, 23, &v) != 0 || s[13] != ':' ||
        str_to_uint(s + 14, 2, 0, 59, &v) != 0)
        return 0;
    if (i < len && s[i] == ':') {
        if (i + 3 > len || str_to_uint(s + i + 1, 2, 0, 59, &v) != 0)
            return 0;
        i += 3;
        if (i < len && s[i] == '.') {
            size_t j = i + 1;
            while (j < len && s[j] >= '0' && s[j] <= '9')
                ++j;
            if (j == i + 1 || j - i > 7)
                return 0;
            i = j;
        }
    }
    return i;
}

int time_valid_datetime(const char *s, int local)
{
    size_t len = strlen(s), i;
    uint64_t v;

    if (len < 10 || time_date_parse(s, 10, 1, NULL) != 0)
        return 0;
    if (len == 10)
        return 1;
    if ((i = time_of_day_end(s, len)) == 0)
        return 0;
    if (i == len)
        return 1;
    if (local)
        return 0;
    if (s[i] == 'Z' && i + 1 == len)
        return 1;
    return (s[i] == '+' || s[i] == '-') && i + 6 == len && str_to_uint(s + i + 1, 2, 0, 14, &v) == 0 && s[i + 3] == ':' &&
           str_to_uint(s + i + 4, 2, 0, 59, &v) == 0;
}

int time_datetime_seconds(const char *s, int64_t *seconds, int *kind)
{
    size_t len = strlen(s), i;
    int64_t days, sec = 0;
    uint64_t hh, mm, ss = 0;

    if (!time_valid_datetime(s, 0) || time_date_parse(s, 10, 1, &days) != 0)
        return -1;
    *kind = TIME_BARE_DATE;
    if (len > 10) {
        i = time_of_day_end(s, len);
        str_to_uint(s + 11, 2, 0, 23, &hh);
        str_to_uint(s + 14, 2, 0, 59, &mm);
        if (i >= 19)
            str_to_uint(s + 17, 2, 0, 59, &ss);
        sec = (int64_t)(hh * 3600 + mm * 60 + ss); /* a fraction of a second does not matter to a range check */
        *kind = TIME_LOCAL;
        if (i < len) {
            *kind = TIME_INSTANT;
            if (s[i] != 'Z') {
                uint64_t oh, om;
                str_to_uint(s + i + 1, 2, 0, 14, &oh);
                str_to_uint(s + i + 4, 2, 0, 59, &om);
                sec -= (s[i] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
            }
        }
    }
    *seconds = days * 86400 + sec;
    return 0;
}

int64_t time_add_years(int64_t seconds, int years)
{
    int64_t days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400), tod = seconds - days * 86400;
    int y, m, d;
    time_civil_from_days(days, &y, &m, &d);
    y += years;
    if (m == 2 && d == 29 && time_days_from_civil(y, 3, 1) - time_days_from_civil(y, 2, 1) == 28)
        d = 28; /* as PostgreSQL: 2024-02-29 + 2 years = 2026-02-28 */
    return time_days_from_civil(y, m, d) * 86400 + tod;
}
