/* core/time: civil dates against known day numbers, a round trip over 1600..2400, weekdays, date and date-time text. */
#include "core/time.h"
#include "../test.h"

int main(void)
{
    int y, m, d;
    int64_t day;
    char out[11];

    CHECK_INT(time_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(time_days_from_civil(2000, 3, 1), 11017);
    CHECK_INT(time_days_from_civil(1969, 12, 31), -1);
    CHECK_INT(time_days_from_civil(2024, 2, 29) + 1, time_days_from_civil(2024, 3, 1));
    for (int64_t z = time_days_from_civil(1600, 1, 1); z <= time_days_from_civil(2400, 12, 31); z += 13) {
        time_civil_from_days(z, &y, &m, &d);
        if (time_days_from_civil(y, m, d) != z) {
            CHECK_INT(time_days_from_civil(y, m, d), z);
            break;
        }
    }
    CHECK_INT(time_weekday(0), 4);                                 /* 1970-01-01, a Thursday */
    CHECK_INT(time_weekday(time_days_from_civil(2025, 3, 30)), 0); /* a Sunday (DST starts) */
    CHECK_INT(time_weekday(-1), 3);

    CHECK_INT(time_date_parse("2024-02-29", 10, 1, &day), 0);
    CHECK_INT(day, time_days_from_civil(2024, 2, 29));
    CHECK_INT(time_date_parse("2023-02-29", 10, 1, NULL), -1);
    CHECK_INT(time_date_parse("2025-04-31", 10, 1, NULL), -1);
    CHECK_INT(time_date_parse("2025-13-01", 10, 1, NULL), -1);
    CHECK_INT(time_date_parse("1999-12-31", 10, 2000, NULL), -1); /* before min_year */
    CHECK_INT(time_date_parse("2025-1-01", 9, 1, NULL), -1);
    CHECK_INT(time_date_parse("2025-01-01T", 11, 1, NULL), -1);
    time_date_format(time_days_from_civil(2025, 1, 9), out);
    CHECK_STR(out, "2025-01-09");

    CHECK(time_valid_datetime("2025-01-01", 0));
    CHECK(time_valid_datetime("2025-01-01T00:00Z", 0));
    CHECK(time_valid_datetime("2025-01-01 23:59:59.123456+01:00", 0));
    CHECK(time_valid_datetime("2025-01-01T10:00:00", 1));
    CHECK(!time_valid_datetime("2025-01-01T10:00:00Z", 1)); /* a local time takes no zone */
    CHECK(!time_valid_datetime("2025-01-01T24:00Z", 0));
    CHECK(!time_valid_datetime("2025-01-01T10:00:00.1234567Z", 0));
    CHECK(!time_valid_datetime("2025-01-01T10:00+1:00", 0));
    CHECK(!time_valid_datetime("2025-02-30T10:00Z", 0));
    CHECK(time_mono_ms() > 0);
    return TEST_DONE();
}
