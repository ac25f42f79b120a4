/* http/problem: the table of problem kinds is complete and consistent */
#include "http/problem.h"
#include "../test.h"

int main(void)
{
    for (int i = 0; i < HTTP_PROBLEM__COUNT; ++i) {
        const http_problem_info_t *p = &http_problem_table[i];
        CHECK(p->slug != NULL && p->title != NULL);
        CHECK(p->status >= 400 && p->status <= 599);
        for (int j = 0; j < i; ++j)
            CHECK(strcmp(p->slug, http_problem_table[j].slug) != 0);
    }
    CHECK_INT(http_problem_table[HTTP_PROBLEM_NOT_FOUND].status, 404);
    CHECK_INT(http_problem_table[HTTP_PROBLEM_METHOD_NOT_ALLOWED].status, 405);
    CHECK_INT(http_problem_table[HTTP_PROBLEM_DB_UNAVAILABLE].status, 503);
    CHECK_INT(http_problem_table[HTTP_PROBLEM_INVALID_PARAMETER].status, 400);
    return TEST_DONE();
}
